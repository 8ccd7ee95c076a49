/**
 * One Jepsen run: start a real cluster, drive a workload while the nemesis
 * injects faults, heal, read everything back in a quiet phase, check, and
 * always tear the processes down.
 * @module
 */

import { checkHistory, explain } from "./checker.ts";
import { checkDurability, FINAL_PROCESS, indexRegressions } from "./checks.ts";
import { KvClient } from "./client.ts";
import { Cluster } from "./cluster.ts";
import { History, type Op } from "./history.ts";
import { type FaultKind, type PlannedFault, planNemesis } from "./nemesis.ts";
import { type ExecutedFault, runNemesis } from "./nemesis_run.ts";
import { formatReport } from "./report.ts";
import { Rng } from "./rng.ts";
import {
  type BankContext,
  checkBank,
  openAccounts,
  openingBalances,
  readBank,
  runBankClients,
} from "./workload_bank.ts";
import { finalReads, runRegisterClients, type Target } from "./workload_register.ts";

export type Workload = "register" | "bank";

export interface RunOptions {
  readonly workload: Workload;
  readonly timeSec: number;
  readonly seed: number;
  readonly nodes: number;
  readonly clients: number;
  /** Register keys, or bank accounts. */
  readonly keys: number;
  readonly main: string;
  readonly cwd: string;
  readonly faults: readonly FaultKind[];
  readonly clientTimeoutMs: number;
  readonly tickMs: number;
  readonly requestTimeoutMs: number;
  readonly snapshotEntries: number;
  /** The nodes' --log-level. */
  readonly logLevel: string;
  readonly checkBudgetMs: number;
  /** Keep the data dirs and logs of a failed run (the report names them). */
  readonly keepOnFailure: boolean;
  /** Leave a failed run's nodes up this long, for a look (0: no). */
  readonly holdOnFailureSec: number;
  readonly log: (line: string) => void;
}

export interface PhaseOutcome {
  readonly executed: ExecutedFault[];
  readonly problems: string[];
  readonly warnings: string[];
  readonly stats: Readonly<Record<string, number>>;
  readonly history?: readonly Op[];
}

export interface RunResult extends PhaseOutcome {
  readonly ok: boolean;
  readonly options: RunOptions;
  readonly plan: readonly PlannedFault[];
  /** The kept temp root of a failed run. */
  readonly kept?: string;
  readonly report: string;
}

/** Runs one workload under the nemesis; never leaves processes behind. */
export async function runJepsen(o: RunOptions): Promise<RunResult> {
  const rng = new Rng(o.seed);
  const plan = planNemesis(rng.fork(), o.timeSec * 1000, o.faults);
  const cluster = await Cluster.create({ ...o, nodes: o.nodes });
  let keep = false;
  try {
    await cluster.startAll();
    await cluster.waitReady(30_000);
    o.log(`cluster up in ${cluster.root}; ${o.workload} for ${o.timeSec}s`);
    const phase = o.workload === "register" ? registerPhase : bankPhase;
    const out = await phase(cluster, o, rng, plan);
    out.problems.push(...await crashes(cluster));
    keep = out.problems.length > 0 && o.keepOnFailure;
    if (keep && out.history) {
      await Deno.writeTextFile(`${cluster.root}/history.json`, JSON.stringify(out.history));
    }
    const kept = keep ? { kept: cluster.root } : {};
    const result = { ...out, ok: out.problems.length === 0, options: o, plan, ...kept };
    const report = formatReport(result);
    if (!result.ok && o.holdOnFailureSec > 0) await hold(cluster, o, report);
    return { ...result, report };
  } finally {
    await cluster.teardown(keep);
  }
}

/**
 * Nodes that exited on their own (the nemesis only kills with SIGKILL),
 * with the end of their log: the files go with the temp dir unless --keep.
 */
async function crashes(cluster: Cluster): Promise<string[]> {
  const out: string[] = [];
  for (const n of cluster.nodes) {
    if (n.unexpectedExits.length === 0) continue;
    const log = await Deno.readTextFile(n.spec.logFile).catch(() => "");
    const tail = log.trimEnd().split("\n").slice(-12).map((l) => `    ${l}`).join("\n");
    for (const how of n.unexpectedExits) {
      out.push(`${n.id} exited by itself (${how}); see ${n.spec.logFile}; its log ends:\n${tail}`);
    }
  }
  return out;
}

/** Leaves a failed run's nodes up for a look (`--hold`). */
async function hold(cluster: Cluster, o: RunOptions, report: string): Promise<void> {
  o.log(`${report}\nnodes stay up ${o.holdOnFailureSec}s:\n${await cluster.describe()}`);
  await new Promise((r) => setTimeout(r, o.holdOnFailureSec * 1000));
}

function targets(c: Cluster): Target[] {
  return c.nodes.map((n) => ({ id: n.id, url: n.url }));
}

/** Workload and nemesis together, then heal and wait for a leader. */
async function drive(
  cluster: Cluster,
  o: RunOptions,
  plan: readonly PlannedFault[],
  t0: number,
  workload: () => Promise<void>,
): Promise<{ executed: ExecutedFault[]; problems: string[] }> {
  const clock = () => performance.now() - t0;
  const executed: ExecutedFault[] = [];
  const stopAt = o.timeSec * 1000;
  await Promise.all([
    workload(),
    runNemesis(cluster, plan, clock, stopAt, executed),
  ]);
  o.log(`load done at ${(clock() / 1000).toFixed(1)}s; healing`);
  const problems: string[] = [];
  try {
    await cluster.heal(20_000);
    await cluster.waitReady(30_000);
  } catch (e) {
    problems.push(`cluster did not recover after healing: ${String(e)}`);
  }
  return { executed, problems };
}

async function registerPhase(
  cluster: Cluster,
  o: RunOptions,
  rng: Rng,
  plan: readonly PlannedFault[],
): Promise<PhaseOutcome> {
  const t0 = performance.now();
  const history = new History(() => performance.now() - t0);
  let value = 0;
  const ctx = {
    history,
    client: new KvClient(o.clientTimeoutMs),
    nodes: targets(cluster),
    stopAt: t0 + o.timeSec * 1000,
    nextValue: () => ++value,
  };
  const keys = Array.from({ length: o.keys }, (_, i) => `jepsen/r${i}`);
  const run = () => runRegisterClients(ctx, rng.fork(), o.clients, keys);
  const d = await drive(cluster, o, plan, t0, run);
  const unread = await finalReads(ctx, keys, performance.now() + 20_000);
  const ops = history.ops();
  const t1 = performance.now();
  const checked = checkRegister(ops, o, unread);
  o.log(`checked ${ops.length} ops in ${((performance.now() - t1) / 1000).toFixed(1)}s`);
  return { ...d, ...checked, history: ops };
}

function checkRegister(
  ops: readonly Op[],
  o: RunOptions,
  unread: readonly string[],
): Omit<PhaseOutcome, "executed"> {
  const problems = unread.map((u) => `quiet phase: no linearizable read of ${u}`);
  const warnings: string[] = [];
  const check = checkHistory(ops, { budgetMs: o.checkBudgetMs });
  if (check.valid === false) problems.push(explain(check));
  if (check.valid === "unknown") warnings.push(explain(check));
  problems.push(...checkDurability(ops));
  const regressions = indexRegressions(ops);
  if (regressions.length > 0) {
    warnings.push(
      `${regressions.length} reads answered at an older index than an ` +
        `answer that completed before they started, e.g.\n` +
        regressions.slice(0, 3).join("\n"),
    );
  }
  return { problems, warnings, stats: opStats(ops) };
}

function opStats(ops: readonly Op[]): Record<string, number> {
  const stats: Record<string, number> = { ops: ops.length };
  for (const op of ops) {
    const k = op.f === "get" ? `get-${op.consistency}` : op.f;
    stats[`${k} ${op.status}`] = (stats[`${k} ${op.status}`] ?? 0) + 1;
    stats[op.status] = (stats[op.status] ?? 0) + 1;
  }
  return stats;
}

async function bankPhase(
  cluster: Cluster,
  o: RunOptions,
  rng: Rng,
  plan: readonly PlannedFault[],
): Promise<PhaseOutcome> {
  const client = new KvClient(o.clientTimeoutMs);
  const opening = openingBalances(rng.fork(), o.keys);
  const first = targets(cluster)[0] as Target;
  await openAccounts(client, first.url, opening, performance.now() + 20_000);
  const t0 = performance.now();
  const ctx: BankContext = {
    client,
    nodes: targets(cluster),
    stopAt: t0 + o.timeSec * 1000,
    clock: () => performance.now() - t0,
    reads: [],
    transfers: { ok: 0, conflict: 0, failed: 0 },
  };
  const d = await drive(cluster, o, plan, t0, () => runBankClients(ctx, rng.fork(), o.clients));
  const problems = [...d.problems, ...await finalBankReads(ctx)];
  problems.push(...checkBank(ctx.reads, opening));
  const okReads = ctx.reads.filter((r) => r.ok).length;
  const stats = { reads: ctx.reads.length, "reads ok": okReads, ...prefixed(ctx.transfers) };
  return { executed: d.executed, problems, warnings: [], stats };
}

function prefixed(t: BankContext["transfers"]): Record<string, number> {
  return {
    "transfers ok": t.ok,
    "transfers conflict": t.conflict,
    "transfers failed/unknown": t.failed,
  };
}

/** Quiet phase: a linearizable read from every node must succeed. */
async function finalBankReads(ctx: BankContext): Promise<string[]> {
  const deadline = performance.now() + 20_000;
  const problems: string[] = [];
  for (const node of ctx.nodes) {
    for (;;) {
      const r = await readBank(ctx, FINAL_PROCESS, node, "linearizable");
      if (r.ok) break;
      if (performance.now() > deadline) {
        problems.push(`quiet phase: no linearizable bank read on ${node.id}: ${r.error}`);
        break;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  return problems;
}
