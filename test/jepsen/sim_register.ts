/**
 * Simulated histories of a correct (linearizable) register store, for
 * testing and timing the checker: clients with random latencies, each op
 * taking effect at a random point inside its span; unknown-outcome ops take
 * effect later or never. Values are unique; a global log index gives
 * modIndexes.
 * @module
 */

import type { Compare, Json, Op } from "./history.ts";
import { Rng } from "./rng.ts";

export interface SimOptions {
  readonly seed: number;
  readonly ops: number;
  readonly keys: number;
  readonly clients: number;
  /** Share of ops whose outcome the client never learns. */
  readonly infoRate: number;
  /** Share of ops that take much longer (widens concurrency). */
  readonly slowRate?: number;
}

interface Slot {
  readonly id: number;
  readonly process: number;
  readonly key: string;
  readonly f: "get" | "put" | "cas" | "delete";
  readonly start: number;
  readonly end: number;
  readonly info: boolean;
  /** When it takes effect; null = never. */
  readonly at: number | null;
}

interface Rec {
  readonly value: Json;
  readonly mod: number;
}

/** A history a linearizable register store could have produced. */
export function simulate(o: SimOptions): Op[] {
  const rng = new Rng(o.seed);
  const slots = schedule(o, rng);
  const store = new Map<string, Rec>();
  const memory = new Map<string, Rec | null>();
  let index = 0;
  let nextValue = 1;
  const ops: Op[] = [];
  const order = [...slots].sort((a, b) => (a.at ?? a.start) - (b.at ?? b.start));
  for (const s of order) {
    const mem = `${s.process}/${s.key}`;
    const cur = store.get(s.key);
    const base = {
      id: s.id,
      process: s.process,
      key: s.key,
      start: s.start,
      end: s.info ? Infinity : s.end,
      status: s.info ? "info" as const : "ok" as const,
    };
    const apply = s.at !== null;
    if (s.f === "get") {
      if (!s.info) memory.set(mem, cur ?? null);
      const result = cur
        ? { found: true as const, value: cur.value, modIndex: cur.mod }
        : { found: false as const };
      const consistency = rng.chance(0.3) ? "lease" as const : "linearizable";
      ops.push({ ...base, f: "get", consistency, ...ok(s, result) });
      continue;
    }
    if (s.f === "delete") {
      if (apply) index++;
      if (apply) store.delete(s.key);
      ops.push({ ...base, f: "delete", ...ok(s, { deleted: cur ? 1 as const : 0 as const }) });
      continue;
    }
    const value = nextValue++;
    const known = memory.get(mem);
    const compare = s.f === "cas" ? pickCompare(rng, known) : null;
    const holds = !compare || compareHolds(compare, cur);
    const mod = apply && holds ? ++index : 0;
    if (mod > 0) store.set(s.key, { value, mod });
    if (!compare) {
      ops.push({ ...base, f: "put", value, ...ok(s, { modIndex: mod }) });
      continue;
    }
    const result = holds ? { succeeded: true, modIndex: mod } : {
      succeeded: false,
    };
    ops.push({ ...base, f: "cas", compare, value, ...ok(s, result) });
  }
  return ops.sort((a, b) => a.start - b.start);
}

function ok<R>(s: Slot, result: R): { result?: R; error?: string } {
  return s.info ? { error: "timeout" } : { result };
}

function pickCompare(rng: Rng, known: Rec | null | undefined): Compare {
  if (!known) return { target: "exists", value: false };
  return rng.chance(0.5)
    ? { target: "modIndex", value: known.mod }
    : { target: "value", value: known.value };
}

function compareHolds(c: Compare, cur: Rec | undefined): boolean {
  if (c.target === "exists") return (cur !== undefined) === c.value;
  if (!cur) return false;
  if (c.target === "modIndex") return cur.mod === c.value;
  return cur.value === c.value;
}

/** Every client's ops back to back, with random think time and latency. */
function schedule(o: SimOptions, rng: Rng): Slot[] {
  const slots: Slot[] = [];
  const clock = new Array<number>(o.clients).fill(0);
  for (let id = 0; id < o.ops; id++) {
    const process = id % o.clients;
    const start = (clock[process] ?? 0) + rng.next() * 2;
    const slow = rng.chance(o.slowRate ?? 0.02);
    const latency = slow ? 20 + rng.next() * 200 : 0.5 + rng.next() * 10;
    const end = start + latency;
    const info = rng.chance(o.infoRate);
    const at = !info
      ? start + rng.next() * latency
      : rng.chance(0.5)
      ? start + rng.next() * latency * 5
      : null;
    const f = rng.weighted({ get: 4, put: 2, cas: 3, delete: 1 });
    const key = `k${rng.int(0, o.keys - 1)}`;
    slots.push({ id, process, key, f, start, end, info, at });
    clock[process] = end;
  }
  return slots;
}
