/**
 * An in-memory {@link Storage} with the write side the node drives (etcd
 * `MemoryStorage`). The node mirrors Deno KV into it after each durable write.
 * @module
 */
import type { InitialState, Storage } from "./storage.ts";
import type { ConfState, Entry, HardState, Snapshot, SnapshotMeta } from "./types.ts";
import { EMPTY_HARD_STATE } from "./types.ts";
import { CompactedError, SnapshotOutOfDateError, UnavailableError } from "./errors.ts";
import { limitSize } from "./entries.ts";

const EMPTY_CONF: ConfState = { voters: [], learners: [] };

/** Storage kept in memory. Not durable on its own. */
export class MemoryStorage implements Storage {
  #hardState: HardState;
  #snapshot: Snapshot;
  /** Membership as of the applied index, when newer than the snapshot's. */
  #confState: ConfState | null;
  /**
   * Invariant: `#ents[0]` is a dummy entry at the snapshot (compaction)
   * index carrying its term; real entries follow contiguously.
   */
  #ents: Entry[];
  /** Code units of the entries' data (a byte budget for compaction). */
  #units = 0;

  /**
   * @param init.snapshot compaction point and membership (a new cluster
   *   passes `{ index: 0, term: 0, confState: { voters, learners } }`)
   * @param init.confState membership as of `applied`, if newer than the
   *   snapshot's (the node keeps it next to its applied index)
   */
  constructor(
    init?: {
      hardState?: HardState;
      snapshot?: SnapshotMeta;
      entries?: Entry[];
      confState?: ConfState;
    },
  ) {
    const meta = init?.snapshot ??
      { index: 0, term: 0, confState: EMPTY_CONF };
    this.#snapshot = { meta, data: "" };
    this.#ents = [dummy(meta.index, meta.term)];
    this.#hardState = init?.hardState ?? EMPTY_HARD_STATE;
    this.#confState = init?.confState ?? null;
    if (init?.entries && init.entries.length > 0) this.append(init.entries);
  }

  initialState(): InitialState {
    return {
      hardState: this.#hardState,
      confState: this.#confState ?? this.#snapshot.meta.confState,
    };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.#offset();
    if (lo <= offset) throw new CompactedError();
    if (hi > this.lastIndex() + 1) {
      throw new UnavailableError(
        `Cannot read entries [${lo}, ${hi}): last index is ${this.lastIndex()}`,
      );
    }
    if (lo >= hi) return [];
    return limitSize(this.#ents.slice(lo - offset, hi - offset), maxBytes);
  }

  term(i: number): number {
    const offset = this.#offset();
    if (i < offset) throw new CompactedError();
    const e = this.#ents[i - offset];
    if (e === undefined) throw new UnavailableError();
    return e.term;
  }

  firstIndex(): number {
    return this.#offset() + 1;
  }

  lastIndex(): number {
    return this.#offset() + this.#ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** Records the hard state (Figure 2 persistent state). */
  setHardState(hs: HardState): void {
    this.#hardState = hs;
  }

  /** Records the membership as of the applied index (see constructor). */
  setConfState(cs: ConfState): void {
    this.#confState = cs;
  }

  /**
   * Appends `entries`; `entries[0].index` may overwrite a suffix (a new
   * leader's log wins, §5.3). Entries at or below the compaction point are
   * skipped. Throws RangeError if the entries would leave a gap.
   */
  append(entries: readonly Entry[]): void {
    const head = entries[0];
    if (head === undefined) return;
    const first = this.firstIndex();
    const last = head.index + entries.length - 1;
    if (last < first) return;
    const ents = head.index < first ? entries.slice(first - head.index) : entries;
    const at = ents[0]!.index - this.#offset();
    if (at > this.#ents.length) {
      throw new RangeError(
        `Cannot append at index ${ents[0]!.index}: last index is ${this.lastIndex()}`,
      );
    }
    // In place: appends are the hot path and copying the log made each one
    // O(log length). Readers only ever get slices, never #ents itself.
    for (let i = at; i < this.#ents.length; i++) this.#units -= this.#ents[i]!.data.length;
    this.#ents.length = at;
    for (const e of ents) {
      this.#ents.push(e);
      this.#units += e.data.length;
    }
  }

  /**
   * Replaces the whole log with `snap` (§7): the log restarts after
   * `snap.meta.index`, membership comes from `snap.meta.confState`.
   */
  applySnapshot(snap: Snapshot): void {
    if (snap.meta.index < this.#snapshot.meta.index) {
      throw new SnapshotOutOfDateError();
    }
    this.#snapshot = snap;
    this.#confState = null;
    this.#ents = [dummy(snap.meta.index, snap.meta.term)];
    this.#units = 0;
  }

  /**
   * Drops entries up to and including `index`, keeping `term(index)`.
   * A no-op when already compacted that far; RangeError past lastIndex.
   */
  compact(index: number): void {
    const offset = this.#offset();
    if (index <= offset) return;
    if (index > this.lastIndex()) {
      throw new RangeError(
        `Cannot compact to ${index}: last index is ${this.lastIndex()}`,
      );
    }
    const keep = this.#ents[index - offset]!;
    for (let i = 1; i <= index - offset; i++) this.#units -= this.#ents[i]!.data.length;
    this.#ents = [dummy(keep.index, keep.term)].concat(
      this.#ents.slice(index - offset + 1),
    );
  }

  /**
   * Records a snapshot of the state machine at `index` (<= lastIndex) with
   * the membership as of `index`. Does not compact; call `compact` after.
   */
  createSnapshot(index: number, confState: ConfState, data: string): Snapshot {
    if (index < this.#snapshot.meta.index) throw new SnapshotOutOfDateError();
    if (index > this.lastIndex()) {
      throw new RangeError(
        `Cannot snapshot at ${index}: last index is ${this.lastIndex()}`,
      );
    }
    const meta: SnapshotMeta = { index, term: this.term(index), confState };
    this.#snapshot = { meta, data };
    return this.#snapshot;
  }

  /** Code units of the data of the entries held. */
  dataUnits(): number {
    return this.#units;
  }

  /**
   * The highest index <= `upTo` whose later entries hold at most `units`
   * code units of data (where to compact to keep the log within a budget).
   */
  compactionPointFor(units: number, upTo: number): number {
    const offset = this.#offset();
    let kept = 0;
    let i = this.#ents.length - 1;
    for (; i > 0; i--) {
      kept += this.#ents[i]!.data.length;
      if (kept > units) break;
    }
    return Math.min(upTo, offset + i);
  }

  #offset(): number {
    return this.#ents[0]!.index;
  }
}

function dummy(index: number, term: number): Entry {
  return { index, term, type: "normal", data: "" };
}
