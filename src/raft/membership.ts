/**
 * Applying committed membership changes to a running peer.
 *
 * Deviation from thesis §4.1, which has a server use a configuration as
 * soon as its entry is appended to the log: like etcd raft, a change takes
 * effect when its committed entry is applied, i.e. on advance() of the Ready
 * whose committedEntries carried it. This stays safe because a leader has at
 * most one change pending (proposed, not yet applied) and proposes one only
 * after committing an entry of its own term, so any two configurations in
 * use overlap in a majority; a node with a committed but unapplied change
 * does not campaign (its view of the voters may be stale).
 * @module
 */
import type { Raft } from "./raft.ts";
import type { ConfState, Entry } from "./types.ts";
import { NONE } from "./types.ts";
import { applyConfChange, tryDecodeConfChange } from "./conf_change.ts";
import { bcastAppend } from "./replicate.ts";
import { maybeCommit } from "./step_leader.ts";

/** Applies a committed `conf` entry handed out in a Ready (see module doc). */
export function applyConfEntry(r: Raft, e: Entry): void {
  if (e.index <= r.confIndex) return; // already reflected (snapshot, restart)
  r.confIndex = e.index;
  const cc = tryDecodeConfChange(e.data);
  if (cc) switchToConfig(r, applyConfChange(r.trk.confState(), cc));
}

/**
 * Switches to `cs`. A leader that is no longer a voter broadcasts its
 * commit index and steps down, a candidate stops campaigning; otherwise the quorum may have changed, so it
 * re-evaluates commit and starts replicating to new members.
 */
export function switchToConfig(r: Raft, cs: ConfState): void {
  r.trk.setConf(cs, r.raftLog.lastIndex());
  if (r.role !== "leader") {
    // A candidate that learns it is no longer a voter (a committed demotion
    // learned late, e.g. from a vote reply) must not go on to win.
    if (r.role !== "follower" && !r.trk.isVoter(r.id)) r.becomeFollower(r.term, NONE);
    return;
  }
  if (!r.trk.isVoter(r.id)) {
    bcastAppend(r, true);
    r.becomeFollower(r.term, NONE);
    return;
  }
  if (r.leadTransferee !== NONE && !r.trk.isVoter(r.leadTransferee)) {
    r.abortLeaderTransfer();
  }
  bcastAppend(r, maybeCommit(r));
}

/** True if committed but unapplied entries hold a conf change. */
export function hasUnappliedConfChanges(r: Raft): boolean {
  const log = r.raftLog;
  const lo = Math.max(log.applied + 1, log.firstIndex());
  if (lo > log.committed) return false;
  return log.slice(lo, log.committed + 1, Infinity)
    .some((e) => e.type === "conf");
}
