/**
 * Basic value types of the consensus core (Raft paper Figure 2).
 * @module
 */

/** A node's id: `[a-z0-9-]{1,32}`. The empty string means "none". */
export type NodeId = string;
/** Sentinel for "no node" (no vote, no leader). */
export const NONE: NodeId = "";

/** Entry kinds: client data, or a membership change (§4, single-server). */
export type EntryType = "normal" | "conf";

/**
 * A log entry. `data` is opaque to the core except for `conf` entries, whose
 * data is an encoded {@link ConfChange} (see `conf_change.ts`). An empty
 * `normal` entry is the leader's no-op (§5.4.2, §8).
 */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: string;
}

/** What must survive a crash besides the log (Figure 2 "persistent state"). */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

/** Membership: voters and learners (learners receive the log, never vote). */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** A single-server membership change carried by a `conf` entry (§4.1). */
export interface ConfChange {
  readonly type: "addVoter" | "addLearner" | "remove";
  readonly nodeId: NodeId;
  /** Opaque to the core; the node stores the peer URL here. */
  readonly context: string;
}

/** Describes a snapshot: the state machine up to and including `index` (§7). */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

/**
 * A snapshot as the core sees it. `data` is opaque: the node may leave it
 * empty and stream the state machine out of band (the transport does so).
 */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: string;
}

export type StateRole = "follower" | "candidate" | "precandidate" | "leader";

/** Volatile state the node may observe; not persisted. */
export interface SoftState {
  readonly lead: NodeId;
  readonly role: StateRole;
}

/** A linearizable read that became ready: `index` must be applied first. */
export interface ReadState {
  readonly index: number;
  readonly context: string;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
}
