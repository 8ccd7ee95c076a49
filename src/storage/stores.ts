/**
 * The two durable engines of a node, as TiKV splits them: the raft engine
 * (`raft.kv`: log, hard state, snapshot metadata) and the kv engine
 * (`data.kv`: records, applied index, membership). Both are Deno KV.
 * @module
 */
import type { Entry, HardState, SnapshotMeta } from "../raft/types.ts";
import type { KvRecord } from "../kv/types.ts";

/** A member and the URL its peers reach it at. */
export interface Member {
  readonly id: string;
  readonly url: string;
}

/** The committed membership, as of some applied index. */
export interface Membership {
  readonly voters: readonly Member[];
  readonly learners: readonly Member[];
}

/** What the raft engine holds after boot. */
export interface RaftState {
  readonly hardState: HardState;
  /** Compaction point: entries up to `snapshot.index` are gone. */
  readonly snapshot: SnapshotMeta;
  /** Entries after `snapshot.index`, contiguous, in index order. */
  readonly entries: Entry[];
}

/** One Ready's worth of raft-engine changes. */
export interface RaftWrite {
  /** Installed first: entries up to its index are dropped (§7). */
  readonly snapshot: SnapshotMeta | null;
  /** Appended; the first one replaces its index and every later entry. */
  readonly entries: readonly Entry[];
  readonly hardState: HardState | null;
}

/**
 * The raft engine. Calls are serialized by the implementation; a rejected
 * write or compact leaves the engine unusable (reopen it: load() sorts out
 * what reached the disk).
 */
export interface RaftEngine {
  /** Reads everything; on a new data dir returns `seed` (and persists it). */
  load(seed: SnapshotMeta): Promise<RaftState>;
  /**
   * Persists `w` durably. One atomic commit when it fits Deno KV's limits;
   * otherwise split so that a crash between commits leaves a valid prefix of
   * either the old or the new log, and the hard state is written last.
   */
  write(w: RaftWrite): Promise<void>;
  /** Drops entries <= `meta.index` and records `meta` as the compaction point. */
  compact(meta: SnapshotMeta): Promise<void>;
  close(): void;
}

/** The kv engine's state after boot. */
export interface DataState {
  readonly appliedIndex: number;
  readonly appliedTerm: number;
  /** Null on a brand-new data dir (the node seeds it from `--peers`). */
  readonly membership: Membership | null;
  readonly records: KvRecord[];
}

/** One apply batch: the records it changed and the index it reached. */
export interface DataWrite {
  readonly puts: readonly KvRecord[];
  readonly deletes: readonly string[];
  readonly appliedIndex: number;
  readonly appliedTerm: number;
  /** Set when the batch changed membership. */
  readonly membership: Membership | null;
}

/**
 * The kv engine. `DataState.records` come in any order. In a `DataWrite` a
 * key is in at most one of `puts` / `deletes` (the state machine's drain
 * gives the last state per key). A rejected write or install leaves the
 * engine unusable: reopen it, and load() gives the old or the new state.
 */
export interface KvDataEngine {
  load(): Promise<DataState>;
  /**
   * Atomic with respect to crashes: after a restart either all of `w` or none
   * of it is visible, and the applied index matches the data (a redo log
   * covers batches over Deno KV's commit limits).
   */
  write(w: DataWrite): Promise<void>;
  /**
   * Replaces the whole state (a snapshot from the leader, §7): writes a new
   * generation, then switches to it in one commit. `records` may be streamed.
   */
  install(
    state: Omit<DataState, "records">,
    records: AsyncIterable<readonly KvRecord[]>,
  ): Promise<void>;
  /**
   * True when the engine would rather be handed the whole state again
   * (`install` of the current state) than the next write: a log-structured
   * engine compacts that way.
   */
  wantsRewrite?(): boolean;
  close(): void;
}
