/**
 * The Raft state machine of one peer: persistent and volatile state
 * (Figure 2), role transitions, the tick, and the term rules every role
 * shares (§5.1). Role-specific handling lives in `step_leader.ts`,
 * `step_candidate.ts` and `step_follower.ts`; the role is a swapped step
 * function, as in etcd raft.
 * @module
 */
import type { RaftConfig } from "./config.ts";
import { validateConfig } from "./config.ts";
import type { Storage } from "./storage.ts";
import type { Message, MessageType } from "./messages.ts";
import type { HardState, NodeId, ReadState, SoftState, StateRole } from "./types.ts";
import { isEmptyHardState, NONE } from "./types.ts";
import { RaftLog } from "./log.ts";
import { ProgressTracker } from "./tracker.ts";
import { ReadOnly } from "./read_only.ts";
import { RaftError } from "./errors.ts";
import { handleVoteRequest, hup, learnCommit } from "./election.ts";
import { bcastHeartbeat, tickSnapshots } from "./replicate.ts";
import { appendEntries, stepLeader } from "./step_leader.ts";
import { stepCandidate } from "./step_candidate.ts";
import { stepFollower } from "./step_follower.ts";

/** Handles a message at the current term for one role. */
export type StepFn = (r: Raft, m: Message) => void;

/**
 * What a leader may send before its own log write is durable (etcd sends
 * MsgApp in parallel with the leader's fsync, thesis §10.2.1). Everything
 * else waits for persistence (Ready.persistedMessages).
 */
const LEADER_TRAFFIC: ReadonlySet<MessageType> = new Set<MessageType>([
  "app",
  "heartbeat",
  "snap",
  "timeoutNow",
  "readIndexResp",
  "heartbeatResp",
]);

/** One Raft peer. Driven only through {@link RawNode}. */
export class Raft {
  readonly id: NodeId;
  readonly cfg: RaftConfig;
  readonly raftLog: RaftLog;
  readonly trk: ProgressTracker;
  readonly readOnly: ReadOnly = new ReadOnly();
  /** Figure 2 currentTerm. Invariant: never decreases. */
  term = 0;
  /** Figure 2 votedFor (in `term`). */
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role: StateRole = "follower";
  /** Index of the entry or snapshot the current membership reflects. */
  confIndex = 0;
  /** Leader: index of its last conf entry; no new one until it is applied. */
  pendingConfIndex = 0;
  leadTransferee: NodeId = NONE;
  transferElapsed = 0;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  /** Ticks since a leader was last heard from (leader stickiness lease). */
  leaderContactElapsed: number;
  /** Leader: entries were appended since the last Ready; broadcast them. */
  pendingBcast = false;
  readStates: ReadState[] = [];
  /** Messages that may leave before the next Ready is durable. */
  msgs: Message[] = [];
  /** Messages that must wait until the next Ready is durable. */
  msgsAfterAppend: Message[] = [];
  #step: StepFn = stepFollower;

  constructor(cfg: RaftConfig, storage: Storage) {
    validateConfig(cfg);
    this.id = cfg.id;
    this.cfg = cfg;
    this.raftLog = new RaftLog(storage);
    this.trk = new ProgressTracker(cfg.maxInflightMsgs);
    this.leaderContactElapsed = cfg.electionTick;
    const { hardState, confState } = storage.initialState();
    this.trk.setConf(confState, this.raftLog.lastIndex());
    this.confIndex = this.raftLog.firstIndex() - 1;
    if (!isEmptyHardState(hardState)) this.#loadState(hardState);
    this.#loadApplied(cfg.applied);
    this.becomeFollower(this.term, NONE);
  }

  #loadState(hs: HardState): void {
    const last = this.raftLog.lastIndex();
    this.term = hs.term;
    this.vote = hs.vote;
    this.raftLog.commitTo(Math.min(Math.max(hs.commit, 0), last));
  }

  /** Applied entries are committed: trust `applied` up to the log's end. */
  #loadApplied(applied: number): void {
    if (applied > this.raftLog.lastIndex()) {
      throw new RangeError(
        `Cannot restart at applied ${applied}: last index is ${this.raftLog.lastIndex()}`,
      );
    }
    if (applied <= this.raftLog.applied) return;
    this.raftLog.commitTo(applied);
    this.raftLog.appliedTo(applied);
    this.confIndex = Math.max(this.confIndex, applied);
  }

  softState(): SoftState {
    return { lead: this.lead, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  /** Queues `m` for the next Ready; the channel is chosen now (see LEADER_TRAFFIC). */
  send(m: Message): void {
    if (this.role === "leader" && LEADER_TRAFFIC.has(m.type)) this.msgs.push(m);
    else this.msgsAfterAppend.push(m);
  }

  /** A voter with no pending snapshot may campaign (learners never do). */
  promotable(): boolean {
    return this.trk.isVoter(this.id) && !this.raftLog.hasPendingSnapshot();
  }

  /** Leader stickiness (thesis §4.2.3): we heard from a live leader lately. */
  inLease(): boolean {
    return this.cfg.checkQuorum &&
      (this.role === "leader" ||
        this.leaderContactElapsed < this.cfg.electionTick);
  }

  /** True once the commit index points at an entry of the current term. */
  committedInTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term;
  }

  // ---- role transitions (Figure 2 "Rules for Servers") ----

  becomeFollower(term: number, lead: NodeId): void {
    const wasLeader = this.role === "leader";
    this.#step = stepFollower;
    this.reset(term);
    this.lead = lead;
    this.role = "follower";
    if (wasLeader) this.leaderContactElapsed = this.cfg.electionTick;
  }

  /** Pre-vote (thesis §9.6): campaign without touching the term. */
  becomePreCandidate(): void {
    if (this.role === "leader") throw new RaftError("Cannot pre-campaign as leader");
    this.#step = stepCandidate;
    this.trk.resetVotes();
    this.lead = NONE;
    this.role = "precandidate";
  }

  /** §5.2: increment the term and vote for self. */
  becomeCandidate(): void {
    if (this.role === "leader") throw new RaftError("Cannot campaign as leader");
    this.#step = stepCandidate;
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = "candidate";
    this.leaderContactElapsed = this.cfg.electionTick;
  }

  /** §5.2 won; §8: append a no-op so entries of earlier terms commit (§5.4.2). */
  becomeLeader(): void {
    if (this.role === "follower") throw new RaftError("Cannot lead from follower");
    this.#step = stepLeader;
    this.reset(this.term);
    this.lead = this.id;
    this.role = "leader";
    const self = this.trk.progress.get(this.id);
    if (self) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Any conf entry in the log may be uncommitted: allow no new one until
    // everything up to here is applied.
    this.pendingConfIndex = this.raftLog.lastIndex();
    appendEntries(this, [{ type: "normal", data: "" }]);
  }

  /** Clears volatile per-term state; a new term forgets the vote. */
  reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.cfg.electionTick +
      this.cfg.rand.intn(this.cfg.electionTick);
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    this.trk.resetProgress(this.raftLog.lastIndex(), this.id);
    this.pendingConfIndex = 0;
    this.pendingBcast = false;
    this.readOnly.reset();
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
    this.transferElapsed = 0;
  }

  // ---- time ----

  tick(): void {
    this.leaderContactElapsed++;
    if (this.role === "leader") this.#tickHeartbeat();
    else this.#tickElection();
  }

  /** §5.2: no leader contact for a randomized timeout: campaign. */
  #tickElection(): void {
    this.electionElapsed++;
    if (
      this.promotable() &&
      this.electionElapsed >= this.randomizedElectionTimeout
    ) {
      this.electionElapsed = 0;
      hup(this, this.cfg.preVote ? "preElection" : "election");
    }
  }

  #tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (
      this.leadTransferee !== NONE &&
      ++this.transferElapsed >= this.cfg.electionTick
    ) this.abortLeaderTransfer();
    for (const [id, pr] of this.trk.progress) {
      if (id !== this.id) pr.tickIdle(this.cfg.electionTick);
    }
    // Check-quorum (thesis §6.2): step down as soon as a majority of voters
    // has been silent for an election timeout. Followers that heard from
    // us later still refuse votes for that long (leader stickiness).
    if (this.cfg.checkQuorum && !this.trk.quorumActive()) {
      this.becomeFollower(this.term, NONE);
      return;
    }
    tickSnapshots(this);
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      bcastHeartbeat(this);
    }
  }

  // ---- messages: the term rules of §5.1, then the role ----

  step(m: Message): void {
    if (m.term > this.term) {
      if (!this.#onHigherTerm(m)) return;
    } else if (m.term < this.term) {
      this.#onLowerTerm(m);
      return;
    }
    if (m.type === "vote" || m.type === "preVote") handleVoteRequest(this, m);
    else {
      if (m.type === "voteResp" || m.type === "preVoteResp") learnCommit(this, m);
      this.#step(this, m);
    }
  }

  /** Returns false when `m` is to be ignored. */
  #onHigherTerm(m: Message): boolean {
    const isVote = m.type === "vote" || m.type === "preVote";
    // Leader stickiness: a node that hears from a leader does not help
    // depose it, unless the leader itself asked (transfer).
    if (isVote && !m.transfer && this.inLease()) return false;
    // Pre-vote never changes a term: requests carry term+1 speculatively,
    // and a granted response carries the requested term.
    if (m.type === "preVote" || (m.type === "preVoteResp" && !m.reject)) {
      return true;
    }
    const fromLeader = m.type === "app" || m.type === "heartbeat" ||
      m.type === "snap";
    // §5.2 (Figure 2): the election timer restarts on hearing from the
    // leader or granting a vote, not on a vote request alone. Else a
    // candidate with a shorter log, timing out first each round, keeps
    // resetting the one node it needs, which never gets to run (sim seed
    // 637856, without pre-vote). A granted vote resets it below.
    const elapsed = this.electionElapsed;
    this.becomeFollower(m.term, fromLeader ? m.from : NONE);
    if (m.type === "vote") this.electionElapsed = elapsed;
    return true;
  }

  /**
   * Stale messages are ignored, except where silence would strand the
   * sender: a stale candidate is told the newer term (below); a stale
   * leader or pre-candidate is answered with check-quorum or pre-vote (it
   * could keep a partitioned node from ever rejoining), and by a node that
   * never campaigns (a learner, or one outside the configuration), since
   * without those options only a campaign spreads a term (sim seed 502816:
   * a learner took a removed node's term and the leader never heard of it).
   */
  #onLowerTerm(m: Message): void {
    const { checkQuorum, preVote } = this.cfg;
    const answer = checkQuorum || preVote || !this.promotable();
    if (answer && (m.type === "app" || m.type === "heartbeat")) {
      this.send({
        type: "appResp",
        from: this.id,
        to: m.from,
        term: this.term,
        index: 0,
        reject: false,
        rejectHint: 0,
        logTerm: 0,
      });
    } else if (m.type === "preVote") {
      this.send({
        type: "preVoteResp",
        from: this.id,
        to: m.from,
        term: this.term,
        reject: true,
      });
    } else if (m.type === "vote") {
      // §5.1: rejected with the newer term, so a candidate of a stale term
      // catches up at once. etcd ignores it: a candidate then gains a term
      // per timeout only, and a disruptive node that bumps the voters'
      // terms as fast keeps it behind forever (sim seed 1042128).
      const commit = this.raftLog.committed;
      const commitTerm = this.raftLog.termOrZero(commit);
      this.send({
        type: "voteResp",
        from: this.id,
        to: m.from,
        term: this.term,
        reject: true,
        commit,
        commitTerm,
      });
    }
  }
}
