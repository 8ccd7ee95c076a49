/**
 * When and how far to compact the raft log (§7). The log keeps
 * `snapshotEntries` applied entries plus a margin for followers that lag a
 * little, and is trimmed a step at a time: dropping 10k entries at once took
 * ten Deno KV commits that every write queued behind, and all nodes reach
 * the threshold at about the same index, so their acks stalled together
 * (put p99 70 ms at 900 per step, 30 ms at 300, when every entry had its
 * own row; now the entries of one write share a row).
 * @module
 */

/**
 * Entries dropped per compaction: one Deno KV commit (the entries of one
 * write share a row, so ~60 row deletes under load).
 */
export const COMPACT_STEP = 1000;

/**
 * The index to compact up to, or null when the log is short enough.
 * `durable` is the applied index persisted in the kv engine: nothing above
 * it may go (a restart replays the log from there). `busy` (writes are
 * queued) asks for a whole step or nothing: a node that is never idle
 * under load must still compact, but not one commit per write.
 */
export function compactionTarget(
  durable: number,
  snapshotIndex: number,
  snapshotEntries: number,
  busy = false,
): number | null {
  const keep = Math.min(5000, Math.floor(snapshotEntries / 2));
  const over = durable - snapshotIndex - (snapshotEntries + keep);
  if (over < 0 || (busy && over < COMPACT_STEP)) return null;
  return Math.min(durable - keep, snapshotIndex + COMPACT_STEP);
}

/**
 * Code units of entry data the raft log may hold before it is compacted
 * whatever its entry count: ~64-128 MB, 30-60 entries of 1 MiB values.
 */
export const LOG_UNITS_MAX = 64 * 1024 * 1024;

/** What {@link sizeCompactionTarget} reads of the in-memory log. */
export interface LogSize {
  dataUnits(): number;
  compactionPointFor(units: number, upTo: number): number;
}

/**
 * The index to compact up to for the log's size, or null: big entries keep
 * the log within `maxUnits` of data (it lives in memory; 1,600 overwrites
 * of a 1 MiB value exhausted the heap), down to half of it, a step at a
 * time as by count (a big drop is many commits to wait for).
 */
export function sizeCompactionTarget(
  log: LogSize,
  durable: number,
  snapshotIndex: number,
  maxUnits = LOG_UNITS_MAX,
): number | null {
  if (log.dataUnits() <= maxUnits) return null;
  const point = Math.min(
    log.compactionPointFor(maxUnits / 2, durable),
    snapshotIndex + COMPACT_STEP,
  );
  return point > snapshotIndex ? point : null;
}

/** The farther of the count and size targets, or null when neither asks. */
export function compactionPoint(
  log: LogSize,
  durable: number,
  snapshotIndex: number,
  opts: { snapshotEntries: number; logUnitsMax?: number | undefined },
  busy: boolean,
): number | null {
  const byCount = compactionTarget(durable, snapshotIndex, opts.snapshotEntries, busy);
  const bySize = sizeCompactionTarget(log, durable, snapshotIndex, opts.logUnitsMax);
  return bySize === null ? byCount : Math.max(byCount ?? 0, bySize);
}
