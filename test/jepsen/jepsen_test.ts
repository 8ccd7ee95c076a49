/**
 * What CI runs: each workload for about 20 s against three real nodes under
 * the full nemesis, then the checks. A failure prints the seed, the nemesis
 * schedule and the offending operations; JEPSEN_SEED reruns a given seed,
 * JEPSEN_TIME changes the length.
 */
import assert from "node:assert/strict";
import { defaults } from "./defaults.ts";
import { runJepsen, type Workload } from "./runner.ts";

const SEEDS: Readonly<Record<Workload, number>> = { register: 6, bank: 9 };
const TIME = Number(Deno.env.get("JEPSEN_TIME") ?? 20);

for (const workload of ["register", "bank"] as const) {
  const seed = Number(Deno.env.get("JEPSEN_SEED") ?? SEEDS[workload]);
  Deno.test(`jepsen ${workload} workload under faults (seed ${seed})`, async () => {
    const r = await runJepsen({
      ...defaults(),
      workload,
      seed,
      timeSec: TIME,
      log: (line) => console.error(`[jepsen ${workload}] ${line}`),
    });
    console.error(r.report);
    assert.ok(r.ok, r.report);
  });
}
