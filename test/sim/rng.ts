/**
 * The simulator's own seeded randomness (mulberry32). Every choice the
 * scheduler, the network and the nodes make derives from one seed, so a seed
 * replays a schedule exactly. No `Math.random` anywhere in `test/sim/`.
 * @module
 */

/** Mixes integers into one 32-bit seed (splitmix-style avalanche). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A small, fast, seeded PRNG with the helpers the scheduler needs. */
export class SimRand {
  #state: number;

  constructor(seed: number) {
    this.#state = mixSeed(seed) || 1;
  }

  /** Uniform in [0, 1). */
  float(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError("Cannot pick from an empty list");
    return xs[this.int(xs.length)] as T;
  }

  /** Picks a key of `weights` with probability proportional to its value. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[];
    let total = 0;
    for (const k of keys) total += weights[k];
    let r = this.float() * total;
    for (const k of keys) {
      r -= weights[k];
      if (r < 0) return k;
    }
    return keys[keys.length - 1] as K;
  }
}
