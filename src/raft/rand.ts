/**
 * The core's only source of randomness (election timeouts, §5.2). Injected
 * through {@link RaftConfig} so that every run is reproducible from a seed.
 * @module
 */

/** A source of uniformly distributed integers. */
export interface Rand {
  /** Returns an integer in `[0, n)`; `n` is a positive integer. */
  intn(n: number): number;
}

/**
 * A deterministic PRNG (mulberry32): the same seed yields the same sequence
 * on every platform. Not cryptographically secure; it only spreads election
 * timeouts.
 */
export class SeededRand implements Rand {
  #state: number;

  /** @param seed any number; only its low 32 bits matter */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Returns a float in `[0, 1)`. */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Returns an integer in `[0, n)`. Throws RangeError unless `n >= 1`. */
  intn(n: number): number {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(
        `Cannot draw from [0, ${n}): n must be a positive integer`,
      );
    }
    return Math.floor(this.next() * n);
  }
}
