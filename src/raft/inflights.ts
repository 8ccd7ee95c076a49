/**
 * Flow control for one follower in replicate state (etcd
 * `tracker/inflights.go`): the last index of each MsgApp sent but not yet
 * acknowledged, bounded by `maxInflightMsgs`.
 * @module
 */

/** A FIFO of in-flight MsgApp last indexes, in increasing order. */
export class Inflights {
  readonly capacity: number;
  #indexes: number[] = [];

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Number of MsgApps in flight. */
  get count(): number {
    return this.#indexes.length;
  }

  /** True when no further MsgApp may be sent. */
  full(): boolean {
    return this.#indexes.length >= this.capacity;
  }

  /**
   * Records a MsgApp whose last entry is `index`. Invariant: indexes are
   * added in increasing order and only while not full.
   */
  add(index: number): void {
    if (this.full()) {
      throw new RangeError(`Cannot add inflight ${index}: window is full`);
    }
    const last = this.#indexes.at(-1);
    if (last !== undefined && index <= last) {
      throw new RangeError(
        `Cannot add inflight ${index}: not above the last one (${last})`,
      );
    }
    this.#indexes.push(index);
  }

  /** Frees every MsgApp whose last index is <= `to` (acknowledged). */
  freeLE(to: number): void {
    let n = 0;
    while (n < this.#indexes.length && this.#indexes[n]! <= to) n++;
    if (n > 0) this.#indexes = this.#indexes.slice(n);
  }

  /** Forgets everything (state change). */
  reset(): void {
    this.#indexes = [];
  }
}
