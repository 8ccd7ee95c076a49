/**
 * Messages between peers: one envelope, a discriminated union on `type`.
 * Responses are messages of their own (they travel as later sends).
 * Local events (tick, propose, campaign) are RawNode methods, not messages.
 * @module
 */
import type { Entry, NodeId, Snapshot } from "./types.ts";

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  /** Sender's term; 0 is only used by local code paths, never on the wire. */
  readonly term: number;
}

/** AppendEntries (§5.3). `logTerm`/`index` identify the entry before `entries`. */
export interface MsgApp extends Envelope {
  readonly type: "app";
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

/**
 * Reply to MsgApp. On success `index` is the last index now matching. On
 * reject `index` is the rejected MsgApp's index and `rejectHint`/`logTerm`
 * give the follower's best guess for fast back-off.
 */
export interface MsgAppResp extends Envelope {
  readonly type: "appResp";
  readonly index: number;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly logTerm: number;
}

/** RequestVote (§5.2) and PreVote (thesis §9.6): `index`/`logTerm` = last entry. */
export interface MsgVote extends Envelope {
  readonly type: "vote" | "preVote";
  readonly index: number;
  readonly logTerm: number;
  /** Set when campaigning after TimeoutNow: bypasses leader stickiness. */
  readonly transfer: boolean;
}

export interface MsgVoteResp extends Envelope {
  readonly type: "voteResp" | "preVoteResp";
  readonly reject: boolean;
  /**
   * On reject: the voter's commit index and that entry's term. A candidate
   * whose log holds that entry learns it is committed, so a committed but
   * unknown conf change cannot leave it campaigning in a stale
   * configuration forever (apply-time membership, etcd issue 12359).
   */
  readonly commit?: number;
  readonly commitTerm?: number;
}

/** Heartbeat; `context` carries a ReadIndex round id (empty for none). */
export interface MsgHeartbeat extends Envelope {
  readonly type: "heartbeat";
  readonly commit: number;
  readonly context: string;
}

export interface MsgHeartbeatResp extends Envelope {
  readonly type: "heartbeatResp";
  readonly context: string;
}

/** InstallSnapshot (§7). The transport may stream `snapshot.data` separately. */
export interface MsgSnap extends Envelope {
  readonly type: "snap";
  readonly snapshot: Snapshot;
}

/** Follower asks the leader for a read index (thesis §6.4). */
export interface MsgReadIndex extends Envelope {
  readonly type: "readIndex";
  readonly context: string;
}

/** Leader's answer; `index` is 0 when the leader cannot serve reads (yet). */
export interface MsgReadIndexResp extends Envelope {
  readonly type: "readIndexResp";
  readonly context: string;
  readonly index: number;
  readonly reject: boolean;
}

/** Leader transfer: the target campaigns at once (thesis §3.10). */
export interface MsgTimeoutNow extends Envelope {
  readonly type: "timeoutNow";
}

export type Message =
  | MsgApp
  | MsgAppResp
  | MsgVote
  | MsgVoteResp
  | MsgHeartbeat
  | MsgHeartbeatResp
  | MsgSnap
  | MsgReadIndex
  | MsgReadIndexResp
  | MsgTimeoutNow;

export type MessageType = Message["type"];

/** Exhaustiveness helper for `switch (m.type)`. */
export function assertNever(x: never): never {
  throw new TypeError(`Unexpected value ${JSON.stringify(x)}`);
}

/** True for replies, which never change a node's term on their own (§5.1). */
export function isResponse(m: Message): boolean {
  switch (m.type) {
    case "appResp":
    case "voteResp":
    case "preVoteResp":
    case "heartbeatResp":
    case "readIndexResp":
      return true;
    case "app":
    case "vote":
    case "preVote":
    case "heartbeat":
    case "snap":
    case "readIndex":
    case "timeoutNow":
      return false;
    default:
      return assertNever(m);
  }
}
