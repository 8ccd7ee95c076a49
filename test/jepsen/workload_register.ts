/**
 * The register workload: clients doing get (linearizable, lease, stale),
 * put, compare-and-set (txn on modIndex or value, If-Match, If-None-Match)
 * and delete on a few keys, each op sent to a random node. Every value
 * written is unique, which is what lets the checker tell writes apart.
 * @module
 */

import type { KvClient } from "./client.ts";
import type { Compare, History, Invocation, Json, Op } from "./history.ts";
import type { Rng } from "./rng.ts";

export interface Target {
  readonly id: string;
  readonly url: string;
}

export interface WorkloadContext {
  readonly history: History;
  readonly client: KvClient;
  readonly nodes: readonly Target[];
  /** Clients stop invoking new ops at this time (performance.now()). */
  readonly stopAt: number;
  /** A value never written before in this run. */
  readonly nextValue: () => number;
}

const WEIGHTS = {
  getLinearizable: 25,
  getLease: 12,
  getStale: 5,
  put: 18,
  casTxn: 25,
  casHeader: 10,
  delete: 5,
};

type Known = { readonly value: Json; readonly modIndex: number } | null;

/** Runs `clients` register clients until `ctx.stopAt`. */
export async function runRegisterClients(
  ctx: WorkloadContext,
  rng: Rng,
  clients: number,
  keys: readonly string[],
): Promise<void> {
  const runs = Array.from({ length: clients }, (_, p) => {
    const r = rng.fork();
    return registerClient(ctx, r, p, keys);
  });
  await Promise.all(runs);
}

async function registerClient(
  ctx: WorkloadContext,
  rng: Rng,
  process: number,
  keys: readonly string[],
): Promise<void> {
  const known = new Map<string, Known>();
  while (performance.now() < ctx.stopAt) {
    const key = rng.pick(keys);
    const node = rng.pick(ctx.nodes);
    const what = known.has(key)
      ? rng.weighted(WEIGHTS)
      : rng.pick(["getLinearizable", "getLease"] as const);
    const op = await invoke(ctx, rng, { process, key, node }, what, known);
    remember(known, op);
    if (op.status !== "ok") await backoff(rng, ctx.stopAt);
  }
}

interface Where {
  readonly process: number;
  readonly key: string;
  readonly node: Target;
}

function invoke(
  ctx: WorkloadContext,
  rng: Rng,
  w: Where,
  what: keyof typeof WEIGHTS,
  known: Map<string, Known>,
): Promise<Op> {
  const base = { process: w.process, key: w.key, node: w.node.id };
  const { client, history } = ctx;
  const url = w.node.url;
  switch (what) {
    case "getLinearizable":
    case "getLease":
    case "getStale": {
      const consistency = CONSISTENCY[what];
      const inv: Invocation = { ...base, f: "get", consistency };
      return history.record(inv, () => client.get(url, w.key, consistency));
    }
    case "delete":
      return history.record({ ...base, f: "delete" }, () => client.delete(url, w.key));
    case "put": {
      const value = ctx.nextValue();
      const inv: Invocation = { ...base, f: "put", value };
      return history.record(inv, () => client.put(url, w.key, value));
    }
    case "casTxn":
    case "casHeader": {
      const compare = compareFor(rng, known.get(w.key) ?? null, what);
      const value = ctx.nextValue();
      const via = what === "casTxn" ? "txn" : "header";
      const inv: Invocation = { ...base, f: "cas", compare, value, via };
      const call = via === "txn" ? client.cas : client.putIf;
      return history.record(inv, () => call.call(client, url, w.key, compare, value));
    }
  }
}

const CONSISTENCY = {
  getLinearizable: "linearizable",
  getLease: "lease",
  getStale: "stale",
} as const;

/** What this client last saw decides the compare. */
function compareFor(
  rng: Rng,
  k: Known,
  how: "casTxn" | "casHeader",
): Compare {
  if (k === null) return { target: "exists", value: false };
  if (how === "casHeader" || rng.chance(0.5)) {
    return { target: "modIndex", value: k.modIndex };
  }
  return { target: "value", value: k.value };
}

/** Updates what the client knows of the key from an op's outcome. */
function remember(known: Map<string, Known>, op: Op): void {
  if (op.status !== "ok" || !op.result) {
    if (op.f !== "get") known.delete(op.key);
    return;
  }
  const r = op.result;
  if (op.f === "get" && "found" in r) {
    known.set(op.key, r.found ? { value: r.value, modIndex: r.modIndex } : null);
  } else if (op.f === "put" && "modIndex" in r) {
    known.set(op.key, { value: op.value, modIndex: r.modIndex });
  } else if (op.f === "cas" && "succeeded" in r) {
    if (r.succeeded && r.modIndex) {
      known.set(op.key, { value: op.value, modIndex: r.modIndex });
    } else known.delete(op.key);
  } else if (op.f === "delete") known.set(op.key, null);
}

/** A short random pause after an error, so a dead cluster is not hammered. */
export function backoff(rng: Rng, stopAt: number): Promise<void> {
  const ms = Math.min(rng.int(20, 120), Math.max(0, stopAt - performance.now()));
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The quiet phase: a linearizable read of every key from every node, each
 * retried until it succeeds or `deadline` passes. Returns the keys and
 * nodes that never answered.
 */
export async function finalReads(
  ctx: WorkloadContext,
  keys: readonly string[],
  deadline: number,
): Promise<string[]> {
  const failures: string[] = [];
  const process = 1000;
  for (const node of ctx.nodes) {
    for (const key of keys) {
      for (;;) {
        const op = await ctx.history.record(
          { process, key, node: node.id, f: "get", consistency: "linearizable" },
          () => ctx.client.get(node.url, key, "linearizable"),
        );
        if (op.status === "ok") break;
        if (performance.now() > deadline) {
          failures.push(`${key}@${node.id}: ${op.error ?? op.status}`);
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  return failures;
}
