/**
 * etcd's strict reconfiguration check: a change of the voter set must leave
 * a quorum of the NEW set reachable now. Adding a voter that has not started
 * while one voter is down (2 of 4 up) stalls every write, and the undo, a
 * removal, needs that same quorum: only the down node's return helps.
 * Adding or removing a learner changes no quorum and is not checked;
 * demoting a voter to a learner is (it shrinks the voter set).
 * @module
 */
import { MembershipError } from "./errors.ts";

/**
 * Throws a MembershipError (409) unless a quorum of `voters` (the voter set
 * after the change) is `reachable`. Growing a lone voter to two is allowed,
 * as etcd allows it: that is how a one-node cluster gets a second node.
 */
export function checkQuorumAfter(
  change: string,
  before: readonly string[],
  voters: readonly string[],
  reachable: (id: string) => boolean,
): void {
  if (before.length === 1 && voters.length === 2) return;
  const up = voters.filter(reachable);
  const quorum = Math.floor(voters.length / 2) + 1;
  if (up.length >= quorum) return;
  if (voters.length === 0) {
    throw new MembershipError(`${change} would leave the cluster without a voter`);
  }
  const down = voters.filter((id) => !reachable(id));
  const learner = voters.length > before.length ? ", or add the new member as a learner" : "";
  throw new MembershipError(
    `${change} would leave ${up.length} of ${voters.length} voters reachable, below a quorum of ` +
      `${quorum} (not heard from: ${down.join(", ")}); retry once they are back${learner}`,
  );
}
