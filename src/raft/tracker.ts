/**
 * Membership plus the leader's per-peer {@link Progress} and the votes of the
 * current election (etcd `tracker/tracker.go`, without joint consensus).
 * @module
 */
import type { ConfState, NodeId } from "./types.ts";
import { Progress } from "./progress.ts";
import { committedIndex, hasQuorum, voteResult } from "./quorum.ts";
import type { VoteResult } from "./quorum.ts";

/**
 * Invariants: `voters` and `learners` are sorted and disjoint; `progress`
 * has exactly one entry per member.
 */
export class ProgressTracker {
  voters: readonly NodeId[] = [];
  learners: readonly NodeId[] = [];
  readonly progress: Map<NodeId, Progress> = new Map();
  readonly votes: Map<NodeId, boolean> = new Map();
  readonly maxInflight: number;

  constructor(maxInflight: number) {
    this.maxInflight = maxInflight;
  }

  /** The membership as a ConfState. */
  confState(): ConfState {
    return { voters: this.voters.slice(), learners: this.learners.slice() };
  }

  isVoter(id: NodeId): boolean {
    return this.voters.includes(id);
  }

  /**
   * Switches to membership `cs`. New members start probing at
   * `lastIndex` and count as recently active (so check-quorum does not
   * fire before they could answer, and a snapshot may go out at once);
   * removed members are forgotten.
   */
  setConf(cs: ConfState, lastIndex: number): void {
    const voters = [...new Set(cs.voters)].sort();
    this.voters = voters;
    this.learners = [...new Set(cs.learners)]
      .filter((id) => !voters.includes(id)).sort();
    const members = new Set([...this.voters, ...this.learners]);
    for (const id of [...this.progress.keys()]) {
      if (!members.has(id)) this.progress.delete(id);
    }
    for (const id of members) {
      const isLearner = !voters.includes(id);
      const pr = this.progress.get(id);
      if (pr) {
        pr.isLearner = isLearner;
        continue;
      }
      // Probe at the last entry, so the first MsgApp carries something.
      const fresh = new Progress(Math.max(lastIndex, 1), this.maxInflight, isLearner);
      this.progress.set(id, fresh);
    }
  }

  /**
   * Fresh progress for a new term: nothing known to match, probe from
   * `lastIndex + 1`; `self` matches its own log.
   */
  resetProgress(lastIndex: number, self: NodeId): void {
    for (const [id, pr] of this.progress) {
      const fresh = new Progress(lastIndex + 1, this.maxInflight, pr.isLearner);
      if (id === self) fresh.match = lastIndex;
      this.progress.set(id, fresh);
    }
  }

  /** Members in a stable order: voters, then learners (each sorted). */
  members(): NodeId[] {
    return [...this.voters, ...this.learners];
  }

  /** Highest index replicated on a majority of voters (§5.3). */
  committed(): number {
    return committedIndex(this.voters, (id) => this.progress.get(id)?.match);
  }

  /** True when there is exactly one voter. */
  isSingleton(): boolean {
    return this.voters.length === 1;
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records `id`'s vote; the first answer of a peer wins (duplicates ignored). */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): VoteResult {
    return voteResult(this.voters, this.votes);
  }

  /** Check-quorum: a majority of voters was recently active (thesis §6.2). */
  quorumActive(): boolean {
    const active = new Set<NodeId>();
    for (const [id, pr] of this.progress) if (pr.recentActive) active.add(id);
    return hasQuorum(this.voters, active);
  }
}
