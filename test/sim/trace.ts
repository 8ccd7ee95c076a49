/**
 * A ring buffer of the last events, rendered only when a check fails.
 * Lines are thunks over immutable values, so tracing costs next to nothing.
 * Messages and Readies render with the core's `describe.ts`.
 * @module
 */

export class Trace {
  #ring: (() => string)[];
  #count = 0;

  constructor(capacity = 200) {
    this.#ring = new Array(capacity);
  }

  get count(): number {
    return this.#count;
  }

  /** Records the next event (rendered lazily). */
  add(line: () => string): void {
    this.#ring[this.#count % this.#ring.length] = line;
    this.#count++;
  }

  /** The last `n` events, oldest first, one per line. */
  tail(n: number): string {
    const from = Math.max(0, this.#count - Math.min(n, this.#ring.length));
    const out: string[] = [];
    for (let i = from; i < this.#count; i++) {
      out.push(`#${i} ${this.#ring[i % this.#ring.length]?.() ?? ""}`);
    }
    return out.join("\n");
  }
}
