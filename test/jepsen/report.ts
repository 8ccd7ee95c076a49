/**
 * The text a run prints: how to reproduce it, the nemesis schedule (planned
 * and as executed), op counts, and every problem with its offending ops.
 * @module
 */

import { formatPlan } from "./nemesis.ts";
import { formatExecuted } from "./nemesis_run.ts";
import type { RunResult } from "./runner.ts";

type Reportable = Omit<RunResult, "report">;

export function formatReport(r: Reportable): string {
  const o = r.options;
  const out = [
    `== jepsen ${o.workload}: ${r.ok ? "PASS" : "FAIL"} (seed ${o.seed})`,
    `reproduce: deno task jepsen --workload ${o.workload} --seed ${o.seed} ` +
    `--time ${o.timeSec} --nodes ${o.nodes}`,
    `nemesis plan (${r.plan.length} faults):`,
    formatPlan(r.plan) || "  (none)",
    `nemesis as executed (${r.executed.length} faults, ms since start):`,
    formatExecuted(r.executed) || "  (none)",
    `stats: ${Object.entries(r.stats).map(([k, v]) => `${k}=${v}`).join(" ")}`,
  ];
  if (r.kept) out.push(`data dirs, node logs and history.json kept in ${r.kept}`);
  for (const p of r.problems) out.push(`PROBLEM: ${p}`);
  for (const w of r.warnings) out.push(`WARNING: ${w}`);
  return out.join("\n");
}
