/**
 * Linearizable reads waiting on ReadIndex (thesis §6.4; TiKV's
 * ReadIndexQueue). Reads that arrive together share one round: they wait
 * while a round is in flight and go out together in the next one.
 * @module
 */
import { TimeoutError } from "./errors.ts";

export interface ReadWaiter {
  readonly deadline: number;
  resolve(readIndex: number): void;
  reject(e: Error): void;
}

interface Round {
  readonly waiters: ReadWaiter[];
  readonly issuedAt: number;
}

interface ReadyRead {
  readonly index: number;
  readonly waiters: ReadWaiter[];
}

export class ReadIndexQueue {
  #waiting: ReadWaiter[] = [];
  #inflight = new Map<string, Round>();
  #ready: ReadyRead[] = [];
  #seq = 0;

  constructor(readonly prefix: string) {}

  get pending(): number {
    return this.#waiting.length;
  }

  get inflight(): number {
    return this.#inflight.size;
  }

  /** Rounds in flight that carry reads (lease-renewal rounds carry none). */
  get inflightReads(): number {
    let n = 0;
    for (const r of this.#inflight.values()) if (r.waiters.length > 0) n++;
    return n;
  }

  enqueue(w: ReadWaiter): void {
    this.#waiting.push(w);
  }

  /** Moves every waiting read into one new round; null if none wait. */
  takeRound(now: number): { context: string; size: number } | null {
    if (this.#waiting.length === 0) return null;
    const context = `${this.prefix}-${++this.#seq}`;
    this.#inflight.set(context, { waiters: this.#waiting, issuedAt: now });
    this.#waiting = [];
    return { context, size: this.#inflight.get(context)!.waiters.length };
  }

  /** Registers a round with no waiters (lease renewal). */
  emptyRound(now: number): string {
    const context = `${this.prefix}-${++this.#seq}`;
    this.#inflight.set(context, { waiters: [], issuedAt: now });
    return context;
  }

  /** Puts a round's reads back (the core dropped it: no leader known). */
  unissue(context: string): void {
    const round = this.#inflight.get(context);
    if (!round) return;
    this.#inflight.delete(context);
    this.#waiting.push(...round.waiters);
  }

  /**
   * The round `context` confirmed `index`. Returns when the round was
   * issued (for the leader lease), or null for an unknown context.
   */
  confirmed(context: string, index: number, applied: number): number | null {
    const round = this.#inflight.get(context);
    if (!round) return null;
    this.#inflight.delete(context);
    if (index <= applied) {
      for (const w of round.waiters) w.resolve(index);
    } else if (round.waiters.length > 0) {
      this.#ready.push({ index, waiters: round.waiters });
    }
    return round.issuedAt;
  }

  /** Waits for `index` to be applied (lease reads: the local commit index). */
  awaitIndex(index: number, w: ReadWaiter, applied: number): void {
    if (index <= applied) w.resolve(index);
    else this.#ready.push({ index, waiters: [w] });
  }

  /** Resolves the reads whose index has been applied. */
  applied(applied: number): void {
    if (this.#ready.length === 0) return;
    const still: ReadyRead[] = [];
    for (const r of this.#ready) {
      if (r.index <= applied) { for (const w of r.waiters) w.resolve(r.index); }
      else still.push(r);
    }
    this.#ready = still;
  }

  /** Rounds older than `maxAge` were lost (dropped messages, new leader): retry. */
  retryStale(now: number, maxAge: number): void {
    for (const [ctx, round] of this.#inflight) {
      if (now - round.issuedAt >= maxAge) this.unissue(ctx);
    }
  }

  /** Rejects reads whose deadline passed, wherever they wait. */
  sweep(now: number): void {
    const expired = (w: ReadWaiter) => {
      if (w.deadline > now) return false;
      w.reject(new TimeoutError("Read"));
      return true;
    };
    this.#waiting = this.#waiting.filter((w) => !expired(w));
    for (const round of this.#inflight.values()) {
      const keep = round.waiters.filter((w) => !expired(w));
      round.waiters.splice(0, round.waiters.length, ...keep);
    }
    for (const r of this.#ready) {
      const keep = r.waiters.filter((w) => !expired(w));
      r.waiters.splice(0, r.waiters.length, ...keep);
    }
    this.#ready = this.#ready.filter((r) => r.waiters.length > 0);
  }

  rejectAll(e: Error): void {
    const all = [
      ...this.#waiting,
      ...[...this.#inflight.values()].flatMap((r) => r.waiters),
      ...this.#ready.flatMap((r) => r.waiters),
    ];
    this.#waiting = [];
    this.#inflight.clear();
    this.#ready = [];
    for (const w of all) w.reject(e);
  }
}
