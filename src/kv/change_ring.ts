/**
 * The watch history (API.md §5): the changes of the most recent log entries,
 * recorded as they were applied, bounded by a change count and a byte size.
 *
 * Why a ring of applied changes and not a replay of the raft log: what an
 * entry changed depends on the state it met (a range delete deletes the keys
 * that existed then; a put whose precondition failed changes nothing), and
 * the state before the oldest held entry is gone. Recording at apply time is
 * exact and cheap; the price is that history starts when the node booted or
 * last installed a snapshot.
 * @module
 */
import type { KvChange } from "./types.ts";

/** The changes one log entry made, in the order applied (never empty). */
export interface ChangeBatch {
  readonly index: number;
  readonly changes: readonly KvChange[];
}

/** Bounds of a {@link ChangeRing}. */
export interface RingLimits {
  readonly maxChanges: number;
  /** Approximate: key and value text plus a fixed overhead per change. */
  readonly maxBytes: number;
}

/** Per-change overhead in the byte estimate (the object and its fields). */
const CHANGE_OVERHEAD = 64;

/** The estimated memory of one change; see {@link RingLimits.maxBytes}. */
export function changeBytes(c: KvChange): number {
  const text = c.type === "put" ? c.record.key.length + c.record.value.length : c.key.length;
  return 2 * text + CHANGE_OVERHEAD; // UTF-16
}

/**
 * Invariant: the ring holds every change with `floor < modIndex <= last
 * pushed index`, oldest first. Eviction drops whole batches, so an entry's
 * changes are either all held or all gone.
 */
export class ChangeRing {
  #batches: ChangeBatch[] = [];
  #sizes: number[] = [];
  /** Start of the live part of the arrays (amortized eviction). */
  #head = 0;
  #changes = 0;
  #bytes = 0;

  constructor(public floor: number, readonly limits: RingLimits) {}

  /** The smallest `fromIndex` that can be replayed exactly. */
  get oldest(): number {
    return this.floor + 1;
  }

  /** Changes held. */
  get changes(): number {
    return this.#changes;
  }

  /** Appends the newest entry's changes; evicts the oldest beyond the limits. */
  push(batch: ChangeBatch): void {
    const bytes = batch.changes.reduce((n, c) => n + changeBytes(c), 0);
    this.#batches.push(batch);
    this.#sizes.push(bytes);
    this.#changes += batch.changes.length;
    this.#bytes += bytes;
    const { maxChanges, maxBytes } = this.limits;
    while (
      this.#head < this.#batches.length && (this.#changes > maxChanges || this.#bytes > maxBytes)
    ) {
      this.#evictOne();
    }
  }

  /** Forgets everything: the state was replaced at `floor` (snapshot install). */
  reset(floor: number): void {
    this.#batches = [];
    this.#sizes = [];
    this.#head = this.#changes = this.#bytes = 0;
    this.floor = floor;
  }

  /** Held batches with `index >= from`, oldest first. Needs `from >= oldest`. */
  *since(from: number): Generator<ChangeBatch> {
    for (let i = this.#search(from); i < this.#batches.length; i++) yield this.#batches[i]!;
  }

  #evictOne(): void {
    const b = this.#batches[this.#head]!;
    this.#changes -= b.changes.length;
    this.#bytes -= this.#sizes[this.#head]!;
    this.floor = b.index;
    this.#head++;
    if (this.#head > 1024 && 2 * this.#head > this.#batches.length) {
      this.#batches = this.#batches.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The position of the first batch with `index >= from` (binary search). */
  #search(from: number): number {
    let lo = this.#head, hi = this.#batches.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#batches[mid]!.index < from) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
