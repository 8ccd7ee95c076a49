/**
 * Majority quorum arithmetic (etcd `quorum/majority.go`), as pure functions.
 * @module
 */
import type { NodeId } from "./types.ts";

/** Outcome of an election or of a quorum round. */
export type VoteResult = "won" | "lost" | "pending";

/** Size of a majority of `n` voters. */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * The highest index acknowledged by a majority of `voters` (§5.3): the
 * `majority(n)`-th largest acked index. Voters without an ack count as 0.
 * An empty voter set commits nothing (0).
 *
 * Selection, not sorting: Hoare's quickselect with a middle pivot, O(n)
 * expected. Checked against a naive sort in `quorum_test.ts`.
 */
export function committedIndex(
  voters: readonly NodeId[],
  acked: (id: NodeId) => number | undefined,
): number {
  const n = voters.length;
  if (n === 0) return 0;
  const xs = voters.map((id) => acked(id) ?? 0);
  // In ascending order, the k-th smallest with k = n - majority(n) has
  // exactly majority(n) values at or above it.
  return selectKth(xs, n - majority(n));
}

/** The k-th smallest (0-based) of `xs`; reorders `xs`. */
function selectKth(xs: number[], k: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  while (lo < hi) {
    const pivot = xs[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (xs[i]! < pivot) i++;
      while (xs[j]! > pivot) j--;
      if (i <= j) {
        const t = xs[i]!;
        xs[i] = xs[j]!;
        xs[j] = t;
        i++;
        j--;
      }
    }
    // Now xs[lo..j] <= pivot <= xs[i..hi] and everything between equals it.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return xs[k]!;
  }
  return xs[k]!;
}

/**
 * Tally of `votes` over `voters` (§5.2): won with a majority of grants, lost
 * once a majority can no longer be reached, else pending. Votes of
 * non-voters are ignored. An empty voter set wins (etcd convention).
 */
export function voteResult(
  voters: readonly NodeId[],
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  if (voters.length === 0) return "won";
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = majority(voters.length);
  if (granted >= q) return "won";
  if (granted + missing >= q) return "pending";
  return "lost";
}

/** True when the members of `acks` include a majority of `voters`. */
export function hasQuorum(
  voters: readonly NodeId[],
  acks: ReadonlySet<NodeId>,
): boolean {
  let n = 0;
  for (const id of voters) if (acks.has(id)) n++;
  return n >= majority(voters.length);
}
