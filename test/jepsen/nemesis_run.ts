/**
 * Executes a planned nemesis schedule against a live cluster and records
 * what actually happened (which node was leader, what took effect).
 * @module
 */

import { call, type Cluster } from "./cluster.ts";
import { type Blocks, CRASH_POINTS, cutLink, isolate, mute, type PlannedFault } from "./nemesis.ts";
import type { NodeProc } from "./node_proc.ts";

export interface ExecutedFault {
  readonly kind: PlannedFault["kind"];
  /** ms since the workload started. */
  readonly at: number;
  readonly healedAt: number;
  readonly targets: readonly string[];
  readonly detail: string;
}

/** Undoes a fault; may return a note on what had happened. */
type Heal = () => Promise<string | void>;

interface Applied {
  readonly targets: readonly string[];
  readonly detail: string;
  readonly heal: Heal;
}

/**
 * Runs each fault at its time (relative to `clock()`), holds it for its
 * duration and heals it; stops planning new faults once `stopAt` passes.
 */
export async function runNemesis(
  cluster: Cluster,
  plan: readonly PlannedFault[],
  clock: () => number,
  stopAt: number,
  log: ExecutedFault[],
): Promise<void> {
  for (const f of plan) {
    await sleepUntil(clock, f.at);
    if (clock() >= stopAt) return;
    const at = clock();
    const applied = await apply(cluster, f);
    await sleepUntil(clock, Math.min(at + f.duration, stopAt));
    const note = await applied.heal();
    log.push({
      kind: f.kind,
      at,
      healedAt: clock(),
      targets: applied.targets,
      detail: note ? `${applied.detail}; ${note}` : applied.detail,
    });
  }
}

async function apply(c: Cluster, f: PlannedFault): Promise<Applied> {
  const nodes = c.nodes;
  const picked = nodes[f.pick % nodes.length] as NodeProc;
  const offset = 1 + (f.pick >> 8) % Math.max(1, nodes.length - 1);
  const other = nodes[(f.pick + offset) % nodes.length] as NodeProc;
  const ids = nodes.map((n) => n.id);
  const leaderOr = async () => (await c.currentLeader()) ?? picked;
  switch (f.kind) {
    case "kill":
      return await kill(picked);
    case "kill-leader":
      return await kill(await leaderOr());
    case "kill-all": {
      await c.killAll();
      return { targets: ids, detail: "SIGKILL all", heal: () => c.startAll() };
    }
    case "pause-leader": {
      const n = await leaderOr();
      n.pause();
      return { targets: [n.id], detail: "SIGSTOP", heal: () => Promise.resolve(n.resume()) };
    }
    case "partition-minority":
      return await partition(c, isolate([picked.id], ids), "isolated");
    case "partition-leader":
      return await partition(c, isolate([(await leaderOr()).id], ids), "isolated leader");
    case "partition-link":
      return await partition(c, cutLink(picked.id, other.id), "link cut");
    case "one-way":
      return await partition(c, mute(picked.id, ids), "muted (one-way)");
    case "slow-disk":
      return await slowDisk(c, await leaderOr(), f.param);
    case "crash-point":
      return await crashAt(c, f.pick % 2 ? await leaderOr() : picked, f.param);
    case "transfer-leader":
      return await transfer(c, await leaderOr(), picked, other);
  }
}

/** Asks the leader to hand leadership to another node (`POST /v1/cluster/leader`). */
async function transfer(c: Cluster, from: NodeProc, a: NodeProc, b: NodeProc): Promise<Applied> {
  const to = a.id !== from.id ? a : b;
  const r = await call(`${from.url}/v1/cluster/leader`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ id: to.id }),
    timeoutMs: 3000,
  });
  const now = await c.currentLeader();
  const detail = `${from.id} → ${to.id}: ${r?.status ?? "no answer"}; leader now ${now?.id ?? "?"}`;
  return { targets: [from.id, to.id], detail, heal: () => Promise.resolve() };
}

/** Arms a crash failpoint; healing restarts the node if it went off. */
async function crashAt(c: Cluster, n: NodeProc, param: number): Promise<Applied> {
  const point = CRASH_POINTS[param % CRASH_POINTS.length] as string;
  n.expectExit = true;
  const armed = await c.setFailpoint(n, point, { kind: "crash" });
  const heal = async () => {
    if (n.running) {
      if (await c.clearFailpoints(n)) n.expectExit = false;
      return "did not go off";
    }
    await n.start();
    n.expectExit = false;
    return "went off, restarted";
  };
  return { targets: [n.id], detail: `crash at ${point}${armed ? "" : " (not set)"}`, heal };
}

async function kill(n: NodeProc): Promise<Applied> {
  await n.kill();
  return { targets: [n.id], detail: "SIGKILL", heal: () => n.start() };
}

async function partition(
  c: Cluster,
  blocks: Blocks,
  what: string,
): Promise<Applied> {
  const results = await Promise.all(
    [...blocks].map(([id, peers]) =>
      c.setFailpoint(c.node(id), "transport.send", { kind: "drop", peers })
    ),
  );
  const missed = [...blocks.keys()].filter((_, i) => !results[i]);
  const desc = [...blocks].map(([id, peers]) => `${id}↛${peers.join("+")}`);
  const detail = `${what}: ${desc.join(", ")}` +
    (missed.length ? ` (not set on ${missed.join(",")})` : "");
  const heal = async () => {
    await Promise.all([...blocks.keys()].map((id) => c.clearFailpoints(c.node(id))));
  };
  return { targets: [...blocks.keys()], detail, heal };
}

async function slowDisk(c: Cluster, n: NodeProc, ms: number): Promise<Applied> {
  const point = ms % 2 ? "storage.raft.commit" : "storage.data.commit";
  const ok = await c.setFailpoint(n, point, { kind: "delay", ms });
  const detail = `${point} +${ms} ms${ok ? "" : " (not set)"}`;
  return {
    targets: [n.id],
    detail,
    heal: async () => void await c.clearFailpoints(n),
  };
}

/** Waits until `clock()` reaches `t` (scheduling, not synchronization). */
function sleepUntil(clock: () => number, t: number): Promise<void> {
  const ms = Math.max(0, t - clock());
  return new Promise((r) => setTimeout(r, ms));
}

/** One line per executed fault, for reports. */
export function formatExecuted(log: readonly ExecutedFault[]): string {
  return log.map((f) =>
    `  ${(f.at / 1000).toFixed(2)}s–${(f.healedAt / 1000).toFixed(2)}s ` +
    `${f.kind} [${f.targets.join(",")}] ${f.detail}`
  ).join("\n");
}
