/**
 * Deadlines checked by one shared timer instead of a timer each. Every put
 * races its body read against a 30 s deadline; with `within` that was a
 * setTimeout, a clearTimeout, two promises and a race per request (~2 µs of
 * the leader's ~60 µs of CPU per put). Here it is a Set insert and delete.
 *
 * The clock is coarse on purpose: it counts the timer's firings, so no call
 * reads the time, and a deadline fires no earlier than `ms` and up to about
 * two periods after it (more if the event loop lags).
 * The timer is unref'd (it never keeps a process alive) and runs only while
 * something waits.
 * @module
 */

interface Waiter {
  /** The firing count at which it expires. */
  readonly at: number;
  readonly expire: () => void;
}

export class Deadlines {
  readonly #waiting = new Set<Waiter>();
  #fired = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly periodMs: number) {}

  /** How many wait now. */
  get size(): number {
    return this.#waiting.size;
  }

  /** `p`'s outcome, or `late()`'s (a value, or a throw) once `ms` have passed. */
  within<T, U>(p: Promise<T>, ms: number, late: () => U): Promise<T | U> {
    return new Promise<T | U>((resolve, reject) => {
      // +1: the timer may already be part-way through a period.
      const at = this.#fired + Math.ceil(ms / this.periodMs) + 1;
      const w: Waiter = {
        at,
        expire: () => {
          try {
            resolve(late());
          } catch (e) {
            reject(e);
          }
        },
      };
      this.#waiting.add(w);
      this.#arm();
      p.then(
        (v) => this.#waiting.delete(w) && resolve(v),
        (e) => this.#waiting.delete(w) && reject(e),
      );
    });
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    const timer = setTimeout(() => this.#fire(), this.periodMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#fired++;
    for (const w of this.#waiting) {
      if (w.at > this.#fired) continue;
      this.#waiting.delete(w);
      w.expire();
    }
    if (this.#waiting.size > 0) this.#arm();
  }
}
