// Load generator, run as its own process so its CPU does not hide inside the
// server's. Closed loop: `concurrency` workers, each with one request in
// flight over a keep-alive HTTP/1.1 connection (`http1.ts`). Prints
// {"phase":"measure"} when the measured window opens, then one JSON result
// line.
//
//   deno run --allow-net bench/load.ts --target etcd --urls http://127.0.0.1:2379 \
//     --concurrency 64 --value-size 100 --mix 0 --duration 10s

import { parseArgs } from "node:util";
import { Samples, type Summary } from "./stats.ts";
import {
  closeConnections,
  type Consistency,
  etcd,
  makeValue,
  type Outcome,
  raftkv,
  type Target,
} from "./targets.ts";
import { parseSeconds } from "./duration.ts";

export interface LoadOptions {
  target: "raftkv" | "etcd";
  urls: string[];
  to: "leader" | "followers" | "all";
  concurrency: number;
  valueSize: number;
  keys: number;
  mix: number;
  warmupS: number;
  durationS: number;
  maxOps: number;
  consistency: Consistency;
  prefill: boolean;
  sequential: boolean;
}

export interface LoadResult extends Summary {
  target: string;
  urls: string[];
  ops: number;
  errors: number;
  errorsByStatus: Record<string, number>;
  misses: number;
  prefillErrors: number;
  seconds: number;
  throughput: number;
}

const ERROR_PAUSE_MS = 5;

function oneOf<T extends string>(
  v: string,
  allowed: readonly T[],
  flag: string,
): T {
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new Error(`--${flag} must be one of ${allowed.join("|")}, got ${v}`);
}

function count(v: string, flag: string, min = 1): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`--${flag}: bad count ${v}`);
  }
  return n;
}

const str = (d: string) => ({ type: "string", default: d }) as const;
const bool = { type: "boolean", default: false } as const;

const LOAD_FLAGS = {
  target: str("raftkv"),
  url: { type: "string", multiple: true, default: [] as string[] },
  urls: str(""),
  to: str("all"),
  concurrency: str("64"),
  "value-size": str("100"),
  keys: str("10000"),
  mix: str("0"),
  warmup: str("1s"),
  duration: str("10s"),
  ops: str("0"),
  consistency: str("linearizable"),
  prefill: bool,
  sequential: bool,
} as const;

export function parseLoadArgs(args: string[]): LoadOptions {
  const { values: v } = parseArgs({ args, options: LOAD_FLAGS });
  const urls = [...v.url, ...v.urls.split(",")].filter((u) => u !== "");
  if (urls.length === 0) throw new Error("give --url or --urls");
  const mix = Number(v.mix);
  if (!(mix >= 0 && mix <= 1)) {
    throw new Error(`--mix must be in [0,1], got ${v.mix}`);
  }
  return {
    target: oneOf(v.target, ["raftkv", "etcd"], "target"),
    urls: urls.map((u) => u.replace(/\/$/, "")),
    to: oneOf(v.to, ["leader", "followers", "all"], "to"),
    concurrency: count(v.concurrency, "concurrency"),
    valueSize: count(v["value-size"], "value-size", 0),
    keys: count(v.keys, "keys"),
    mix,
    warmupS: parseSeconds(v.warmup),
    durationS: parseSeconds(v.duration),
    maxOps: count(v.ops, "ops", 0) || Infinity,
    consistency: oneOf(
      v.consistency,
      ["linearizable", "lease", "stale"],
      "consistency",
    ),
    prefill: v.prefill,
    sequential: v.sequential,
  };
}

/** The URLs the workers talk to, after asking each node whether it leads. */
export async function pickUrls(t: Target, o: LoadOptions): Promise<string[]> {
  if (o.to === "all") return o.urls;
  const leads = await Promise.all(
    o.urls.map((u) => t.isLeader(u).catch(() => false)),
  );
  const chosen = o.urls.filter((_, i) => leads[i] === (o.to === "leader"));
  if (chosen.length === 0) {
    throw new Error(`no ${o.to} among ${o.urls.join(",")}`);
  }
  return chosen;
}

function keyName(n: number): string {
  return `bench-${String(n).padStart(8, "0")}`;
}

/** Writes every key once so reads find something; returns the failures. */
async function prefill(
  t: Target,
  urls: string[],
  o: LoadOptions,
): Promise<number> {
  let next = 0;
  let failed = 0;
  const worker = async (w: number) => {
    const url = urls[w % urls.length] ?? "";
    for (let k = next++; k < o.keys; k = next++) {
      const r = await t.put(url, keyName(k)).catch(() => null);
      if (!r?.ok) failed++;
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, (_, w) => worker(w)));
  return failed;
}

/** A request that got no HTTP answer, named briefly ("Connection refused"). */
export function failed(e: unknown): Outcome {
  const err = e instanceof Error ? e : new Error(String(e));
  const last = err.message.split(": ").pop() ?? "";
  const cause = err.name === "TimeoutError" ? "timeout" : last.replace(/\s*\(os error \d+\)/, "");
  return { status: 0, ok: false, miss: false, cause: cause.slice(0, 40) };
}

class Tally {
  samples = new Samples();
  errors = 0;
  misses = 0;
  byStatus: Record<string, number> = {};

  record(r: Outcome, ms: number): void {
    if (!r.ok) {
      this.errors++;
      const key = r.status === 0 ? `net: ${r.cause}` : String(r.status);
      this.byStatus[key] = (this.byStatus[key] ?? 0) + 1;
      return;
    }
    if (r.miss) this.misses++;
    this.samples.push(ms);
  }
}

/** Closed-loop workers; samples only ops that start inside the window. */
async function drive(t: Target, urls: string[], o: LoadOptions, tally: Tally) {
  const start = performance.now();
  const open = start + o.warmupS * 1000;
  const deadline = open + o.durationS * 1000;
  const marker = setTimeout(
    () => console.log('{"phase":"measure"}'),
    o.warmupS * 1000,
  );
  let measured = 0;
  let seq = 0;
  const worker = async (w: number) => {
    const url = urls[w % urls.length] ?? "";
    for (let t0 = performance.now(); t0 < deadline; t0 = performance.now()) {
      const inWindow = t0 >= open;
      if (inWindow && measured++ >= o.maxOps) break;
      const k = o.sequential ? seq++ % o.keys : Math.floor(Math.random() * o.keys);
      const read = o.mix > 0 && Math.random() < o.mix;
      const r = await (read ? t.get(url, keyName(k)) : t.put(url, keyName(k)))
        .catch(failed);
      if (inWindow) tally.record(r, performance.now() - t0);
      if (!r.ok) await new Promise((res) => setTimeout(res, ERROR_PAUSE_MS));
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, (_, w) => worker(w)));
  clearTimeout(marker);
  return Math.max(0, performance.now() - open) / 1000;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const value = makeValue(o.valueSize);
  const t = o.target === "etcd" ? etcd(value, o.consistency) : raftkv(value, o.consistency);
  const urls = await pickUrls(t, o);
  const prefillErrors = o.prefill ? await prefill(t, urls, o) : 0;
  const tally = new Tally();
  const seconds = await drive(t, urls, o, tally);
  closeConnections();
  const ops = tally.samples.length;
  return {
    target: o.target,
    urls,
    ops,
    errors: tally.errors,
    errorsByStatus: tally.byStatus,
    misses: tally.misses,
    prefillErrors,
    seconds: Math.round(seconds * 1000) / 1000,
    throughput: Math.round((ops / Math.max(seconds, 1e-9)) * 10) / 10,
    ...tally.samples.summary(),
  };
}

if (import.meta.main) {
  try {
    console.log(JSON.stringify(await runLoad(parseLoadArgs(Deno.args))));
  } catch (e) {
    console.error(`load: ${e instanceof Error ? e.message : e}`);
    Deno.exit(2);
  }
}
