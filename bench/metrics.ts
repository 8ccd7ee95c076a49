// Batch sizes from the leader's Prometheus /metrics. The server's histogram
// names are not fixed by API.md, so every histogram whose family name holds
// "batch_size" is read, and absence is normal (etcd, or an older server).

export interface Histogram {
  sum: number;
  count: number;
  /** Cumulative counts by upper bound ("le"), label sets summed. */
  buckets: Map<number, number>;
}

export type Histograms = Map<string, Histogram>;

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*?)_(bucket|sum|count)(?:\{([^}]*)\})?\s+(\S+)/;

/** Histogram families whose name matches `filter`, from exposition text. */
export function parseHistograms(
  text: string,
  filter = /batch_size/,
): Histograms {
  const out: Histograms = new Map();
  for (const line of text.split("\n")) {
    const m = line.match(LINE);
    if (!m || !filter.test(m[1] ?? "")) continue;
    const [, family = "", part, labels = "", raw = ""] = m;
    const h = out.get(family) ?? { sum: 0, count: 0, buckets: new Map() };
    out.set(family, h);
    const v = Number(raw);
    if (part === "sum") h.sum += v;
    else if (part === "count") h.count += v;
    else {
      const le = labels.match(/le="([^"]+)"/)?.[1];
      if (le === undefined) continue;
      const bound = le === "+Inf" ? Infinity : Number(le);
      h.buckets.set(bound, (h.buckets.get(bound) ?? 0) + v);
    }
  }
  return out;
}

/** What happened between two scrapes (counters only grow). */
export function diff(before: Histograms, after: Histograms): Histograms {
  const out: Histograms = new Map();
  for (const [name, a] of after) {
    const b = before.get(name);
    const buckets = new Map<number, number>();
    for (const [le, n] of a.buckets) {
      buckets.set(le, n - (b?.buckets.get(le) ?? 0));
    }
    out.set(name, {
      sum: a.sum - (b?.sum ?? 0),
      count: a.count - (b?.count ?? 0),
      buckets,
    });
  }
  return out;
}

/** Smallest bucket bound holding at least fraction q of the observations. */
export function bucketQuantile(h: Histogram, q: number): number | null {
  if (h.count <= 0) return null;
  const bounds = [...h.buckets.keys()].sort((x, y) => x - y);
  for (const le of bounds) {
    if ((h.buckets.get(le) ?? 0) >= q * h.count) return le;
  }
  return null;
}

/** One short cell per family: "raftkv_batch_size mean 12.4, p99 <= 64". */
export function describe(hs: Histograms): string {
  const parts: string[] = [];
  for (const [name, h] of hs) {
    if (h.count <= 0) continue;
    const mean = Math.round((h.sum / h.count) * 10) / 10;
    const p99 = bucketQuantile(h, 0.99);
    const max = bucketQuantile(h, 1);
    parts.push(`${name} mean ${mean}, p99 ≤${p99}, max ≤${max}`);
  }
  return parts.join("; ");
}

export async function scrape(url: string): Promise<Histograms> {
  try {
    const res = await fetch(`${url}/metrics`, {
      signal: AbortSignal.timeout(3000),
    });
    const text = await res.text();
    return res.ok ? parseHistograms(text) : new Map();
  } catch {
    return new Map();
  }
}
