/**
 * Requests that arrived while no leader was known wait here (up to a couple
 * of election timeouts) instead of failing at once during an election.
 * @module
 */
import { TimeoutError } from "./errors.ts";

interface Waiter {
  readonly deadline: number;
  resolve(): void;
  reject(e: Error): void;
}

export class LeaderWaiters {
  #waiters: Waiter[] = [];

  wait(deadline: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const w = { deadline, resolve, reject };
      this.#waiters.push(w);
      signal?.addEventListener("abort", () => {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        reject(new TimeoutError("Request"));
      }, { once: true });
    });
  }

  /** A leader is known: everyone retries. */
  wake(): void {
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  /** Shutdown: nobody will wake these. */
  rejectAll(e: Error): void {
    for (const w of this.#waiters.splice(0)) w.reject(e);
  }

  sweep(now: number): void {
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.deadline <= now) w.reject(new TimeoutError("Leader election"));
      else still.push(w);
    }
    this.#waiters = still;
  }
}
