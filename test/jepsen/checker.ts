/**
 * Linearizability checker for register histories, partitioned per key
 * (linearizability is compositional: a history is linearizable iff each
 * key's sub-history is).
 *
 * Before the search, cheap checks that explain a failure better than a
 * search can: reads of values nobody wrote, reads of values from the future,
 * writes reported as failed whose value was read anyway (those are then
 * searched as unknown-outcome writes). Stale reads get only those checks;
 * linearizable and lease reads go through the search.
 * @module
 */

import { canonical, formatOp, type Op } from "./history.ts";
import { ABSENT, type Anomaly, compileRegister, type RegisterProblem } from "./register.ts";
import { type BlockedState, search } from "./search.ts";
import { proveByWindow, type WindowProof } from "./window.ts";

export interface CheckOptions {
  /** Per-key search budget; over it the key's result is "unknown". */
  readonly budgetMs?: number;
  /** Per-key bound on memoized configurations. */
  readonly maxConfigs?: number;
}

export interface KeyReport {
  readonly key: string;
  readonly result: "ok" | "violation" | "unknown";
  /** Ops searched (ok ops and unknown-outcome writes). */
  readonly ops: number;
  readonly configs: number;
  readonly ms: number;
  /** For violations and unknowns: the op that could not be linearized. */
  readonly blocker?: Op;
  /** What the register could hold when `blocker` had to complete. */
  readonly states?: readonly string[];
  /** The blocker and the ops around it, by invocation time. */
  readonly window?: readonly Op[];
  /** The smallest window around the blocker with no linearization. */
  readonly proof?: WindowProof;
  /**
   * Set when the key is linearizable if writes answered as failed took
   * effect: those of them near the blocker.
   */
  readonly failedMayExplain?: readonly Op[];
}

export interface CheckResult {
  /** false on any violation or anomaly; "unknown" when a key ran out. */
  readonly valid: true | false | "unknown";
  readonly keys: readonly KeyReport[];
  readonly anomalies: readonly Anomaly[];
}

/** Checks a whole history (any number of keys). */
export function checkHistory(
  history: readonly Op[],
  opts: CheckOptions = {},
): CheckResult {
  const byKey = new Map<string, Op[]>();
  for (const op of history) {
    const list = byKey.get(op.key) ?? [];
    list.push(op);
    byKey.set(op.key, list);
  }
  const anomalies: Anomaly[] = [];
  const keys: KeyReport[] = [];
  for (const [key, ops] of [...byKey].sort(([a], [b]) => a < b ? -1 : 1)) {
    const pre = precheck(ops);
    anomalies.push(...pre.anomalies);
    keys.push(checkKey(key, pre.searchable, ops, opts, anomalies));
  }
  const bad = anomalies.length > 0 ||
    keys.some((k) => k.result === "violation");
  const unknown = keys.some((k) => k.result === "unknown");
  const valid = bad ? false : unknown ? "unknown" : true;
  return { valid, keys, anomalies };
}

function checkKey(
  key: string,
  ops: readonly Op[],
  all: readonly Op[],
  opts: CheckOptions,
  anomalies: Anomaly[],
): KeyReport {
  const t0 = performance.now();
  const { problem, r, proof } = searchKey(ops, opts, all);
  anomalies.push(...problem.anomalies);
  const base = { key, ops: ops.length, configs: r.configs };
  const ms = () => performance.now() - t0;
  if (r.result === "ok") return { ...base, result: "ok", ms: ms() };
  const last = problem.ops[r.blocker];
  if (!last) return { ...base, result: r.result, ms: ms() };
  const result = proof ? "violation" : r.result;
  const excuses = result === "violation" ? failedWritesExplain(ops, all, last, opts) : [];
  return {
    ...base,
    result,
    ms: ms(),
    blocker: last,
    states: r.states.map((s) => describeState(problem, s)),
    window: windowAround(last, ops),
    ...(proof ? { proof } : {}),
    ...(excuses.length > 0 ? { failedMayExplain: excuses } : {}),
  };
}

/**
 * The whole-key search, with a window proof when it gets stuck. `all` (every
 * op of the key, stale reads included) supplies the modIndex <-> value
 * facts: a stale read is old, but the value it shows is the one its
 * modIndex wrote, and may be the only trace of a write whose answer was lost.
 */
function searchKey(ops: readonly Op[], opts: CheckOptions, all: readonly Op[]) {
  const t0 = performance.now();
  const budget = opts.budgetMs ?? 10_000;
  const problem = compileRegister(ops, all);
  const maxConfigs = opts.maxConfigs ?? 5_000_000;
  const limits = (ms: number, most = maxConfigs) => ({ budgetMs: ms, maxConfigs: most });
  // A linearizable history takes about one configuration per op; far more
  // means backtracking, where a window proof is usually much faster.
  const quick = Math.min(maxConfigs, 20 * ops.length + 10_000);
  let r = search(problem.input, limits(budget / 4, quick));
  const blocker = r.result === "ok" ? undefined : problem.ops[r.blocker];
  const proof = blocker ? proveByWindow(ops, blocker, budget / 4, all) : null;
  if (r.result === "unknown" && !proof) {
    r = search(problem.input, limits(budget - (performance.now() - t0)));
  }
  return { problem, r, proof };
}

/**
 * When the key is linearizable once writes answered as failed may have
 * happened after all (API.md: failed means nothing changed), those near
 * the violation: the contract, not the order, is what broke.
 */
function failedWritesExplain(
  ops: readonly Op[],
  all: readonly Op[],
  blocker: Op,
  opts: CheckOptions,
): Op[] {
  const searched = new Set(ops.map((o) => o.id));
  const failed = all.filter((o) => o.status === "fail" && o.f !== "get" && !searched.has(o.id));
  if (failed.length === 0) return [];
  const relaxed = [...ops, ...failed.map((o) => ({ ...o, status: "info", end: Infinity }) as Op)];
  const { r } = searchKey(relaxed, { ...opts, budgetMs: (opts.budgetMs ?? 10_000) / 4 }, all);
  if (r.result !== "ok") return [];
  return failed.filter((o) => o.start <= blocker.end && o.start >= blocker.start - 5000)
    .slice(-10);
}

/** "absent", or the value and the op that wrote it. */
function describeState(p: RegisterProblem, b: BlockedState): string {
  const w = p.ops[b.writer];
  if (b.state === ABSENT || !w || (w.f !== "put" && w.f !== "cas")) {
    return p.describe(b.state);
  }
  return `${canonical(w.value)} (#${w.id})`;
}

interface Precheck {
  readonly anomalies: Anomaly[];
  /** Ops for the search: ok ops but stale reads, unknown-outcome writes. */
  readonly searchable: Op[];
}

/** Reads of invented, future or failed-write values; picks what to search. */
function precheck(ops: readonly Op[]): Precheck {
  const writers = new Map<string, Op[]>();
  for (const op of ops) {
    if (op.f !== "put" && op.f !== "cas") continue;
    const t = canonical(op.value);
    writers.set(t, [...writers.get(t) ?? [], op]);
  }
  const anomalies: Anomaly[] = [];
  const revived = new Set<number>();
  const reported = new Set<string>();
  for (const op of ops) {
    if (op.f !== "get" || op.status !== "ok" || !op.result?.found) continue;
    const text = canonical(op.result.value);
    const ws = writers.get(text) ?? [];
    const problem = readProblem(op, ws);
    // One anomaly per value and kind: the first read that shows it.
    if (problem && !reported.has(`${text} ${problem.message}`)) {
      reported.add(`${text} ${problem.message}`);
      anomalies.push(problem);
    }
    if (ws.length > 0 && ws.every((w) => w.status === "fail")) {
      for (const w of ws) revived.add(w.id);
    }
  }
  const searchable = ops.filter((op) =>
    op.f === "get"
      ? op.status === "ok" && op.consistency !== "stale"
      : op.status !== "fail" || revived.has(op.id)
  ).map((op) => revived.has(op.id) ? { ...op, status: "info" as const, end: Infinity } : op);
  return { anomalies, searchable };
}

function readProblem(read: Op, writers: readonly Op[]): Anomaly | null {
  const seen = read.f === "get" && read.result?.found ? canonical(read.result.value) : "";
  if (writers.length === 0) {
    return { message: `read returned ${seen}, which no op wrote`, ops: [read] };
  }
  if (writers.every((w) => w.start > read.end)) {
    return {
      message: `read returned ${seen} before any write of it was invoked`,
      ops: [read, ...writers],
    };
  }
  if (writers.every((w) => w.status === "fail")) {
    return {
      message: `read returned ${seen}, written only by writes that were ` +
        `answered as failed (nothing changed)`,
      ops: [read, ...writers],
    };
  }
  return null;
}

const WINDOW_MAX = 40;

/** Up to WINDOW_MAX ops, those invoked nearest the blocker, by start. */
function nearest(ops: readonly Op[], blocker: Op): Op[] {
  const dist = (o: Op) => Math.abs(o.start - blocker.start);
  const all = [...ops].sort((a, b) => dist(a) - dist(b));
  return all.slice(0, WINDOW_MAX).sort((a, b) => a.start - b.start);
}

/**
 * The blocker, every op concurrent with it, and the last completed writes
 * before it (what the register should have held), by invocation time.
 */
export function windowAround(blocker: Op, ops: readonly Op[]): Op[] {
  const concurrent = ops.filter((o) => o.start <= blocker.end && o.end >= blocker.start);
  const before = ops.filter((o) => o.f !== "get" && o.end < blocker.start)
    .sort((a, b) => b.end - a.end).slice(0, 3);
  return nearest([...new Set([...before, ...concurrent])], blocker);
}

/** A human-readable account of a failed check. */
export function explain(r: CheckResult): string {
  const out: string[] = [];
  for (const a of r.anomalies) {
    out.push(`ANOMALY: ${a.message}`, ...a.ops.map((o) => `  ${formatOp(o)}`));
  }
  for (const k of r.keys) {
    if (k.result === "ok") continue;
    const head = k.result === "violation"
      ? `NOT LINEARIZABLE: key ${k.key}`
      : `UNKNOWN (search budget exceeded): key ${k.key}`;
    out.push(`${head} (${k.ops} ops, ${k.configs} configurations)`);
    if (!k.blocker) continue;
    out.push(`  cannot linearize #${k.blocker.id}: ${formatOp(k.blocker)}`);
    out.push(`  the register could hold: ${k.states?.join(" | ") || "?"}`);
    const p = k.proof;
    const around = p
      ? `  no linearization of the ${p.ops.length} ops overlapping ` +
        `[${p.from.toFixed(1)}, ${p.to.toFixed(1)}], from any state:`
      : "  ops around it:";
    out.push(around);
    const shown = p ? nearest(p.ops, k.blocker) : k.window ?? [];
    for (const o of shown) {
      out.push(`  ${o.id === k.blocker.id ? "→" : " "} ${formatOp(o)}`);
    }
    if (!k.failedMayExplain) continue;
    out.push("  linearizable if writes answered as failed took effect; near it:");
    for (const o of k.failedMayExplain) out.push(`    ${formatOp(o)}`);
  }
  return out.join("\n");
}
