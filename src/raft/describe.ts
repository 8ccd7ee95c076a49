/**
 * Stable one-line text for messages, entries and Readies (etcd
 * `DescribeMessage`): simulator traces and golden tests compare it, so the
 * format changes only deliberately.
 * @module
 */
import type { Message } from "./messages.ts";
import type { Ready } from "./ready.ts";
import type { Entry, HardState, Snapshot } from "./types.ts";
import { assertNever } from "./messages.ts";

const MAX_DATA = 24;

function quote(data: string): string {
  const s = data.length > MAX_DATA ? data.slice(0, MAX_DATA) + "…" : data;
  return JSON.stringify(s);
}

/** `term/index` plus the type and data, e.g. `2/7 normal "put a"`. */
export function describeEntry(e: Entry): string {
  const kind = e.type === "conf" ? " conf" : "";
  return e.data === "" && e.type === "normal"
    ? `${e.term}/${e.index}`
    : `${e.term}/${e.index}${kind} ${quote(e.data)}`;
}

function describeEntries(ents: readonly Entry[]): string {
  return `[${ents.map(describeEntry).join(", ")}]`;
}

function describeSnapshot(s: Snapshot): string {
  const { index, term, confState } = s.meta;
  const learners = confState.learners.length > 0 ? ` learners=${confState.learners.join(",")}` : "";
  return `snap ${term}/${index} voters=${confState.voters.join(",")}${learners}`;
}

function payload(m: Message): string {
  switch (m.type) {
    case "app":
      return `prev=${m.logTerm}/${m.index} commit=${m.commit} ${describeEntries(m.entries)}`;
    case "appResp":
      return m.reject
        ? `rejected index=${m.index} hint=${m.logTerm}/${m.rejectHint}`
        : `index=${m.index}`;
    case "vote":
    case "preVote":
      return `last=${m.logTerm}/${m.index}${m.transfer ? " transfer" : ""}`;
    case "voteResp":
    case "preVoteResp":
      return m.reject ? "rejected" : "granted";
    case "heartbeat":
      return `commit=${m.commit}${m.context ? ` ctx=${quote(m.context)}` : ""}`;
    case "heartbeatResp":
      return m.context ? `ctx=${quote(m.context)}` : "";
    case "snap":
      return describeSnapshot(m.snapshot);
    case "readIndex":
      return `ctx=${quote(m.context)}`;
    case "readIndexResp":
      return `${m.reject ? "rejected " : ""}index=${m.index} ctx=${quote(m.context)}`;
    case "timeoutNow":
      return "";
    default:
      return assertNever(m);
  }
}

/** e.g. `a->b app term=2 prev=1/4 commit=4 [2/5, 2/6 "x"]`. */
export function describeMessage(m: Message): string {
  const rest = payload(m);
  return `${m.from}->${m.to} ${m.type} term=${m.term}${rest ? " " + rest : ""}`;
}

function describeHardState(hs: HardState): string {
  return `term=${hs.term} vote=${hs.vote || "-"} commit=${hs.commit}`;
}

/** All non-empty parts of `rd` on one line, separated by ` | `. */
export function describeReady(rd: Ready): string {
  const parts: string[] = [];
  if (rd.softState) {
    parts.push(`soft ${rd.softState.role} lead=${rd.softState.lead || "-"}`);
  }
  if (rd.hardState) parts.push(`hard ${describeHardState(rd.hardState)}`);
  if (rd.snapshot) parts.push(describeSnapshot(rd.snapshot));
  if (rd.entries.length > 0) parts.push(`entries ${describeEntries(rd.entries)}`);
  if (rd.committedEntries.length > 0) {
    parts.push(`committed ${describeEntries(rd.committedEntries)}`);
  }
  if (rd.messages.length > 0) {
    parts.push(`msgs [${rd.messages.map(describeMessage).join("; ")}]`);
  }
  if (rd.persistedMessages.length > 0) {
    parts.push(`after-persist [${rd.persistedMessages.map(describeMessage).join("; ")}]`);
  }
  if (rd.readStates.length > 0) {
    const rs = rd.readStates.map((s) => `${s.index}:${quote(s.context)}`);
    parts.push(`reads [${rs.join(", ")}]`);
  }
  if (rd.mustSync) parts.push("sync");
  return parts.length > 0 ? parts.join(" | ") : "empty";
}
