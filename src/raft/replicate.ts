/**
 * The leader's sending side (§5.3, §7): MsgApp within the flow-control
 * window, MsgSnap when a follower is behind the log's start, heartbeats,
 * and MsgTimeoutNow.
 * @module
 */
import type { Raft } from "./raft.ts";
import type { Progress } from "./progress.ts";
import type { Entry, NodeId } from "./types.ts";
import { CompactedError, RaftError } from "./errors.ts";

/**
 * Sends `to` the entries after its `next` (or an empty MsgApp if
 * `sendIfEmpty`, to carry the commit index or probe). Falls back to a
 * snapshot when the entries are compacted. Returns true if sent.
 */
export function maybeSendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = r.trk.progress.get(to);
  if (!pr || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  let prevTerm: number;
  let ents: Entry[] = [];
  try {
    prevTerm = r.raftLog.term(prevIndex);
    // A full window still sends an empty MsgApp when asked: its ack or
    // reject clears the window if the in-flight messages were lost.
    if (pr.state !== "replicate" || !pr.inflights.full()) {
      ents = r.raftLog.entries(pr.next, r.cfg.maxSizePerMsg);
    }
  } catch (e) {
    if (e instanceof CompactedError) return maybeSendSnapshot(r, to, pr);
    if (e instanceof RaftError) return false;
    throw e;
  }
  if (ents.length === 0 && !sendIfEmpty) return false;
  r.send({
    type: "app",
    from: r.id,
    to,
    term: r.term,
    logTerm: prevTerm,
    index: prevIndex,
    entries: ents,
    commit: r.raftLog.committed,
  });
  pr.sentEntries(ents.length, prevIndex + ents.length, r.raftLog.committed);
  return true;
}

/** Sends an append (possibly empty) to `to`. */
export function sendAppend(r: Raft, to: NodeId): void {
  maybeSendAppend(r, to, true);
}

/**
 * §7: `to` needs entries the log no longer has. Sends storage's snapshot if
 * it covers the gap (index >= firstIndex - 1); otherwise keeps probing.
 * Only to a recently active follower: a snapshot is expensive.
 */
function maybeSendSnapshot(r: Raft, to: NodeId, pr: Progress): boolean {
  if (!pr.recentActive) return false;
  let snapshot;
  try {
    snapshot = r.raftLog.snapshot();
  } catch (e) {
    if (e instanceof RaftError) return false;
    throw e;
  }
  const { index } = snapshot.meta;
  if (index === 0 || index < r.raftLog.firstIndex() - 1) return false;
  pr.becomeSnapshot(index);
  r.send({ type: "snap", from: r.id, to, term: r.term, snapshot });
  return true;
}

/**
 * Sends new entries to every peer, streaming while each window allows;
 * with `sendIfEmpty` every peer gets at least an empty MsgApp (commit).
 */
export function bcastAppend(r: Raft, sendIfEmpty: boolean): void {
  for (const id of r.trk.members()) {
    if (id === r.id) continue;
    if (sendIfEmpty) maybeSendAppend(r, id, true);
    while (maybeSendAppend(r, id, false)) { /* stream */ }
  }
}

/**
 * Heartbeat to `to`. The commit index sent is `min(match, committed)`: the
 * follower may not have the leader's entries beyond `match` yet.
 */
export function sendHeartbeat(r: Raft, to: NodeId, context: string): void {
  const pr = r.trk.progress.get(to);
  if (!pr) return;
  r.send({
    type: "heartbeat",
    from: r.id,
    to,
    term: r.term,
    commit: Math.min(pr.match, r.raftLog.committed),
    context,
  });
}

/**
 * Heartbeats to every peer, carrying `context` (a ReadIndex round) or else
 * the newest unconfirmed round so that a lost round still completes.
 */
export function bcastHeartbeat(r: Raft, context?: string): void {
  const ctx = context ?? r.readOnly.lastRound();
  for (const id of r.trk.members()) {
    if (id !== r.id) sendHeartbeat(r, id, ctx);
  }
}

/** Leader transfer: `to` is caught up; tell it to campaign now. */
export function sendTimeoutNow(r: Raft, to: NodeId): void {
  r.send({ type: "timeoutNow", from: r.id, to, term: r.term });
}

/**
 * A MsgSnap may be lost: after two election timeouts without an ack the
 * follower goes back to probing, which sends a new snapshot if still needed.
 */
export function tickSnapshots(r: Raft): void {
  for (const pr of r.trk.progress.values()) {
    if (pr.state !== "snapshot") continue;
    if (++pr.snapshotTicks >= 2 * r.cfg.electionTick) pr.becomeProbe();
  }
}
