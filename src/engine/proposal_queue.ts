/**
 * Client proposals waiting for their entry to be applied (TiKV's
 * ProposalQueue). Ordered by log index; deadlines are swept on each tick so
 * the hot path creates no timer per request.
 * @module
 */
import type { Span } from "@opentelemetry/api";
import type { KvCommand, KvResult } from "../kv/types.ts";
import { LeadershipChangedError, TimeoutError } from "./errors.ts";

/** A proposal in flight. Invariant: queue order = index order. */
export interface Proposal {
  readonly index: number;
  readonly term: number;
  readonly deadline: number;
  readonly span: Span | undefined;
  /**
   * The put proposed, kept for the apply step (see `ApplyObserver.proposed`).
   * Puts only: their decoded form is the same object shape field for field.
   */
  readonly cmd?: KvCommand | undefined;
  /** `result` is null only for entries without one (conf changes). */
  resolve(r: { result: KvResult | null; index: number }): void;
  reject(e: Error): void;
}

export type ProposalOutcome =
  | "applied"
  | "leadership_changed"
  | "timeout"
  | "shutdown";

export class ProposalQueue {
  #queue: Proposal[] = [];
  #head = 0;
  /** Called once per finished proposal (metrics). */
  onOutcome: (o: ProposalOutcome) => void = () => {};

  get size(): number {
    return this.#queue.length - this.#head;
  }

  push(p: Proposal): void {
    this.#queue.push(p);
  }

  /** Queues a proposal; settles when it applies, fails or passes its deadline. */
  wait(
    p: Omit<Proposal, "resolve" | "reject">,
  ): Promise<{ result: KvResult | null; index: number }> {
    return new Promise((resolve, reject) => this.push({ ...p, resolve, reject }));
  }

  /** The command of the proposal at (index, term): the next one to apply, if any. */
  proposed(index: number, term: number): KvCommand | undefined {
    const p = this.#queue[this.#head];
    return p !== undefined && p.index === index && p.term === term ? p.cmd : undefined;
  }

  /**
   * Entry (index, term) was applied with `result`. Proposals at lower
   * indexes were overwritten by another leader's entries: their outcome is
   * unknown to them, so they get LeadershipChangedError.
   */
  applied(index: number, term: number, result: KvResult | null): void {
    while (this.#head < this.#queue.length) {
      const p = this.#queue[this.#head]!;
      if (p.index > index) break;
      this.#shift();
      if (p.index === index && p.term === term) {
        this.onOutcome("applied");
        p.resolve({ result, index });
      } else {
        this.#fail(p, new LeadershipChangedError(), "leadership_changed");
      }
    }
  }

  /** This node stopped leading: nobody will commit these for us (§5.3). */
  rejectAll(e: Error, outcome: ProposalOutcome): void {
    while (this.#head < this.#queue.length) {
      this.#fail(this.#shift(), e, outcome);
    }
  }

  /** Rejects proposals whose deadline passed. Deadlines grow with index. */
  sweep(now: number): void {
    while (this.#head < this.#queue.length) {
      const p = this.#queue[this.#head]!;
      if (p.deadline > now) break;
      this.#fail(this.#shift(), new TimeoutError("Write"), "timeout");
    }
  }

  #shift(): Proposal {
    const p = this.#queue[this.#head++]!;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return p;
  }

  #fail(p: Proposal, e: Error, outcome: ProposalOutcome): void {
    this.onOutcome(outcome);
    p.reject(e);
  }
}
