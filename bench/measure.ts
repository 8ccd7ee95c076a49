// One scenario against one system: fresh cluster, separate load process, CPU
// and batch sizes sampled over exactly the measured window, then teardown.

import {
  type Cluster,
  leaderUrl,
  startCluster,
  type StartOptions,
  stopCluster,
  type System,
} from "./cluster.ts";
import type { LoadResult } from "./load.ts";
import { describe, diff, type Histograms, scrape } from "./metrics.ts";
import { cpuPercent, cpuTicks, type Memory, memory } from "./procfs.ts";
import { spawn, stop, tail } from "./procs.ts";
import type { Scenario } from "./scenarios.ts";

export interface Row {
  scenario: Scenario;
  system: System;
  /** Which of the run's rounds (1-based); the systems alternate who goes first. */
  round: number;
  load?: LoadResult;
  error?: string | undefined;
  /** Per node, % of one core over the measured window. */
  nodeCpu: (number | null)[];
  loadCpu: number | null;
  /** Node CPU time per successful op, microseconds. */
  cpuUsPerOp: number | null;
  batch: string;
  rssBefore: Memory[];
  rssAfter: Memory[];
}

interface Window {
  ticks: (number | null)[];
  at: number;
  batch: Histograms;
}

const LOAD_SCRIPT = new URL("./load.ts", import.meta.url).pathname;

async function sampleWindow(
  pids: number[],
  metricsUrl: string | null,
): Promise<Window> {
  const [ticks, batch] = await Promise.all([
    Promise.all(pids.map(cpuTicks)),
    metricsUrl ? scrape(metricsUrl) : Promise.resolve(new Map() as Histograms),
  ]);
  return { ticks, at: performance.now(), batch };
}

/** Reads the load process's stdout line by line; samples at the window edges. */
async function driveLoad(c: Cluster, s: Scenario, row: Row): Promise<void> {
  const urls = c.members.map((m) => m.url).join(",");
  const args = [
    "run",
    "--allow-net",
    LOAD_SCRIPT,
    "--target",
    c.system,
    "--urls",
    urls,
    ...s.load,
  ];
  const proc = await spawn(Deno.execPath(), args, `${c.dir}/load.log`, {
    pipeStdout: true,
  });
  const pids = [...c.members.map((m) => m.proc.pid), proc.pid];
  const leader = c.system === "raftkv" ? await leaderUrl(c) : null;
  const timer = setTimeout(() => stop(proc.child, 1000), s.timeoutS * 1000);
  let start: Window | null = null;
  try {
    for await (const line of lines(proc.child.stdout)) {
      if (line.includes('"phase"')) start = await sampleWindow(pids, leader);
      else if (line.startsWith("{")) {
        row.load = JSON.parse(line) as LoadResult;
        if (start) finishWindow(row, start, await sampleWindow(pids, leader));
      }
    }
  } finally {
    clearTimeout(timer);
    await stop(proc.child, 1000);
  }
  if (!row.load) {
    throw new Error(
      `load process ended without a result (limit ${s.timeoutS}s):\n${await tail(proc.log)}`,
    );
  }
}

async function* lines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
    }
  }
  if (buf.trim()) yield buf.trim();
}

function finishWindow(row: Row, a: Window, b: Window): void {
  const secs = (b.at - a.at) / 1000;
  const pct = a.ticks.map((t, i) => cpuPercent(t, b.ticks[i] ?? null, secs));
  row.loadCpu = pct.pop() ?? null;
  row.nodeCpu = pct;
  const known = pct.filter((p): p is number => p !== null);
  const ops = row.load?.ops ?? 0;
  if (known.length === pct.length && ops > 0) {
    const cpuSecs = known.reduce((x, y) => x + y, 0) / 100 * secs;
    row.cpuUsPerOp = Math.round(cpuSecs / ops * 1e6);
  }
  row.batch = describe(diff(a.batch, b.batch));
}

/** A row with nothing measured yet. */
export function emptyRow(scenario: Scenario, system: System, round = 1): Row {
  return {
    scenario,
    system,
    round,
    nodeCpu: [],
    loadCpu: null,
    cpuUsPerOp: null,
    batch: "",
    rssBefore: [],
    rssAfter: [],
  };
}

/** A node that died under load is a finding: the load figures stay, this says why. */
async function deaths(c: Cluster): Promise<string | undefined> {
  const dead = c.members.filter((m) => m.proc.exited());
  if (dead.length === 0) return undefined;
  const says = await Promise.all(dead.map(async (m) => {
    const { code, signal } = await m.proc.child.status;
    return `${m.id} exited during the run (code ${code}, signal ${signal}):\n${await tail(
      m.proc.log,
      5,
    )}`;
  }));
  return says.join("\n");
}

/**
 * A port picked free can be taken before the member binds it (an outgoing
 * connection's ephemeral port): such a start is tried again on new ports.
 */
async function startWithRetry(system: System, nodes: number, opts: StartOptions): Promise<Cluster> {
  for (let attempt = 1;; attempt++) {
    try {
      return await startCluster(system, nodes, opts);
    } catch (e) {
      const taken = /address already in use|AddrInUse/i.test(String(e));
      if (!taken || attempt === 3) throw e;
      console.error(
        `bench: ${system} could not bind a port (attempt ${attempt}), trying new ports`,
      );
    }
  }
}

export async function measure(
  system: System,
  s: Scenario,
  opts: StartOptions,
  round = 1,
): Promise<Row> {
  const row = emptyRow(s, system, round);
  let cluster: Cluster | null = null;
  try {
    cluster = await startWithRetry(system, s.nodes, opts);
    const pids = cluster.members.map((m) => m.proc.pid);
    row.rssBefore = await Promise.all(pids.map(memory));
    await driveLoad(cluster, s, row);
    row.rssAfter = await Promise.all(pids.map(memory));
    row.error = await deaths(cluster);
  } catch (e) {
    row.error = e instanceof Error ? e.message : String(e);
  } finally {
    if (cluster) await stopCluster(cluster, opts.keepLogs);
  }
  return row;
}
