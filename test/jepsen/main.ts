/**
 * `deno task jepsen`: runs the Jepsen-style suite against real RaftKV
 * processes. Flags: --time seconds (25), --seed n (random), --workload
 * register|bank|all (all), --nodes n (3), --clients n (10), --keys n (5),
 * --faults a,b,... (all kinds), --main path (main.ts), --keep (keep data
 * dirs and logs of failed runs), --log-level (the nodes'; warn), --hold s
 * (leave a failed run's nodes up s seconds to inspect); --check file
 * re-checks a saved history.json instead. Exits 1 when a run fails.
 * @module
 */

import { parseArgs } from "node:util";
import { parseHistory } from "./history.ts";
import { FAULT_KINDS, type FaultKind } from "./nemesis.ts";
import { checkHistory, explain } from "./checker.ts";
import { checkDurability } from "./checks.ts";
import { teardownAll } from "./cluster.ts";
import { defaults } from "./defaults.ts";
import { runJepsen, type Workload } from "./runner.ts";

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      time: { type: "string", default: "25" },
      seed: { type: "string" },
      workload: { type: "string", default: "all" },
      nodes: { type: "string", default: "3" },
      clients: { type: "string", default: "10" },
      keys: { type: "string", default: "5" },
      faults: { type: "string" },
      main: { type: "string" },
      keep: { type: "boolean", default: false },
      "log-level": { type: "string", default: "warn" },
      hold: { type: "string", default: "0" },
      check: { type: "string" },
    },
  });
  const faults = values.faults?.split(",").filter(Boolean) ?? [...FAULT_KINDS];
  for (const f of faults) {
    if (!(FAULT_KINDS as readonly string[]).includes(f)) {
      throw new Error(`unknown fault "${f}"; known: ${FAULT_KINDS.join(", ")}`);
    }
  }
  const w = values.workload;
  if (w !== "register" && w !== "bank" && w !== "all") {
    throw new Error(`--workload must be register, bank or all`);
  }
  return {
    values,
    faults: faults as FaultKind[],
    workloads: w === "all" ? ["register", "bank"] as const : [w],
  };
}

/** `--check history.json`: re-checks a saved register history. */
async function recheck(file: string): Promise<number> {
  const ops = parseHistory(await Deno.readTextFile(file));
  const r = checkHistory(ops, { budgetMs: 60_000 });
  const lost = checkDurability(ops);
  console.log(`${ops.length} ops: ${r.valid === true ? "linearizable" : r.valid}`);
  if (r.valid !== true) console.log(explain(r));
  for (const l of lost) console.log(l);
  return r.valid === true && lost.length === 0 ? 0 : 1;
}

async function main(): Promise<number> {
  const { values: v, faults, workloads } = parse(Deno.args);
  if (v.check) return await recheck(v.check);
  const seed = v.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(v.seed);
  let failed = false;
  for (const workload of workloads as readonly Workload[]) {
    const r = await runJepsen({
      ...defaults(),
      workload,
      seed,
      timeSec: Number(v.time),
      nodes: Number(v.nodes),
      clients: Number(v.clients),
      keys: Number(v.keys),
      faults,
      ...(v.main ? { main: v.main } : {}),
      keepOnFailure: v.keep,
      logLevel: v["log-level"],
      holdOnFailureSec: Number(v.hold),
      log: (line) => console.error(`[jepsen ${workload}] ${line}`),
    });
    console.log(r.report);
    failed ||= !r.ok;
  }
  return failed ? 1 : 0;
}

if (import.meta.main) {
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => {
      console.error(`jepsen: ${sig}; killing the nodes`);
      teardownAll().finally(() => Deno.exit(130));
    });
  }
  Deno.exit(await main());
}
