/**
 * Candidate and pre-candidate roles (§5.2): count votes; yield to a leader
 * of the current term.
 * @module
 */
import type { Raft } from "./raft.ts";
import type { Message } from "./messages.ts";
import { NONE } from "./types.ts";
import { campaign, poll } from "./election.ts";
import { stepFollower } from "./step_follower.ts";

/** Handles `m` (term rules already applied) as a (pre-)candidate. */
export function stepCandidate(r: Raft, m: Message): void {
  switch (m.type) {
    case "app":
    case "heartbeat":
    case "snap":
      // §5.2: another server established itself as leader for this term.
      r.becomeFollower(m.term, m.from);
      stepFollower(r, m);
      return;
    case "voteResp":
    case "preVoteResp": {
      const mine = r.role === "precandidate" ? "preVoteResp" : "voteResp";
      if (m.type !== mine) return;
      const result = poll(r, m.from, !m.reject);
      if (result === "won") {
        if (r.role === "precandidate") campaign(r, "election");
        else r.becomeLeader();
      } else if (result === "lost") {
        r.becomeFollower(r.term, NONE);
      }
      return;
    }
    default:
      return;
  }
}
