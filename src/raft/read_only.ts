/**
 * Leader-side bookkeeping for linearizable reads (thesis §6.4 ReadIndex).
 *
 * A read is confirmed by a heartbeat round: the leader records its commit
 * index, broadcasts a heartbeat whose `context` is the round id, and once a
 * majority of voters (itself included) acknowledges that round it is still
 * the leader, so the recorded index is safe to read at. Rounds are ordered,
 * so an acknowledged round also confirms every earlier one; many reads
 * share one round.
 * @module
 */
import type { NodeId } from "./types.ts";

/** A read waiting for confirmation: who asked and the opaque context. */
export interface ReadRequest {
  readonly context: string;
  /** The node the answer goes to (the leader itself for local reads). */
  readonly from: NodeId;
}

/** A read assigned to a round, with the commit index recorded for it. */
export interface PendingRead extends ReadRequest {
  readonly index: number;
  readonly round: number;
}

const ROUND_PATTERN = /^[1-9][0-9]{0,15}$/;

/** Queue of reads by round; see the module doc. */
export class ReadOnly {
  /** Reads received before the leader committed an entry of its term. */
  #deferred: ReadRequest[] = [];
  /** Reads waiting for the next round to start. */
  #unsent: ReadRequest[] = [];
  /** Reads in started rounds. Invariant: sorted by round. */
  #waiting: PendingRead[] = [];
  #acks: Map<number, Set<NodeId>> = new Map();
  /** Monotonic across resets, so a stale ack never matches a new round. */
  #nextRound = 1;

  /** Holds `req` until the leader's first commit in its term (§6.4 step 1). */
  defer(req: ReadRequest): void {
    this.#deferred.push(req);
  }

  /** Returns and forgets the deferred reads. */
  takeDeferred(): ReadRequest[] {
    const d = this.#deferred;
    this.#deferred = [];
    return d;
  }

  /** Queues `req` for the next round. */
  add(req: ReadRequest): void {
    this.#unsent.push(req);
  }

  hasUnsent(): boolean {
    return this.#unsent.length > 0;
  }

  /**
   * Starts a round for every queued read at commit index `index`; `self`
   * acknowledges at once. Returns the round id to send as heartbeat context.
   */
  startRound(index: number, self: NodeId): string {
    const round = this.#nextRound++;
    for (const req of this.#unsent) this.#waiting.push({ ...req, index, round });
    this.#unsent = [];
    this.#acks.set(round, new Set([self]));
    return String(round);
  }

  /**
   * The newest unconfirmed round ("" if none): regular heartbeats carry it,
   * so a round whose own heartbeats were lost still completes.
   */
  lastRound(): string {
    const last = this.#waiting.at(-1);
    return last ? String(last.round) : "";
  }

  /** Records `from`'s ack of round `context`; the ackers so far, or null. */
  recvAck(from: NodeId, context: string): ReadonlySet<NodeId> | null {
    if (!ROUND_PATTERN.test(context)) return null;
    const acks = this.#acks.get(Number(context));
    if (!acks) return null;
    acks.add(from);
    return acks;
  }

  /** Round `context` is confirmed: returns the reads of it and every earlier round. */
  advance(context: string): PendingRead[] {
    const round = Number(context);
    const i = this.#waiting.findIndex((r) => r.round > round);
    const done = i < 0 ? this.#waiting : this.#waiting.slice(0, i);
    this.#waiting = i < 0 ? [] : this.#waiting.slice(i);
    for (const r of this.#acks.keys()) if (r <= round) this.#acks.delete(r);
    return done;
  }

  /** Number of reads not yet answered (deferred, queued or in a round). */
  get pending(): number {
    return this.#deferred.length + this.#unsent.length + this.#waiting.length;
  }

  /** Drops every read (leadership lost: the asker times out). */
  reset(): void {
    this.#deferred = [];
    this.#unsent = [];
    this.#waiting = [];
    this.#acks.clear();
  }
}
