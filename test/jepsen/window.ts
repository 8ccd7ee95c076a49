/**
 * Proving a violation on a window of the history, which is fast where the
 * whole-history search has to exhaust every interleaving before it.
 *
 * The window [from, to] keeps ops that overlap it. Ops entirely inside are
 * kept as they are; ops that cross an edge become unknown-outcome ops (a
 * write may have happened before the window, or after its end) and reads
 * crossing an edge are dropped; the initial state is tried as every value
 * the window can tell apart. Each step only relaxes the history, so a window
 * with no linearization from any initial state proves the whole history has
 * none. The smallest such window is the explanation.
 * @module
 */

import type { Op } from "./history.ts";
import { compileRegister } from "./register.ts";
import { search } from "./search.ts";

export interface WindowProof {
  readonly from: number;
  readonly to: number;
  /** The window's ops, as searched (edge-crossing ones as info). */
  readonly ops: readonly Op[];
}

/** How far before the blocker's invocation windows reach, in ms. */
const REACH_MS = [0, 5, 20, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
const MAX_WINDOW_OPS = 3000;

/**
 * The smallest window ending at `blocker`'s completion that no
 * linearization explains, or null when none of the tried windows is proven.
 */
export function proveByWindow(
  ops: readonly Op[],
  blocker: Op,
  budgetMs: number,
  /** Where modIndex <-> value facts come from (default `ops`). */
  context: readonly Op[] = ops,
): WindowProof | null {
  const deadline = performance.now() + budgetMs;
  const to = blocker.end;
  for (const reach of REACH_MS) {
    const from = blocker.start - reach;
    const w = windowOps(ops, from, to);
    if (w.length > MAX_WINDOW_OPS) return null;
    const left = deadline - performance.now();
    if (left <= 0) return null;
    const r = unlinearizable(w, context, left);
    if (r === "proven") return { from, to, ops: w };
    if (r === "unknown") return null;
  }
  return null;
}

/** The ops overlapping [from, to], edge-crossing ones relaxed. */
export function windowOps(ops: readonly Op[], from: number, to: number): Op[] {
  const out: Op[] = [];
  for (const op of ops) {
    if (op.end < from || op.start > to) continue;
    const inside = op.start >= from && op.end <= to;
    if (inside || op.status !== "ok") {
      out.push(op);
    } else if (op.f !== "get") {
      const { result: _, ...rest } = op;
      out.push({ ...rest, status: "info", end: Infinity } as Op);
    }
  }
  return out;
}

function unlinearizable(
  ops: readonly Op[],
  context: readonly Op[],
  budgetMs: number,
): "proven" | "linearizable" | "unknown" {
  const deadline = performance.now() + budgetMs;
  const p = compileRegister(ops, context);
  for (const init of p.states) {
    const left = deadline - performance.now();
    if (left <= 0) return "unknown";
    const r = search({ ...p.input, init }, {
      budgetMs: left,
      maxConfigs: 1_000_000,
    });
    if (r.result === "ok") return "linearizable";
    if (r.result === "unknown") return "unknown";
  }
  return "proven";
}
