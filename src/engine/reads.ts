/**
 * The read side of a region: ReadIndex rounds (thesis §6.4) that many reads
 * share, the leader lease behind `consistency=lease`, and the waits for the
 * applied index. Region owns one; the ticker drives its retries.
 * @module
 */
import type { RawNode } from "../raft/raw_node.ts";
import type { ApplyFsm } from "./apply_fsm.ts";
import { LeaderLease } from "./lease.ts";
import { ReadIndexQueue } from "./read_index_queue.ts";

export interface ReadsOptions {
  readonly prefix: string;
  readonly leaseMs: number;
  readonly requestTimeoutMs: number;
  /** A round unanswered this long was lost (dropped, new leader): retry. */
  readonly retryMs: number;
  readonly now: () => number;
  /** Wakes the Ready loop so an issued round goes out. */
  readonly kick: () => void;
}

export class Reads {
  readonly queue: ReadIndexQueue;
  readonly lease: LeaderLease;
  #scheduled = false;

  constructor(
    readonly node: RawNode,
    readonly apply: ApplyFsm,
    readonly opts: ReadsOptions,
  ) {
    this.queue = new ReadIndexQueue(opts.prefix);
    this.lease = new LeaderLease(opts.leaseMs);
  }

  /** Resolves once a ReadIndex round confirmed an index and it is applied. */
  readIndex(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.enqueue({ deadline: this.#deadline(), resolve: () => resolve(), reject });
      this.#schedule();
    });
  }

  /** Serves at the local commit index while the lease holds; else ReadIndex. */
  leaseRead(): Promise<void> {
    const st = this.node.basicStatus();
    const usable = this.lease.valid(this.opts.now(), st.term) && st.committedInTerm &&
      !st.leadTransferee;
    if (!usable) return this.readIndex();
    return new Promise((resolve, reject) => {
      const w = { deadline: this.#deadline(), resolve: () => resolve(), reject };
      this.queue.awaitIndex(st.commit, w, this.apply.appliedIndex);
    });
  }

  /** A round came back; a leader's round also renews its lease. */
  confirmed(context: string, index: number, leaderTerm: number | null): void {
    const issued = this.queue.confirmed(context, index, this.apply.appliedIndex);
    if (issued !== null && leaderTerm !== null) this.lease.renew(issued, leaderTerm);
    this.issue();
  }

  /** Per tick: deadlines, lost rounds, and (leader) a lease-renewing round. */
  tick(renewLease: boolean): void {
    const now = this.opts.now();
    this.queue.sweep(now);
    this.queue.retryStale(now, this.opts.retryMs);
    if (renewLease) this.node.readIndex(this.queue.emptyRound(now));
    this.issue();
  }

  /**
   * One round with reads in flight at a time, on leader and follower alike:
   * later reads wait and share the next round.
   */
  issue(): void {
    if (this.queue.pending === 0 || this.queue.inflightReads > 0) return;
    const round = this.queue.takeRound(this.opts.now());
    if (round && !this.node.readIndex(round.context)) this.queue.unissue(round.context);
    this.opts.kick();
  }

  /** Reads arriving in the same turn share one round: issue on a microtask. */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.issue();
    });
  }

  #deadline(): number {
    return this.opts.now() + this.opts.requestTimeoutMs;
  }
}
