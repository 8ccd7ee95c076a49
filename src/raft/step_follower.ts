/**
 * Follower role (Figure 2 "Followers"): accept AppendEntries, heartbeats
 * and snapshots from the leader of the current term, take over on
 * MsgTimeoutNow, and receive answers to forwarded reads.
 * @module
 */
import type { Raft } from "./raft.ts";
import type { Message, MsgApp, MsgAppResp, MsgHeartbeat, MsgSnap } from "./messages.ts";
import type { NodeId, Snapshot } from "./types.ts";
import { isContiguous } from "./entries.ts";
import { hup } from "./election.ts";

/** Handles `m` (term already equal to ours) as a follower. */
export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case "app":
    case "heartbeat":
    case "snap":
      r.electionElapsed = 0;
      r.leaderContactElapsed = 0;
      r.lead = m.from;
      if (m.type === "app") handleAppendEntries(r, m);
      else if (m.type === "heartbeat") handleHeartbeat(r, m);
      else handleSnapshot(r, m);
      return;
    case "timeoutNow":
      // Thesis §3.10: the leader caught us up and asks us to campaign now,
      // skipping pre-vote and leader stickiness.
      hup(r, "transfer");
      return;
    case "readIndexResp":
      if (!m.reject) r.readStates.push({ index: m.index, context: m.context });
      return;
    default:
      return; // responses and reads meant for a leader: stale or misrouted
  }
}

function sendAppResp(
  r: Raft,
  to: NodeId,
  fields: Pick<MsgAppResp, "index" | "reject" | "rejectHint" | "logTerm">,
): void {
  r.send({ type: "appResp", from: r.id, to, term: r.term, ...fields });
}

const ACK = { reject: false, rejectHint: 0, logTerm: 0 } as const;

/**
 * §5.3 AppendEntries receiver. On a mismatch at `m.index`, reject with a
 * hint for fast back-off: the largest index <= min(m.index, lastIndex)
 * whose term is <= m.logTerm (etcd `findConflictByTerm`), and its term.
 */
export function handleAppendEntries(r: Raft, m: MsgApp): void {
  if (!isContiguous(m.entries, m.index + 1, { min: m.logTerm, max: m.term })) {
    return; // malformed: a correct leader never sends this
  }
  const log = r.raftLog;
  if (m.index < log.committed) {
    // Everything up to committed matches already (Log Matching, §5.3).
    sendAppResp(r, m.from, { index: log.committed, ...ACK });
    return;
  }
  const last = log.maybeAppend({ index: m.index, term: m.logTerm }, m.commit, m.entries);
  if (last !== null) {
    sendAppResp(r, m.from, { index: last, ...ACK });
    return;
  }
  const hint = log.findConflictByTerm(Math.min(m.index, log.lastIndex()), m.logTerm);
  sendAppResp(r, m.from, {
    index: m.index,
    reject: true,
    rejectHint: hint.index,
    logTerm: hint.term,
  });
}

/** Heartbeat: learn the commit index (never beyond our log) and answer. */
export function handleHeartbeat(r: Raft, m: MsgHeartbeat): void {
  const last = r.raftLog.lastIndex();
  r.raftLog.commitTo(Math.min(m.commit, last));
  if (m.commit > last) {
    // The leader believes we hold entries we do not (our log was lost):
    // say where it really ends so the leader probes again (or snapshots).
    sendAppResp(r, m.from, { index: m.commit, reject: true, rejectHint: last, logTerm: 0 });
  }
  r.send({
    type: "heartbeatResp",
    from: r.id,
    to: m.from,
    term: r.term,
    context: m.context,
  });
}

/**
 * §7 InstallSnapshot receiver. The snapshot may be newer than the leader's
 * storage (the node may swap in a fresher one); any index is acceptable.
 */
export function handleSnapshot(r: Raft, m: MsgSnap): void {
  const { index, term } = m.snapshot.meta;
  if (!Number.isSafeInteger(index) || index < 0 || term > m.term) return;
  if (restore(r, m.snapshot)) {
    sendAppResp(r, m.from, { index: r.raftLog.lastIndex(), ...ACK });
  } else {
    sendAppResp(r, m.from, { index: r.raftLog.committed, ...ACK });
  }
}

/**
 * Returns true if the log was reset to `snap`. Not needed when the snapshot
 * is covered by our commit; when our log already has its last entry, only
 * the commit index moves forward.
 */
function restore(r: Raft, snap: Snapshot): boolean {
  const { index, term, confState } = snap.meta;
  const log = r.raftLog;
  if (index <= log.committed) return false;
  if (log.matchTerm(index, term)) {
    log.commitTo(index);
    return false;
  }
  log.restore(snap);
  r.confIndex = index;
  r.trk.setConf(confState, log.lastIndex());
  return true;
}
