/**
 * The bank workload: accounts with integer balances, moved by transfers
 * that are txns guarded by both accounts' modIndexes. Every range read of
 * the accounts (linearizable, lease or stale: each applies whole txns) must
 * see every account, no negative balance, and the same total (a stale read
 * may also see none: the state before the accounts were opened).
 * @module
 */

import type { Answer, KvClient } from "./client.ts";
import type { Consistency } from "./history.ts";
import type { Rng } from "./rng.ts";
import { backoff, type Target } from "./workload_register.ts";

export const BANK_PREFIX = "bank/";

export interface BankRead {
  readonly process: number;
  readonly node: string;
  readonly consistency: Consistency;
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
  readonly balances?: Readonly<Record<string, number>>;
  readonly index?: number;
  readonly error?: string;
}

export interface BankContext {
  readonly client: KvClient;
  readonly nodes: readonly Target[];
  readonly stopAt: number;
  readonly clock: () => number;
  readonly reads: BankRead[];
  /** Transfers that committed, failed a compare, or failed / unknown. */
  readonly transfers: { ok: number; conflict: number; failed: number };
}

interface Rec {
  readonly key: string;
  readonly value: unknown;
  readonly modIndex: number;
}

/** The seeded starting balances. */
export function openingBalances(rng: Rng, accounts: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < accounts; i++) out[`${BANK_PREFIX}a${i}`] = rng.int(50, 150);
  return out;
}

/** Creates the accounts (only where absent), retrying until `deadline`. */
export async function openAccounts(
  client: KvClient,
  url: string,
  balances: Readonly<Record<string, number>>,
  deadline: number,
): Promise<void> {
  const keys = Object.keys(balances);
  const body = {
    compare: keys.map((key) => ({ key, target: "exists", op: "==", value: false })),
    success: keys.map((key) => ({ op: "put", key, value: balances[key] })),
    failure: [],
  };
  while (performance.now() < deadline) {
    const r = await client.send("POST", `${url}/v1/txn`, body);
    if (!("error" in r) && r.status === 200) return;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error("could not open the bank accounts");
}

/** One range read of the accounts, recorded. */
export async function readBank(
  ctx: BankContext,
  process: number,
  node: Target,
  consistency: Consistency,
): Promise<BankRead> {
  const start = ctx.clock();
  const url = `${node.url}/v1/kv?prefix=${encodeURIComponent(BANK_PREFIX)}` +
    `&consistency=${consistency}`;
  const r = await ctx.client.send("GET", url);
  const end = ctx.clock();
  const base = { process, node: node.id, consistency, start, end };
  let read: BankRead;
  if ("error" in r || r.status !== 200) {
    read = { ...base, ok: false, error: "error" in r ? r.error : `${r.status}` };
  } else {
    read = { ...base, ok: true, ...parseItems(r) };
  }
  ctx.reads.push(read);
  return read;
}

function parseItems(r: Answer): { balances: Record<string, number>; index?: number } {
  const body = r.body as { items: Rec[]; index?: number };
  const balances: Record<string, number> = {};
  for (const it of body.items) balances[it.key] = it.value as number;
  return body.index === undefined ? { balances } : { balances, index: body.index };
}

/** Runs `clients` bank clients until `ctx.stopAt`. */
export async function runBankClients(
  ctx: BankContext,
  rng: Rng,
  clients: number,
): Promise<void> {
  await Promise.all(Array.from({ length: clients }, (_, p) => {
    const r = rng.fork();
    return bankClient(ctx, r, p);
  }));
}

async function bankClient(ctx: BankContext, rng: Rng, p: number): Promise<void> {
  while (performance.now() < ctx.stopAt) {
    const node = rng.pick(ctx.nodes);
    const ok = rng.chance(0.6)
      ? await transfer(ctx, rng, node)
      : (await readBank(ctx, p, node, pickConsistency(rng))).ok;
    if (!ok) await backoff(rng, ctx.stopAt);
  }
}

function pickConsistency(rng: Rng): Consistency {
  return rng.weighted({ linearizable: 6, lease: 3, stale: 2 });
}

/** Reads the accounts, then moves money between two of them by a guarded txn. */
async function transfer(
  ctx: BankContext,
  rng: Rng,
  node: Target,
): Promise<boolean> {
  const url = `${node.url}/v1/kv?prefix=${encodeURIComponent(BANK_PREFIX)}`;
  const r = await ctx.client.send("GET", url);
  if ("error" in r || r.status !== 200) return false;
  const items = (r.body as { items: Rec[] }).items;
  if (items.length < 2) return false;
  const [from, to] = rng.shuffle(items) as [Rec, Rec];
  const balance = from.value as number;
  if (balance <= 0) return true;
  const amount = rng.int(1, Math.min(5, balance));
  const body = {
    compare: [from, to].map((a) => ({
      key: a.key,
      target: "modIndex",
      op: "==",
      value: a.modIndex,
    })),
    success: [
      { op: "put", key: from.key, value: balance - amount },
      { op: "put", key: to.key, value: (to.value as number) + amount },
    ],
    failure: [],
  };
  const t = await ctx.client.send("POST", `${node.url}/v1/txn`, body);
  if ("error" in t || t.status !== 200) {
    ctx.transfers.failed++;
    return false;
  }
  const done = (t.body as { succeeded: boolean }).succeeded;
  if (done) ctx.transfers.ok++;
  else ctx.transfers.conflict++;
  return true;
}

/** Problems with the reads: missing accounts, negatives, wrong totals. */
export function checkBank(
  reads: readonly BankRead[],
  opening: Readonly<Record<string, number>>,
): string[] {
  const total = Object.values(opening).reduce((a, b) => a + b, 0);
  const accounts = Object.keys(opening).sort();
  const problems: string[] = [];
  for (const r of reads) {
    if (!r.ok || !r.balances) continue;
    const b = r.balances;
    const keys = Object.keys(b).sort();
    // A stale read may come from before the accounts were opened.
    if (keys.length === 0 && r.consistency === "stale") continue;
    const sum = keys.reduce((s, k) => s + (b[k] ?? 0), 0);
    const bad = keys.join() !== accounts.join()
      ? `accounts ${keys.join(",")}`
      : sum !== total
      ? `total ${sum} (want ${total})`
      : keys.some((k) => (b[k] ?? 0) < 0)
      ? "a negative balance"
      : null;
    if (!bad) continue;
    problems.push(
      `${r.consistency} read at p${r.process}@${r.node} ` +
        `[${r.start.toFixed(1)} → ${r.end.toFixed(1)}] index ${r.index ?? "?"}: ` +
        `${bad}: ${JSON.stringify(b)}`,
    );
  }
  return problems;
}
