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

interface World {
  readonly rng: Rng;
  readonly store: Map<string, Rec>;
  /** What each client last read of each key. */
  readonly memory: Map<string, Rec | null>;
  index: number;
  nextValue: number;
}

/** A history a linearizable register store could have produced. */
export function simulate(o: SimOptions): Op[] {
  const rng = new Rng(o.seed);
  const slots = schedule(o, rng);
  const w: World = { rng, store: new Map(), memory: new Map(), index: 0, nextValue: 1 };
  const order = [...slots].sort((a, b) => (a.at ?? a.start) - (b.at ?? b.start));
  return order.map((s) => step(w, s)).sort((a, b) => a.start - b.start);
}

/** Takes effect (at `s.at`, if ever) and returns the op as recorded. */
function step(w: World, s: Slot): Op {
  const mem = `${s.process}/${s.key}`;
  const cur = w.store.get(s.key);
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
    if (!s.info) w.memory.set(mem, cur ?? null);
    const result = cur
      ? { found: true as const, value: cur.value, modIndex: cur.mod }
      : { found: false as const };
    const consistency = w.rng.chance(0.3) ? "lease" as const : "linearizable";
    return { ...base, f: "get", consistency, ...ok(s, result) };
  }
  if (s.f === "delete") {
    if (apply) w.index++;
    if (apply) w.store.delete(s.key);
    return { ...base, f: "delete", ...ok(s, { deleted: cur ? 1 as const : 0 as const }) };
  }
  const value = w.nextValue++;
  const compare = s.f === "cas" ? pickCompare(w.rng, w.memory.get(mem)) : null;
  const holds = !compare || compareHolds(compare, cur);
  const mod = apply && holds ? ++w.index : 0;
  if (mod > 0) w.store.set(s.key, { value, mod });
  if (!compare) return { ...base, f: "put", value, ...ok(s, { modIndex: mod }) };
  const result = holds ? { succeeded: true, modIndex: mod } : { succeeded: false };
  return { ...base, f: "cas", compare, value, ...ok(s, result) };
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
