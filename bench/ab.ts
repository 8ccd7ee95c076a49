// Two builds of RaftKV, A and B, side by side: both three-node clusters run
// at once and every round loads BOTH at the same time (each its own load
// process, puts to its leader), so both see the same minute of the machine.
// Back-to-back runs of one build on this VM swing by up to 2x between
// minutes; here an A/A pair gave a round-to-round spread (sd) of ~5% and a
// median within 2%, so a 5% change shows in eight rounds (ops/s; p99 is
// printed too, e.g. for `--concurrency 1`). The figure is B/A
// under contention for the same cores: it says which build is cheaper, not
// each one's speed alone (that is `bench/run.ts`).
//
//   deno run -A bench/ab.ts --a /tmp/a/main.ts --b /tmp/b/main.ts [--rounds 8] [--duration 5s]
//     [--warmup 5s] [--nodes 3] [--concurrency 64] [--value-size 100] [--keys 10000]

import { parseArgs } from "node:util";
import { type Cluster, leaderUrl, startCluster, stopCluster } from "./cluster.ts";
import { parseSeconds } from "./duration.ts";
import type { LoadResult } from "./load.ts";
import { cleanupAll, cleanupOnSignals, spawn, stop, tail } from "./procs.ts";
import { median } from "./report.ts";

const LOAD_SCRIPT = new URL("./load.ts", import.meta.url).pathname;

export interface AbOptions {
  a: string;
  b: string;
  rounds: number;
  /** Nodes per cluster (3; 1 for the engine and HTTP path alone). */
  nodes: number;
  durationS: number;
  warmupS: number;
  load: string[];
}

export function parseAbArgs(args: string[]): AbOptions {
  const s = { type: "string" } as const;
  const { values: v } = parseArgs({
    args,
    options: {
      a: s,
      b: s,
      rounds: { ...s, default: "8" },
      nodes: { ...s, default: "3" },
      duration: { ...s, default: "5s" },
      warmup: { ...s, default: "5s" },
      concurrency: { ...s, default: "64" },
      "value-size": { ...s, default: "100" },
      keys: { ...s, default: "10000" },
    },
  });
  if (!v.a || !v.b) throw new Error("--a and --b (paths of the two main.ts) are required");
  const rounds = Number(v.rounds);
  if (!Number.isInteger(rounds) || rounds < 2 || rounds > 50) {
    throw new Error(`--rounds: bad count ${v.rounds} (2-50)`);
  }
  const nodes = Number(v.nodes);
  if (nodes !== 1 && nodes !== 3 && nodes !== 5) {
    throw new Error(`--nodes: 1, 3 or 5, not ${v.nodes}`);
  }
  const load = ["--mix", "0", "--to", "leader", "--warmup", "0s"];
  for (const k of ["concurrency", "value-size", "keys"] as const) load.push(`--${k}`, v[k]);
  return {
    a: v.a,
    b: v.b,
    rounds,
    nodes,
    durationS: parseSeconds(v.duration),
    warmupS: parseSeconds(v.warmup),
    load,
  };
}

export interface AbSummary {
  median: number;
  mean: number;
  sd: number;
}

/** B/A per round, summarised (sample standard deviation). */
export function summarize(ratios: readonly number[]): AbSummary {
  const mean = ratios.reduce((x, y) => x + y, 0) / ratios.length;
  const sq = ratios.reduce((x, y) => x + (y - mean) ** 2, 0);
  const sd = ratios.length > 1 ? Math.sqrt(sq / (ratios.length - 1)) : 0;
  return { median: median(ratios), mean, sd };
}

/** One load process against `url` for `seconds`; its result line. */
async function loadOnce(
  c: Cluster,
  url: string,
  o: AbOptions,
  seconds: number,
): Promise<LoadResult> {
  const args = [
    "run",
    "--allow-net",
    LOAD_SCRIPT,
    ...["--target", "raftkv", "--urls", url, "--duration", `${seconds}s`],
    ...o.load,
  ];
  const proc = await spawn(Deno.execPath(), args, `${c.dir}/load.log`, { pipeStdout: true });
  const timer = setTimeout(() => stop(proc.child, 1000), (seconds + 60) * 1000);
  try {
    const out = await new Response(proc.child.stdout).text();
    await proc.child.status;
    const line = out.split("\n").find((l) => l.startsWith("{") && l.includes('"throughput"'));
    if (!line) throw new Error(`load ended without a result:\n${await tail(proc.log)}`);
    return JSON.parse(line) as LoadResult;
  } finally {
    clearTimeout(timer);
  }
}

async function leaderOf(c: Cluster): Promise<string> {
  const url = await leaderUrl(c);
  if (!url) throw new Error(`no leader in ${c.dir}`);
  return url;
}

async function main(o: AbOptions): Promise<void> {
  const opts = { readyTimeoutMs: 30_000 };
  const a = await startCluster("raftkv", o.nodes, { ...opts, main: o.a });
  const b = await startCluster("raftkv", o.nodes, { ...opts, main: o.b }).catch(async (e) => {
    await stopCluster(a);
    throw e;
  });
  try {
    // Leaders are looked up each round: after a change, puts would be forwarded.
    const both = async (s: number) => {
      const [la, lb] = [await leaderOf(a), await leaderOf(b)];
      return await Promise.all([loadOnce(a, la, o, s), loadOnce(b, lb, o, s)]);
    };
    if (o.warmupS > 0) await both(o.warmupS);
    const ops: number[] = [], p99: number[] = [];
    for (let r = 1; r <= o.rounds; r++) {
      const [ra, rb] = await both(o.durationS);
      ops.push(rb.throughput / ra.throughput);
      if (ra.p99Ms > 0) p99.push(rb.p99Ms / ra.p99Ms);
      console.log(
        `round ${r}: ops/s A ${Math.round(ra.throughput)} B ${Math.round(rb.throughput)} ` +
          `(B/A ${fmt(ops.at(-1)!)}), p99 ms A ${ra.p99Ms} B ${rb.p99Ms} (B/A ${
            fmt(rb.p99Ms / ra.p99Ms)
          })`,
      );
    }
    for (const [name, xs] of [["ops/s", ops], ["p99", p99]] as const) {
      if (xs.length === 0) continue;
      const s = summarize(xs);
      console.log(`${name} B/A median ${fmt(s.median)}, mean ${fmt(s.mean)}, sd ${fmt(s.sd)}`);
    }
  } finally {
    await Promise.all([stopCluster(a), stopCluster(b)]);
  }
}

const fmt = (x: number) => x.toFixed(3);

if (import.meta.main) {
  cleanupOnSignals();
  try {
    await main(parseAbArgs(Deno.args));
  } catch (e) {
    console.error(`ab: ${e instanceof Error ? e.message : e}`);
    await cleanupAll();
    Deno.exit(2);
  }
}
