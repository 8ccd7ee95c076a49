/**
 * The register model for one key, compiled into the search's terms.
 *
 * A state is an int: ABSENT (no record), ANON (a value no op ever reads or
 * compares, so all such values behave alike) or the id of a referenced
 * value. Values are compared by canonical JSON text; the workloads write
 * unique values, which lets the compiler:
 * - map modIndex <-> value from every observation (a compare on modIndex m
 *   is a compare on the value written at m), and flag a value seen with two
 *   modIndexes or a modIndex seen with two values;
 * - order writes with known modIndexes: the log orders them (the chain);
 * - turn an unknown-outcome write whose value some ok op observed into a
 *   write that must happen before that observer completes;
 * - pool unknown-outcome puts of never-read values (and unknown deletes):
 *   any one of them does what any other does.
 * @module
 */

import { canonical, type Op } from "./history.ts";
import { ABSENT, type Anomaly, ANON, type Cmp, Values } from "./register_values.ts";
import { INVALID, type SearchInput, type SearchOp } from "./search.ts";

export { ABSENT, type Anomaly, ANON } from "./register_values.ts";

const POOL_ANON_PUT = 1;
const POOL_DELETE = 2;

type Kind = "read" | "write" | "del1" | "del0" | "delx" | "cas" | "casFail";

interface Compiled extends SearchOp {
  readonly kind: Kind;
  /** Read: the state it saw. Writes: the state they leave. */
  readonly arg: number;
  readonly cmp: Cmp | null;
}

export interface RegisterProblem {
  readonly input: SearchInput;
  /** The original op behind each search op. */
  readonly ops: readonly Op[];
  readonly anomalies: readonly Anomaly[];
  /** Every state the ops can tell apart: absent, anon and each value. */
  readonly states: readonly number[];
  /** A state as people read it. */
  describe(state: number): string;
}

/**
 * Compiles one key's ok and info ops (fail ops and stale reads excluded).
 * `context` (default: `ops`) supplies the modIndex <-> value facts: a window
 * of a history still knows which value each modIndex wrote.
 */
export function compileRegister(
  ops: readonly Op[],
  context: readonly Op[] = ops,
): RegisterProblem {
  const v = new Values(ops, context);
  const compiled = ops.map((op) => compileOp(op, v));
  const observed = observers(ops, compiled, v);
  const withObs = compiled.map((c, i) => {
    const op = ops[i] as Op;
    const end = observed.get(op.id);
    if (c.required || end === undefined) return c;
    return { ...c, required: true, end, pool: 0 };
  });
  const chained = pooled(chainWrites(ops, withObs, v));
  const step = (i: number, s: number) => stepOp(chained[i] as Compiled, s);
  return {
    input: { ops: chained, init: ABSENT, step },
    ops,
    anomalies: v.anomalies,
    states: [ABSENT, ANON, ...v.ids()],
    describe: (s) => v.describe(s),
  };
}

function stepOp(c: Compiled, s: number): number {
  switch (c.kind) {
    case "read":
      return s === c.arg ? s : INVALID;
    case "write":
      return c.arg;
    case "del1":
      return s !== ABSENT ? ABSENT : INVALID;
    case "del0":
      return s === ABSENT ? s : INVALID;
    case "delx":
      return ABSENT;
    case "cas":
      return holds(c.cmp, s) ? c.arg : INVALID;
    case "casFail":
      return holds(c.cmp, s) ? INVALID : s;
  }
}

function holds(cmp: Cmp | null, s: number): boolean {
  if (!cmp) return true;
  if ("eq" in cmp) return s === cmp.eq;
  return (s !== ABSENT) === cmp.exists;
}

function compileOp(op: Op, v: Values): Compiled {
  const ok = op.status === "ok";
  const base = { start: op.start, end: ok ? op.end : Infinity, chain: -1 };
  const must = { ...base, required: ok, pool: 0, cmp: null };
  switch (op.f) {
    case "get": {
      const r = op.result;
      const arg = r?.found ? v.stateOf(canonical(r.value)) : ABSENT;
      return { ...must, kind: "read", arg };
    }
    case "put": {
      const arg = v.stateOf(canonical(op.value));
      return { ...must, kind: "write", arg };
    }
    case "delete": {
      if (!ok) return { ...must, kind: "delx", arg: ABSENT };
      const kind = op.result?.deleted === 1 ? "del1" : "del0";
      return { ...must, kind, arg: ABSENT };
    }
    case "cas": {
      const cmp = v.cmpOf(op.compare);
      const kind = op.result?.succeeded === false ? "casFail" : "cas";
      return { ...must, kind, cmp, arg: v.stateOf(canonical(op.value)) };
    }
  }
}

/**
 * Unknown-outcome writes of a value with one writer that an ok op observed
 * (read it, or compared equal to it): op id -> the earliest end of an
 * observer that completed after the write was invoked.
 */
function observers(
  ops: readonly Op[],
  compiled: readonly Compiled[],
  v: Values,
): Map<number, number> {
  const writerOf = new Map<number, Op>();
  for (const op of ops) {
    if (op.status !== "info" || op.f === "get" || op.f === "delete") continue;
    const s = v.stateOf(canonical(op.value));
    if (s !== ANON && v.writers(s) === 1) writerOf.set(s, op);
  }
  const out = new Map<number, number>();
  compiled.forEach((c, i) => {
    if (!c.required) return;
    const seen = c.kind === "read" ? c.arg : eqOf(c);
    const w = writerOf.get(seen);
    const end = (ops[i] as Op).end;
    if (!w || end < w.start) return;
    out.set(w.id, Math.min(out.get(w.id) ?? Infinity, end));
  });
  return out;
}

function eqOf(c: Compiled): number {
  return c.kind === "cas" && c.cmp && "eq" in c.cmp ? c.cmp.eq : INVALID;
}

/**
 * Optional ops that leave a never-observed value (or delete) are pooled by
 * what they need: puts and deletes need nothing, a cas its compare.
 */
function pooled(ops: readonly Compiled[]): Compiled[] {
  const ids = new Map<string, number>([["put", POOL_ANON_PUT], [
    "delete",
    POOL_DELETE,
  ]]);
  return ops.map((c) => {
    if (c.required || (c.arg !== ANON && c.kind !== "delx")) return c;
    const need = c.kind === "write"
      ? "put"
      : c.kind === "delx"
      ? "delete"
      : `cas ${JSON.stringify(c.cmp)}`;
    let pool = ids.get(need);
    if (pool === undefined) ids.set(need, pool = ids.size + 1);
    return { ...c, pool };
  });
}

/** Puts writes with a known modIndex (all required) in a chain, by index. */
function chainWrites(
  ops: readonly Op[],
  compiled: readonly Compiled[],
  v: Values,
): Compiled[] {
  const mods = compiled.map((c, i) => {
    if (!c.required || (c.kind !== "write" && c.kind !== "cas")) return 0;
    return v.modOfWrite(ops[i] as Op);
  });
  const order = [...mods.keys()].filter((i) => (mods[i] as number) > 0)
    .sort((a, b) => (mods[a] as number) - (mods[b] as number));
  const pos = new Map(order.map((i, p) => [i, p]));
  for (let p = 1; p < order.length; p++) {
    const [a, b] = [order[p - 1] as number, order[p] as number];
    if (mods[a] !== mods[b]) continue;
    v.anomalies.push({
      message: `two writes acknowledged at modIndex ${mods[a]}`,
      ops: [ops[a] as Op, ops[b] as Op],
    });
  }
  return compiled.map((c, i) => ({ ...c, chain: pos.get(i) ?? -1 }));
}
