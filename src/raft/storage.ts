/**
 * The core's read-only view of durable state (etcd raft `Storage`). It is
 * synchronous: the node mirrors Deno KV into a MemoryStorage and the core
 * reads only that.
 * @module
 */
import type { ConfState, Entry, HardState, Snapshot } from "./types.ts";

export interface InitialState {
  readonly hardState: HardState;
  readonly confState: ConfState;
}

export interface Storage {
  initialState(): InitialState;
  /**
   * Entries in [lo, hi), at least one even if over `maxBytes`.
   * Throws CompactedError if lo <= snapshot index; lo..hi must be <= lastIndex+1.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of entry i; valid for snapshot index .. lastIndex. Throws CompactedError below. */
  term(i: number): number;
  /** Index of the first entry still in the log (snapshot index + 1). */
  firstIndex(): number;
  lastIndex(): number;
  /** The latest snapshot (may have empty data: the node streams it out of band). */
  snapshot(): Snapshot;
}
