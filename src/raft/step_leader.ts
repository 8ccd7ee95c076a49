/**
 * Leader role (Figure 2 "Leaders"): track replication from acks and
 * rejections, commit (§5.3, §5.4.2), confirm reads (thesis §6.4), and
 * accept proposals.
 * @module
 */
import type { Raft } from "./raft.ts";
import type { Message, MsgAppResp, MsgHeartbeatResp } from "./messages.ts";
import type { Progress } from "./progress.ts";
import type { ReadRequest } from "./read_only.ts";
import type { Entry, EntryType, NodeId } from "./types.ts";
import { NONE } from "./types.ts";
import { hasQuorum } from "./quorum.ts";
import { ProposalDroppedError } from "./errors.ts";
import {
  bcastAppend,
  bcastHeartbeat,
  maybeSendAppend,
  sendAppend,
  sendTimeoutNow,
} from "./replicate.ts";

/** Handles `m` (term equal to ours) as the leader. */
export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case "appResp":
      return onAppResp(r, m);
    case "heartbeatResp":
      return onHeartbeatResp(r, m);
    case "readIndex":
      if (r.trk.progress.has(m.from)) {
        serveRead(r, { from: m.from, context: m.context });
      }
      return;
    default:
      return; // Election Safety: no other leader sends at our term
  }
}

/**
 * Commits the highest index a majority of voters has durably, if it is of
 * the current term (§5.4.2). Returns true if the commit index moved.
 */
export function maybeCommit(r: Raft): boolean {
  if (!r.raftLog.maybeCommit(r.trk.committed(), r.term)) return false;
  // The first commit of the term: deferred reads may proceed now.
  for (const req of r.readOnly.takeDeferred()) serveRead(r, req);
  return true;
}

function onAppResp(r: Raft, m: MsgAppResp): void {
  const pr = r.trk.progress.get(m.from);
  if (!pr) return;
  pr.markActive();
  if (m.reject) return onReject(r, m, pr);
  if (m.index > r.raftLog.lastIndex()) return; // not an index we sent
  const probeMatched = pr.match === m.index && pr.state === "probe";
  if (!pr.maybeUpdate(m.index) && !probeMatched) return; // stale ack
  if (pr.state === "probe") pr.becomeReplicate();
  else if (pr.state === "snapshot") {
    pr.becomeProbe();
    if (pr.match + 1 >= r.raftLog.firstIndex()) pr.becomeReplicate();
  } else pr.inflights.freeLE(m.index);
  if (m.from === r.id) {
    if (maybeCommit(r)) bcastAppend(r, true);
    return;
  }
  if (maybeCommit(r)) bcastAppend(r, true);
  else if (pr.canBumpCommit(r.raftLog.committed)) sendAppend(r, m.from);
  while (maybeSendAppend(r, m.from, false)) { /* stream */ }
  if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
    sendTimeoutNow(r, m.from);
  }
}

/** Fast back-off: skip every entry the follower's hint rules out. */
function onReject(r: Raft, m: MsgAppResp, pr: Progress): void {
  let hint = m.rejectHint;
  if (m.logTerm > 0) {
    hint = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
  }
  if (m.rejectHint < pr.match) {
    pr.regress(m.rejectHint);
    sendAppend(r, m.from);
    return;
  }
  if (!pr.maybeDecrTo(m.index, hint)) return;
  if (pr.state === "replicate") pr.becomeProbe();
  sendAppend(r, m.from);
}

function onHeartbeatResp(r: Raft, m: MsgHeartbeatResp): void {
  const pr = r.trk.progress.get(m.from);
  if (!pr) return;
  pr.markActive();
  pr.msgAppFlowPaused = false;
  if (pr.match < r.raftLog.lastIndex() || pr.state === "probe") {
    sendAppend(r, m.from);
  }
  if (m.context === "") return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (!acks || !hasQuorum(r.trk.voters, acks)) return;
  for (const read of r.readOnly.advance(m.context)) {
    respondRead(r, read, read.index);
  }
}

/**
 * ReadIndex (thesis §6.4): a new leader waits for its first commit in the
 * term (its commit index may lag before that); a single voter is its own
 * quorum; otherwise the read joins the next heartbeat round.
 */
export function serveRead(r: Raft, req: ReadRequest): void {
  if (!r.committedInTerm()) return r.readOnly.defer(req);
  if (r.trk.isSingleton() && r.trk.isVoter(r.id)) {
    return respondRead(r, req, r.raftLog.committed);
  }
  r.readOnly.add(req);
}

function respondRead(r: Raft, req: ReadRequest, index: number): void {
  if (req.from === r.id) {
    r.readStates.push({ index, context: req.context });
    return;
  }
  r.send({
    type: "readIndexResp",
    from: r.id,
    to: req.from,
    term: r.term,
    context: req.context,
    index,
    reject: false,
  });
}

/**
 * Appends a proposal at the leader. Throws ProposalDroppedError if this
 * node is not the leader, was removed, or is transferring leadership.
 */
export function propose(
  r: Raft,
  type: EntryType,
  data: string,
): { index: number; term: number } {
  if (r.role !== "leader") throw new ProposalDroppedError("Cannot propose: not the leader");
  if (!r.trk.progress.has(r.id)) {
    throw new ProposalDroppedError("Cannot propose: removed from the cluster");
  }
  if (r.leadTransferee !== NONE) {
    throw new ProposalDroppedError(
      `Cannot propose: leadership transfer to "${r.leadTransferee}" in progress`,
    );
  }
  if (type === "conf") checkConfProposal(r);
  const index = appendEntries(r, [{ type, data }]);
  if (type === "conf") r.pendingConfIndex = index;
  return { index, term: r.term };
}

/**
 * One single-server change at a time (thesis §4.1), and only after the
 * leader committed an entry of its term (thesis §4.1 errata: otherwise two
 * leaders with overlapping changes could break Election Safety).
 */
function checkConfProposal(r: Raft): void {
  if (r.pendingConfIndex > r.raftLog.applied) {
    throw new ProposalDroppedError(
      `Cannot propose conf change: the one at ${r.pendingConfIndex} is not applied yet`,
    );
  }
  if (!r.committedInTerm()) {
    throw new ProposalDroppedError(
      "Cannot propose conf change: no entry of this term is committed yet",
    );
  }
}

/**
 * Leader transfer (thesis §3.10): bring voter `to` up to date, then send it
 * MsgTimeoutNow. Proposals are dropped until it completes or aborts after
 * an election timeout. Ignored unless leader and `to` is another voter.
 */
export function transferLeader(r: Raft, to: NodeId): void {
  if (r.role !== "leader" || to === r.id || !r.trk.isVoter(to)) return;
  if (r.leadTransferee === to) return;
  r.abortLeaderTransfer();
  r.leadTransferee = to;
  const pr = r.trk.progress.get(to);
  if (pr && pr.match === r.raftLog.lastIndex()) sendTimeoutNow(r, to);
  else sendAppend(r, to);
}

/**
 * Appends entries of the current term to the leader's log. They count
 * towards commit only once durable: the self-ack below travels in
 * persistedMessages and is stepped back in on advance() (etcd's
 * storage-append response). The broadcast waits for the next Ready, so
 * proposals made together share MsgApps.
 */
export function appendEntries(
  r: Raft,
  items: readonly { type: EntryType; data: string }[],
): number {
  const first = r.raftLog.lastIndex() + 1;
  const ents: Entry[] = items.map((it, i) => ({
    term: r.term,
    index: first + i,
    type: it.type,
    data: it.data,
  }));
  const li = r.raftLog.append(ents);
  r.send({
    type: "appResp",
    from: r.id,
    to: r.id,
    term: r.term,
    index: li,
    reject: false,
    rejectHint: 0,
    logTerm: 0,
  });
  r.pendingBcast = true;
  return li;
}

/** Leader work deferred to the next Ready: batched appends, read rounds. */
export function flushPending(r: Raft): void {
  if (r.role !== "leader") return;
  if (r.pendingBcast) {
    r.pendingBcast = false;
    bcastAppend(r, false);
  }
  if (r.readOnly.hasUnsent()) {
    bcastHeartbeat(r, r.readOnly.startRound(r.raftLog.committed, r.id));
  }
}

/** True if flushPending() has something to send. */
export function hasPendingFlush(r: Raft): boolean {
  return r.role === "leader" && (r.pendingBcast || r.readOnly.hasUnsent());
}
