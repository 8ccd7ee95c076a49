/** Builders for entries and messages in core tests. */
import type {
  Entry,
  Message,
  MsgApp,
  MsgAppResp,
  MsgHeartbeat,
  MsgVote,
  NodeId,
  Snapshot,
} from "../../../src/raft/mod.ts";

/** An entry with `term` at `index`. */
export function ent(term: number, index: number, data = ""): Entry {
  return { term, index, type: "normal", data };
}

/** Entries at indexes `first, first+1, ...` with the given terms. */
export function ents(first: number, ...terms: number[]): Entry[] {
  return terms.map((t, i) => ent(t, first + i));
}

/** Entries 1..n with the given terms (etcd tests' `index(1).terms(...)`). */
export function log(...terms: number[]): Entry[] {
  return ents(1, ...terms);
}

/** A MsgApp with defaults for everything not given. */
export function app(f: Partial<MsgApp> & { from: NodeId; to: NodeId; term: number }): MsgApp {
  return { type: "app", logTerm: 0, index: 0, entries: [], commit: 0, ...f };
}

export function appResp(
  f: Partial<MsgAppResp> & { from: NodeId; to: NodeId; term: number },
): MsgAppResp {
  return { type: "appResp", index: 0, reject: false, rejectHint: 0, logTerm: 0, ...f };
}

export function vote(
  f: Partial<MsgVote> & { from: NodeId; to: NodeId; term: number },
): MsgVote {
  return { type: "vote", index: 0, logTerm: 0, transfer: false, ...f };
}

export function heartbeat(
  f: Partial<MsgHeartbeat> & { from: NodeId; to: NodeId; term: number },
): MsgHeartbeat {
  return { type: "heartbeat", commit: 0, context: "", ...f };
}

export function snapshot(index: number, term: number, voters: NodeId[]): Snapshot {
  return { meta: { index, term, confState: { voters, learners: [] } }, data: "sm@" + index };
}

/** The message interface whose `type` union includes `T`. */
export type MsgOf<T extends Message["type"]> = Message extends infer M
  ? M extends { type: infer U } ? T extends U ? M : never : never
  : never;

/** Messages of type `t` (narrowed). */
export function ofType<T extends Message["type"]>(
  msgs: readonly Message[],
  t: T,
): MsgOf<T>[] {
  return msgs.filter((m): m is MsgOf<T> => m.type === t);
}
