/**
 * Leader election (§5.2) with pre-vote (thesis §9.6): starting a campaign,
 * answering vote requests (§5.4.1 election restriction), counting votes.
 * @module
 */
import type { Raft } from "./raft.ts";
import type { MsgVote, MsgVoteResp } from "./messages.ts";
import type { VoteResult } from "./quorum.ts";
import { NONE } from "./types.ts";
import { hasUnappliedConfChanges } from "./membership.ts";

/**
 * - `preElection`: pre-vote first; the term is bumped only if a majority
 *   would grant the real vote;
 * - `election`: bump the term and request votes;
 * - `transfer`: like `election`, flagged so voters ignore leader stickiness
 *   (the leader asked us to take over, thesis §3.10).
 */
export type CampaignKind = "preElection" | "election" | "transfer";

/**
 * Starts a campaign unless this node is the leader, may not campaign
 * (learner, removed, snapshot pending), or has a committed conf change it
 * has not applied yet (its membership would be stale).
 */
export function hup(r: Raft, kind: CampaignKind): void {
  if (r.role === "leader" || !r.promotable()) return;
  if (hasUnappliedConfChanges(r)) return;
  campaign(r, kind);
}

/**
 * Becomes (pre-)candidate and asks every voter. The vote for itself is a
 * message to itself that is stepped back in once the new term and vote are
 * durable (advance()), so a candidate never counts a vote it could forget.
 */
export function campaign(r: Raft, kind: CampaignKind): void {
  if (!r.promotable()) return;
  const pre = kind === "preElection";
  if (pre) r.becomePreCandidate();
  else r.becomeCandidate();
  const term = pre ? r.term + 1 : r.term;
  const last = r.raftLog.lastEntryId();
  for (const id of r.trk.voters) {
    if (id === r.id) {
      const type = pre ? "preVoteResp" : "voteResp";
      r.send({ type, from: r.id, to: r.id, term, reject: false });
      continue;
    }
    r.send({
      type: pre ? "preVote" : "vote",
      from: r.id,
      to: id,
      term,
      index: last.index,
      logTerm: last.term,
      transfer: kind === "transfer",
    });
  }
}

/**
 * Answers a vote or pre-vote request at a term >= ours (the term rules ran
 * already). Grant if we may vote for the sender — we voted for it already,
 * or have neither voted nor a leader this term, or it is a pre-vote for a
 * later term — and its log is at least as up-to-date as ours (§5.4.1).
 */
export function handleVoteRequest(r: Raft, m: MsgVote): void {
  const canVote = r.vote === m.from ||
    (r.vote === NONE && r.lead === NONE) ||
    (m.type === "preVote" && m.term > r.term);
  const type = m.type === "vote" ? "voteResp" : "preVoteResp";
  if (canVote && r.raftLog.isUpToDate(m.index, m.logTerm)) {
    // A granted response carries the requested term (for pre-vote, the
    // future term), so the candidate counts it.
    r.send({ type, from: r.id, to: m.from, term: m.term, reject: false });
    if (m.type === "vote") {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
    return;
  }
  const commit = r.raftLog.committed;
  const commitTerm = r.raftLog.termOrZero(commit);
  r.send({ type, from: r.id, to: m.from, term: r.term, reject: true, commit, commitTerm });
}

/**
 * A rejecting voter tells its commit index: if our log holds that entry, it
 * is committed for us too (Log Matching), and applying it may update a stale
 * membership that could otherwise never win an election.
 */
export function learnCommit(r: Raft, m: MsgVoteResp): void {
  const { commit, commitTerm } = m;
  if (!m.reject || commit === undefined || commitTerm === undefined) return;
  if (commit > r.raftLog.committed && r.raftLog.matchTerm(commit, commitTerm)) {
    r.raftLog.commitTo(commit);
  }
}

/** Records a vote and returns the election's state. */
export function poll(r: Raft, from: string, granted: boolean): VoteResult {
  r.trk.recordVote(from, granted);
  return r.trk.tallyVotes();
}
