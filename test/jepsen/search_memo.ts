/**
 * The search's memory of explored configurations, with dominance.
 *
 * A configuration is (required ops linearized, optional ops used, state).
 * Optional ops never have to be linearized, so of two configurations with
 * the same required set and state, the one that used a subset of the
 * optional ops can do everything the other can. The memo is keyed by
 * (hash of the required set, state) in typed arrays (open addressing); each
 * slot keeps up to a few used-optional sets, and a configuration is pruned
 * when one of them is a subset of its own.
 * @module
 */

/** A persistent list of the optional ops used so far, newest first. */
export interface Used {
  readonly op: number;
  readonly prev: Used | null;
  readonly size: number;
}

const PER_SLOT = 4;

export class Memo {
  #cap = 1 << 8;
  #used = new Uint8Array(this.#cap);
  #keys = new Int32Array(this.#cap * 3);
  #sets: (Used | null)[][] = new Array(this.#cap);
  #size = 0;
  #configs = 0;

  /** Configurations recorded. */
  get size(): number {
    return this.#configs;
  }

  /**
   * Records the configuration unless one it dominates was seen: false when
   * it is pruned. `isUsed(op)` tells whether an optional op is in `used`.
   */
  add(
    h1: number,
    h2: number,
    state: number,
    used: Used | null,
    isUsed: (op: number) => boolean,
  ): boolean {
    if (this.#size * 2 >= this.#cap) this.#grow();
    const slot = this.#slot(h1, h2, state);
    const sets = this.#sets[slot] as (Used | null)[];
    for (const s of sets) {
      if (subset(s, used, isUsed)) return false;
    }
    if (sets.length < PER_SLOT) sets.push(used);
    else sets[sets.length - 1] = used;
    this.#configs++;
    return true;
  }

  /** The slot of the key, claimed (with an empty list) when new. */
  #slot(h1: number, h2: number, state: number): number {
    const mask = this.#cap - 1;
    for (let slot = mix(h1, h2, state) & mask;; slot = (slot + 1) & mask) {
      const k = slot * 3;
      if (this.#used[slot] === 0) {
        this.#used[slot] = 1;
        this.#keys[k] = h1;
        this.#keys[k + 1] = h2;
        this.#keys[k + 2] = state;
        this.#sets[slot] = [];
        this.#size++;
        return slot;
      }
      if (
        this.#keys[k] === h1 && this.#keys[k + 1] === h2 &&
        this.#keys[k + 2] === state
      ) return slot;
    }
  }

  #grow(): void {
    const [used, keys, sets] = [this.#used, this.#keys, this.#sets];
    this.#cap *= 2;
    this.#used = new Uint8Array(this.#cap);
    this.#keys = new Int32Array(this.#cap * 3);
    this.#sets = new Array(this.#cap);
    this.#size = 0;
    for (let s = 0; s < used.length; s++) {
      if (used[s] === 0) continue;
      const k = s * 3;
      const slot = this.#slot(
        keys[k] as number,
        keys[k + 1] as number,
        keys[k + 2] as number,
      );
      this.#sets[slot] = sets[s] as (Used | null)[];
    }
  }
}

function subset(
  a: Used | null,
  b: Used | null,
  isUsed: (op: number) => boolean,
): boolean {
  if ((a?.size ?? 0) > (b?.size ?? 0)) return false;
  for (let n = a; n; n = n.prev) if (!isUsed(n.op)) return false;
  return true;
}

function mix(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x85ebca6b, 0xcc9e2d51);
  h = Math.imul(h ^ (h >>> 15) ^ b, 0x1b873593);
  h = Math.imul(h ^ (h >>> 13) ^ c, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
