// RaftKV vs etcd, side by side in one run (issue #7). Each scenario starts a
// fresh cluster of each system, drives it from bench/load.ts in its own
// process, and tears it down; the report is markdown on stdout. A scenario
// runs in rounds, the systems taking turns to go first, and the ratio is the
// median of the rounds': a slow minute of the machine then lands on both.
// -A because Deno 2 lets only --allow-all read /proc (CPU, RSS), and the
// unrestricted --allow-run a runner of etcd and deno needs is as strong anyway.
//
//   deno run -A bench/run.ts [--duration 10s] [--warmup 5s] [--scenarios put,get,seq,follower,large,single,memory,churn]
//     [--rounds 3] [--writes 200000] [--no-etcd] [--no-raftkv] [--main ./main.ts] [--out FILE]
//     [--ready-timeout 30s] [--keep-logs DIR]

import { parseArgs } from "node:util";
import type { System } from "./cluster.ts";
import { parseSeconds } from "./duration.ts";
import { measure, type Row } from "./measure.ts";
import { cpuTicks, loadAverage, machine } from "./procfs.ts";
import { cleanupAll, cleanupOnSignals } from "./procs.ts";
import { report } from "./report.ts";
import { allScenarios, pickScenarios } from "./scenarios.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

interface RunOptions {
  durationS: number;
  warmupS: number;
  rounds: number;
  scenarios: string;
  writes: number;
  etcd: boolean;
  raftkv: boolean;
  main: string;
  out: string | null;
  readyTimeoutMs: number;
  keepLogs: string | null;
}

function parseRunArgs(args: string[]): RunOptions {
  const s = { type: "string" } as const;
  const b = { type: "boolean", default: false } as const;
  const { values: v } = parseArgs({
    args,
    options: {
      duration: { ...s, default: "10s" },
      warmup: { ...s, default: "5s" },
      rounds: { ...s, default: "3" },
      scenarios: { ...s, default: "all" },
      writes: { ...s, default: "200000" },
      "no-etcd": b,
      "no-raftkv": b,
      main: { ...s, default: `${ROOT}/main.ts` },
      out: s,
      "ready-timeout": { ...s, default: "30s" },
      "keep-logs": s,
    },
  });
  const rounds = Number(v.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) {
    throw new Error(`--rounds: bad count ${v.rounds} (1-20)`);
  }
  const writes = Number(v.writes);
  if (!Number.isInteger(writes) || writes < 1) {
    throw new Error(`--writes: bad count ${v.writes}`);
  }
  return {
    durationS: parseSeconds(v.duration),
    warmupS: parseSeconds(v.warmup),
    rounds,
    scenarios: v.scenarios,
    writes,
    etcd: !v["no-etcd"],
    raftkv: !v["no-raftkv"],
    main: v.main.startsWith("/") ? v.main : `${Deno.cwd()}/${v.main}`,
    out: v.out ?? null,
    readyTimeoutMs: parseSeconds(v["ready-timeout"]) * 1000,
    keepLogs: v["keep-logs"] ?? null,
  };
}

async function version(cmd: string, args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).split("\n")[0]?.trim() ?? "" : null;
  } catch {
    return null;
  }
}

/** Which systems this run can compare, with a note for each one left out. */
async function systems(
  o: RunOptions,
): Promise<{ list: System[]; notes: string[] }> {
  const list: System[] = [];
  const notes: string[] = [];
  const hasMain = await Deno.stat(o.main).then(() => true, () => false);
  if (o.raftkv && hasMain) list.push("raftkv");
  else if (o.raftkv) notes.push(`RaftKV skipped: ${o.main} does not exist yet`);
  const etcd = o.etcd ? await version("etcd", ["--version"]) : null;
  if (etcd) list.push("etcd");
  else if (o.etcd) {
    notes.push("etcd skipped: not on PATH (apt-get install etcd-server)");
  }
  if (Deno.build.os === "linux" && await cpuTicks(Deno.pid) === null) {
    notes.push(
      "CPU and RSS not measured: Deno 2 reads /proc only with -A (deno run -A bench/run.ts)",
    );
  }
  return { list, notes };
}

async function header(o: RunOptions, loadBefore: string) {
  const etcd = await version("etcd", ["--version"]);
  // Name the code measured: this checkout's commit, or the --main given.
  const git = await version("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"]);
  const raftkv = o.main === `${ROOT}/main.ts` && git ? `RaftKV at ${git}` : `RaftKV ${o.main}`;
  return {
    command: `deno task bench ${Deno.args.join(" ")}`.trim(),
    // Other work on the box moves the numbers: say how busy it was.
    machine:
      `${await machine()}, load average ${loadBefore} before and ${await loadAverage()} after`,
    versions: `deno ${Deno.version.deno}${etcd ? `, ${etcd}` : ""}, ${raftkv}` +
      `, ${o.warmupS}s warm-up (not for large and the memory runs) and ${o.durationS}s measured per scenario and round, ${o.rounds} round${
        o.rounds > 1 ? "s" : ""
      }`,
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
  };
}

async function main(o: RunOptions): Promise<void> {
  const chosen = pickScenarios(allScenarios(o), o.scenarios);
  const { list, notes } = await systems(o);
  notes.forEach((n) => console.error(`bench: ${n}`));
  if (list.length === 0) throw new Error("nothing to benchmark");
  const loadBefore = await loadAverage();
  const rows: Row[] = [];
  for (const s of chosen) {
    // The memory runs are long and report RSS, not a ratio: one round.
    const rounds = s.memory ? 1 : o.rounds;
    for (let round = 1; round <= rounds; round++) {
      for (const sys of round % 2 === 1 ? list : [...list].reverse()) {
        console.error(`bench: ${s.name} on ${sys}, round ${round}/${rounds}: ${s.title}`);
        const keep = o.keepLogs ? { keepLogs: `${o.keepLogs}/${s.name}-${round}` } : {};
        const row = await measure(sys, s, {
          main: o.main,
          readyTimeoutMs: o.readyTimeoutMs,
          ...keep,
        }, round);
        console.error(
          row.error ? `bench:   FAILED ${row.error}` : `bench:   ${JSON.stringify(row.load)}`,
        );
        rows.push(row);
      }
    }
  }
  const md = report(await header(o, loadBefore), rows) +
    notes.map((n) => `\n${n}\n`).join("");
  console.log(md);
  if (o.out) await Deno.writeTextFile(o.out, md);
}

if (import.meta.main) {
  cleanupOnSignals();
  let code = 0;
  try {
    await main(parseRunArgs(Deno.args));
  } catch (e) {
    console.error(`bench: ${e instanceof Error ? e.message : e}`);
    code = 1;
  } finally {
    await cleanupAll();
  }
  Deno.exit(code);
}
