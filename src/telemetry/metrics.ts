/**
 * A small Prometheus registry: counters, gauges and histograms with labels,
 * rendered in the text exposition format (version 0.0.4). No dependencies.
 * Metric names are checked once, at creation; recording is a map update.
 * Label names are code constants (the exposition tests parse them).
 * @module
 */

export type Labels = Readonly<Record<string, string>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return "";
  if (keys.length > 1) keys.sort();
  let out = "";
  for (const k of keys) {
    out += `${out ? "," : ""}${k}="${escapeLabel(labels[k]!)}"`;
  }
  return out;
}

const NEEDS_ESCAPE = /[\\\n"]/;

function escapeLabel(v: string): string {
  if (!NEEDS_ESCAPE.test(v)) return v; // the common case, on every request
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A sample value as Prometheus spells it (`+Inf`, `-Inf`, `NaN`). */
export function formatValue(v: number): string {
  if (Number.isFinite(v)) return String(v);
  if (Number.isNaN(v)) return "NaN";
  return v > 0 ? "+Inf" : "-Inf";
}

function series(name: string, key: string, extra = ""): string {
  const all = key && extra ? `${key},${extra}` : key || extra;
  return all ? `${name}{${all}}` : name;
}

function header(m: Metric, type: string): string[] {
  return [`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} ${type}`];
}

interface Metric {
  readonly name: string;
  readonly help: string;
  render(): string[];
}

/** A value that only grows (resets only when the process restarts). */
export class Counter implements Metric {
  #values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels = {}, by = 1): void {
    this.#add(labelKey(labels), by);
  }

  /** `inc` for one fixed label set, its series key built once (hot paths). */
  bind(labels: Labels): (by?: number) => void {
    const k = labelKey(labels);
    return (by = 1) => this.#add(k, by);
  }

  #add(k: string, by: number): void {
    // A counter never shrinks; a bad increment is dropped, never thrown at
    // the ready loop (metrics must not take the node down).
    if (!(by >= 0)) return;
    this.#values.set(k, (this.#values.get(k) ?? 0) + by);
  }

  /** Makes the series exist at 0 before its first event. */
  init(labels: Labels = {}): void {
    this.inc(labels, 0);
  }

  value(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }

  render(): string[] {
    const out = header(this, "counter");
    for (const [k, v] of this.#values) out.push(`${series(this.name, k)} ${formatValue(v)}`);
    return out;
  }
}

/** A value that goes up and down. */
export class Gauge implements Metric {
  #values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}

  set(value: number, labels: Labels = {}): void {
    this.#values.set(labelKey(labels), value);
  }

  value(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }

  render(): string[] {
    const out = header(this, "gauge");
    for (const [k, v] of this.#values) out.push(`${series(this.name, k)} ${formatValue(v)}`);
    return out;
  }
}

interface HistogramSeries {
  /** Per-bucket counts, not cumulative; the last slot is above every bound. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** Observations counted into fixed buckets, with their sum and count. */
export class Histogram implements Metric {
  #series = new Map<string, HistogramSeries>();
  readonly buckets: readonly number[];

  constructor(readonly name: string, readonly help: string, buckets: readonly number[]) {
    if (buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) {
      throw new RangeError(`Histogram ${name}: buckets must be finite and increasing`);
    }
    this.buckets = [...buckets];
  }

  observe(value: number, labels: Labels = {}): void {
    this.#observe(value, labelKey(labels));
  }

  /** `observe` for one fixed label set, its series key built once (hot paths). */
  bind(labels: Labels): (value: number) => void {
    const k = labelKey(labels);
    return (value) => this.#observe(value, k);
  }

  #observe(value: number, k: string): void {
    let s = this.#series.get(k);
    if (!s) {
      s = { counts: new Array(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
      this.#series.set(k, s);
    }
    s.counts[this.#bucketOf(value)]!++;
    s.sum += value;
    s.count++;
  }

  count(labels: Labels = {}): number {
    return this.#series.get(labelKey(labels))?.count ?? 0;
  }

  sum(labels: Labels = {}): number {
    return this.#series.get(labelKey(labels))?.sum ?? 0;
  }

  render(): string[] {
    const out = header(this, "histogram");
    const bucket = `${this.name}_bucket`;
    for (const [k, s] of this.#series) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += s.counts[i]!;
        out.push(`${series(bucket, k, `le="${formatValue(b)}"`)} ${cumulative}`);
      });
      out.push(`${series(bucket, k, `le="+Inf"`)} ${s.count}`);
      out.push(`${series(`${this.name}_sum`, k)} ${formatValue(s.sum)}`);
      out.push(`${series(`${this.name}_count`, k)} ${s.count}`);
    }
    return out;
  }

  /** Index of the first bound >= value (binary search); NaN goes to +Inf. */
  #bucketOf(value: number): number {
    let lo = 0, hi = this.buckets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (value <= this.buckets[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Latency buckets in seconds, 0.5 ms .. 10 s. */
export const LATENCY_BUCKETS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];
/** Batch-size buckets (entries or requests per batch). */
export const SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

export class Registry {
  #metrics: Metric[] = [];
  #names = new Set<string>();

  counter(name: string, help: string): Counter {
    return this.#add(new Counter(name, help));
  }

  gauge(name: string, help: string): Gauge {
    return this.#add(new Gauge(name, help));
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, buckets));
  }

  /** The whole registry in Prometheus text format. */
  render(): string {
    return this.#metrics.flatMap((m) => m.render()).join("\n") + "\n";
  }

  #add<M extends Metric>(m: M): M {
    if (!METRIC_NAME.test(m.name)) throw new RangeError(`Bad metric name "${m.name}"`);
    if (this.#names.has(m.name)) throw new RangeError(`Metric "${m.name}" already registered`);
    this.#names.add(m.name);
    this.#metrics.push(m);
    return m;
  }
}
