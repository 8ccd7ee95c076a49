/**
 * Forwarded writes on the peer streams (etcd forwards proposals over its
 * raft transport too): a follower sends the client's command to the leader
 * as a `forwards` item and gets its outcome back as a `replies` item, on
 * the streams raft messages use. A full HTTP request per forwarded write
 * (fetch on the follower, a server request on the leader) cost more CPU
 * than the write itself. Validated at the gateway like message batches;
 * the command inside is checked by `decodeCommand` when the leader takes it.
 * @module
 */
import type { KvResult } from "../kv/types.ts";
import { isId, isIdx, isObj, isStr, optional } from "./wire.ts";

/** A client write a follower hands to the leader. */
export interface ForwardRequest {
  /** Unique among the sender's pending forwards. */
  readonly id: number;
  /** The command as entry data (`encodeCommand`). */
  readonly data: string;
  /** The sender's `raftkv.forward` span, to parent the leader's spans. */
  readonly traceparent?: string | undefined;
}

/** Why a forwarded write failed, by engine error name (see `errors.ts`). */
export interface ForwardFailure {
  readonly name: string;
  readonly message: string;
  /** For NotLeaderError: who the leader is now, if known. */
  readonly leaderId?: string | null | undefined;
  readonly leaderUrl?: string | null | undefined;
  /** For NoSpaceError: quota, live and adding (checked where it is rebuilt). */
  readonly space?: readonly unknown[] | undefined;
}

/** The outcome of one forwarded write: a result or a failure. */
export interface ForwardReply {
  readonly id: number;
  readonly index?: number | undefined;
  readonly result?: KvResult | null | undefined;
  readonly error?: ForwardFailure | undefined;
}

/** One frame of forwards and replies from node `from`. */
export interface ForwardFrame {
  readonly region: number;
  readonly from: string;
  readonly forwards?: readonly ForwardRequest[] | undefined;
  readonly replies?: readonly ForwardReply[] | undefined;
}

type Obj = Record<string, unknown>;

const isOptStr = (v: unknown) => v === null || optional(isStr)(v);

function isRequest(v: unknown): boolean {
  return isObj(v) && isIdx(v.id) && isStr(v.data) && optional(isStr)(v.traceparent);
}

function isReply(v: unknown): boolean {
  if (!isObj(v) || !isIdx(v.id)) return false;
  if (v.error !== undefined) {
    const e = v.error;
    return isObj(e) && isStr(e.name) && isStr(e.message) && isOptStr(e.leaderId) &&
      isOptStr(e.leaderUrl);
  }
  // A result is the leader's own KvResult (or null); its shape is trusted
  // like the entries a leader sends.
  return isIdx(v.index) && (v.result === null || (isObj(v.result) && isStr(v.result.type)));
}

/** True when a parsed frame is a forward frame (not a message batch). */
export function isForwardFrame(v: Obj): boolean {
  return "forwards" in v || "replies" in v;
}

/** Validates a parsed forward frame; throws TypeError on anything else. */
export function checkForwardFrame(v: Obj): ForwardFrame {
  const ok = isIdx(v.region) && v.region !== 0 && isId(v.from) &&
    (v.forwards === undefined || (Array.isArray(v.forwards) && v.forwards.every(isRequest))) &&
    (v.replies === undefined || (Array.isArray(v.replies) && v.replies.every(isReply)));
  if (!ok) throw new TypeError("Malformed forward frame");
  return v as unknown as ForwardFrame;
}
