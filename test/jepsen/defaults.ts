/**
 * The suite's defaults: 3 nodes with 50 ms ticks, 10 clients on 5 keys,
 * every fault kind, 5 s client timeouts over 2 s server deadlines, and
 * frequent log compaction (so restarted and partitioned nodes catch up by
 * snapshot as well as by log).
 * @module
 */

import { FAULT_KINDS } from "./nemesis.ts";
import type { RunOptions } from "./runner.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Everything but the workload, the seed and the log. */
export function defaults(): Omit<RunOptions, "workload" | "seed" | "log"> {
  return {
    timeSec: 25,
    nodes: 3,
    clients: 10,
    keys: 5,
    main: `${ROOT}main.ts`,
    cwd: ROOT,
    faults: FAULT_KINDS,
    clientTimeoutMs: 5000,
    tickMs: 50,
    requestTimeoutMs: 2000,
    snapshotEntries: 300,
    logLevel: "warn",
    checkBudgetMs: 30_000,
    keepOnFailure: false,
    holdOnFailureSec: 0,
  };
}
