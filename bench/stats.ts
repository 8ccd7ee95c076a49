// Latency bookkeeping for the load generator: raw samples, sorted once at the
// end, so percentiles are exact rather than bucketed.

export interface Summary {
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanMs: number;
}

/** Grows like an array but stores plain float64s (1M samples = 8 MB). */
export class Samples {
  #buf = new Float64Array(1024);
  #len = 0;

  get length(): number {
    return this.#len;
  }

  push(ms: number): void {
    if (this.#len === this.#buf.length) {
      const next = new Float64Array(this.#buf.length * 2);
      next.set(this.#buf);
      this.#buf = next;
    }
    this.#buf[this.#len++] = ms;
  }

  summary(): Summary {
    return summarize(this.#buf.subarray(0, this.#len));
  }
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  // The epsilon keeps 99.9% of 1000 at rank 999 despite float rounding.
  const rank = Math.ceil((p * sorted.length) / 100 - 1e-9);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? NaN;
}

export function summarize(samples: Float64Array): Summary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    p999Ms: round(percentile(sorted, 99.9)),
    maxMs: round(sorted[sorted.length - 1] ?? NaN),
    meanMs: round(sorted.length ? sum / sorted.length : NaN),
  };
}

/** Three significant decimals is plenty for milliseconds. */
export function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
