/**
 * The doubly linked list of call and return events the search walks: call of
 * op i is entry 2i, its return 2i+1 (only for ops with a finite end). Lifting
 * an op unlinks both; unlifting relinks them (in LIFO order, as the search
 * backtracks).
 * @module
 */

interface Timed {
  readonly start: number;
  readonly end: number;
}

const NONE = -1;

export class Events {
  readonly #next: Int32Array;
  readonly #prev: Int32Array;
  readonly #head: number;
  readonly #hasReturn: Uint8Array;

  constructor(ops: readonly Timed[]) {
    const n = ops.length;
    this.#head = 2 * n;
    this.#next = new Int32Array(2 * n + 1).fill(NONE);
    this.#prev = new Int32Array(2 * n + 1).fill(NONE);
    this.#hasReturn = new Uint8Array(n);
    const order = sortedEntries(ops);
    let last = this.#head;
    for (const e of order) {
      this.#next[last] = e;
      this.#prev[e] = last;
      last = e;
    }
    ops.forEach((o, i) => this.#hasReturn[i] = Number.isFinite(o.end) ? 1 : 0);
  }

  first(): number {
    return this.#next[this.#head] as number;
  }

  next(entry: number): number {
    return this.#next[entry] as number;
  }

  /** The entry after op i's call (op i is linked). */
  after(i: number): number {
    return this.#next[2 * i] as number;
  }

  isReturn(entry: number): boolean {
    return (entry & 1) === 1;
  }

  opOf(entry: number): number {
    return entry >> 1;
  }

  lift(i: number): void {
    this.#unlink(2 * i);
    if (this.#hasReturn[i]) this.#unlink(2 * i + 1);
  }

  unlift(i: number): void {
    if (this.#hasReturn[i]) this.#relink(2 * i + 1);
    this.#relink(2 * i);
  }

  #unlink(e: number): void {
    const p = this.#prev[e] as number;
    const n = this.#next[e] as number;
    this.#next[p] = n;
    if (n !== NONE) this.#prev[n] = p;
  }

  #relink(e: number): void {
    const p = this.#prev[e] as number;
    const n = this.#next[e] as number;
    this.#next[p] = e;
    if (n !== NONE) this.#prev[n] = e;
  }
}

/**
 * Entries by time; at equal times calls come first, so ops that touch are
 * treated as concurrent (never a false violation from timer resolution).
 */
function sortedEntries(ops: readonly Timed[]): number[] {
  const es: { e: number; t: number }[] = [];
  ops.forEach((o, i) => {
    es.push({ e: 2 * i, t: o.start });
    if (Number.isFinite(o.end)) es.push({ e: 2 * i + 1, t: o.end });
  });
  es.sort((a, b) => a.t - b.t || (a.e & 1) - (b.e & 1) || a.e - b.e);
  return es.map((x) => x.e);
}
