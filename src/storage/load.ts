/**
 * Boot: loads both engines and reconciles them. The node installs a
 * snapshot into the kv engine first and compacts the raft log after, so a
 * crash in between leaves data ahead of the log: then data's applied point
 * becomes the raft snapshot point and the stale log is discarded (§7).
 * @module
 */
import type { ConfState, Entry, HardState, SnapshotMeta } from "../raft/types.ts";
import type { DataState, KvDataEngine, Membership, RaftEngine } from "./stores.ts";

/** Plain data for `new MemoryStorage(init)` in src/raft. */
export interface RaftInit {
  readonly hardState: HardState;
  readonly snapshot: SnapshotMeta;
  readonly entries: Entry[];
}

/** What the node boots from. */
export interface LoadedNode {
  readonly raft: RaftInit;
  readonly data: DataState;
}

/** Thrown when the engines cannot be reconciled (e.g. data.kv lost). */
export class StorageMismatchError extends Error {
  override name = "StorageMismatchError";
}

/** Options of {@link loadNode}. */
export interface LoadNodeOptions {
  readonly raft: RaftEngine;
  readonly data: KvDataEngine;
  /** Compaction point of a brand-new raft engine (membership from --peers). */
  readonly seed: SnapshotMeta;
}

/**
 * Loads both engines and reconciles them. Invariants of the result:
 * `snapshot.index <= data.appliedIndex <= lastIndex`, the term at the
 * applied index matches, and `snapshot.index <= hardState.commit <= lastIndex`.
 * @throws {StorageMismatchError} when data.kv is behind the compaction point,
 * or raft.kv is empty under applied data.
 */
export async function loadNode(opts: LoadNodeOptions): Promise<LoadedNode> {
  const r = await opts.raft.load(opts.seed);
  const data = await opts.data.load();
  let { snapshot, entries, hardState } = r;
  const applied = data.appliedIndex;
  if (applied > 0 && isEmptyLog(r)) {
    // Not a crash window: every write to data.kv follows a raft.kv write of
    // a term >= 1. Going on would forget this node's vote and the entries
    // it acknowledged (a second vote in a term; a commit lost later).
    throw new StorageMismatchError(
      `Data is applied to ${applied}, but the raft log is empty: raft.kv was lost or ` +
        `replaced; remove this member and add it again with an empty data dir`,
    );
  }
  if (applied < snapshot.index) {
    throw new StorageMismatchError(
      `Data is applied to ${applied}, below the log's compaction point ` +
        `${snapshot.index}: data.kv was lost or replaced`,
    );
  }
  const reconcile = termAt(snapshot, entries, applied) !== data.appliedTerm;
  if (reconcile) {
    snapshot = {
      index: applied,
      term: data.appliedTerm,
      confState: data.membership ? toConfState(data.membership) : snapshot.confState,
    };
    entries = [];
    if (hardState.term < snapshot.term) {
      hardState = { term: snapshot.term, vote: "", commit: hardState.commit };
    }
  }
  const last = snapshot.index + entries.length;
  const commit = Math.min(Math.max(hardState.commit, applied), last);
  if (commit !== hardState.commit) hardState = { ...hardState, commit };
  if (reconcile) await opts.raft.write({ snapshot, entries: [], hardState });
  return { raft: { hardState, snapshot, entries }, data };
}

/** A raft engine as a new data dir has it: no term, no entries, no snapshot. */
function isEmptyLog(r: RaftInit): boolean {
  return r.hardState.term === 0 && r.snapshot.index === 0 && r.entries.length === 0;
}

/** The term of entry `index`, or undefined when the log does not have it. */
function termAt(
  snap: SnapshotMeta,
  entries: readonly Entry[],
  index: number,
): number | undefined {
  if (index === snap.index) return snap.term;
  return entries[index - snap.index - 1]?.term;
}

/** The voter and learner ids of a membership. */
export function toConfState(m: Membership): ConfState {
  return {
    voters: m.voters.map((v) => v.id),
    learners: m.learners.map((l) => l.id),
  };
}
