/**
 * Checks beside linearizability: durability of acknowledged writes across
 * crashes, and `x-raftkv-index` never going backwards for reads that start
 * after another answer completed (a symptom of stale reads).
 * @module
 */

import { canonical, formatOp, type Op } from "./history.ts";

/** The quiet-phase reads are issued by this process id. */
export const FINAL_PROCESS = 1000;

/**
 * Every acknowledged write is in the final state, or explained: a later
 * write (higher modIndex) or a delete that may follow it.
 */
export function checkDurability(ops: readonly Op[]): string[] {
  const problems: string[] = [];
  const finals = new Map<string, Op>();
  for (const op of ops) {
    if (op.process === FINAL_PROCESS && op.f === "get" && op.status === "ok") {
      if (!finals.has(op.key)) finals.set(op.key, op);
    }
  }
  for (const w of ops) {
    const mod = ackedMod(w);
    const fin = finals.get(w.key);
    if (mod === 0 || !fin || fin.f !== "get" || !fin.result) continue;
    const r = fin.result;
    const deletedLater = ops.some((d) =>
      d.key === w.key && d.f === "delete" && d.status !== "fail" &&
      d.end > w.start
    );
    if (!r.found && deletedLater) continue;
    const lost = !r.found || r.modIndex < mod ||
      (r.modIndex === mod && "value" in w &&
        canonical(r.value) !== canonical(w.value));
    if (!lost) continue;
    problems.push(
      `acknowledged write lost: ${formatOp(w)}\n    final state: ${formatOp(fin)}`,
    );
  }
  return problems;
}

function ackedMod(op: Op): number {
  if (op.status !== "ok" || !op.result) return 0;
  if (op.f === "put" && "modIndex" in op.result) return op.result.modIndex;
  if (op.f === "cas" && "succeeded" in op.result && op.result.succeeded) {
    return op.result.modIndex ?? 0;
  }
  return 0;
}

/**
 * Linearizable and lease reads whose answer holds at an index below that
 * of an answer (read or write) that completed before they started.
 */
export function indexRegressions(ops: readonly Op[]): string[] {
  const timed = ops.filter((o) => o.status === "ok" && o.index !== undefined);
  const byEnd = [...timed].sort((a, b) => a.end - b.end);
  const reads = timed.filter((o) => o.f === "get" && o.consistency !== "stale")
    .sort((a, b) => a.start - b.start);
  const out: string[] = [];
  let i = 0;
  let best: Op | null = null;
  for (const r of reads) {
    while (i < byEnd.length && (byEnd[i] as Op).end < r.start) {
      const o = byEnd[i++] as Op;
      if (!best || (o.index ?? 0) > (best.index ?? 0)) best = o;
    }
    if (best && (r.index ?? 0) < (best.index ?? 0)) {
      out.push(
        `index ${r.index} < ${best.index}: ${formatOp(r)}\n    after ${formatOp(best)}`,
      );
    }
  }
  return out;
}
