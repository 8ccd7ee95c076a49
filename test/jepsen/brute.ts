/**
 * A brute-force linearizability check for tiny single-key histories,
 * written straight from the register's semantics with none of the search's
 * pruning: the oracle the checker is fuzzed against.
 * @module
 */

import { canonical, type Compare, type Op } from "./history.ts";

interface State {
  /** Index of the op whose write is current; -1 = absent. */
  readonly writer: number;
  /** The largest modIndex written so far (they grow along the log). */
  readonly lastMod: number;
}

/** True when some order of the ok ops (and any info writes) explains all. */
export function bruteLinearizable(history: readonly Op[]): boolean {
  const ops = history.filter((o) =>
    o.status === "ok"
      ? !(o.f === "get" && o.consistency === "stale")
      : o.status === "info" && o.f !== "get"
  );
  if (ops.length > 16) throw new Error("brute force is for tiny histories");
  const mods = ops.map((o) => modOf(o, ops));
  const must = ops.reduce((m, o, i) => o.status === "ok" ? m | (1 << i) : m, 0);
  const seen = new Set<string>();
  const dfs = (done: number, s: State): boolean => {
    if ((done & must) === must) return true;
    const key = `${done}/${s.writer}/${s.lastMod}`;
    if (seen.has(key)) return false;
    seen.add(key);
    for (let i = 0; i < ops.length; i++) {
      if (done & (1 << i) || !ready(i, done, ops)) continue;
      const next = apply(ops, mods, i, s);
      if (next && dfs(done | (1 << i), next)) return true;
    }
    return false;
  };
  return dfs(0, { writer: -1, lastMod: 0 });
}

/** Every ok op that completed before op i was invoked is done. */
function ready(i: number, done: number, ops: readonly Op[]): boolean {
  const op = ops[i] as Op;
  return ops.every((o, j) => (done & (1 << j)) !== 0 || o.status !== "ok" || o.end >= op.start);
}

/** A write's modIndex: its own answer, else what an ok read of it saw. */
function modOf(op: Op, ops: readonly Op[]): number {
  if (op.f === "put" && op.result) return op.result.modIndex;
  if (op.f === "cas" && op.result?.modIndex) return op.result.modIndex;
  if (op.f !== "put" && op.f !== "cas") return 0;
  for (const r of ops) {
    if (r.f !== "get" || r.status !== "ok" || !r.result?.found) continue;
    if (canonical(r.result.value) === canonical(op.value)) {
      return r.result.modIndex;
    }
  }
  return 0;
}

function apply(
  ops: readonly Op[],
  mods: readonly number[],
  i: number,
  s: State,
): State | null {
  const op = ops[i] as Op;
  const cur = s.writer < 0 ? null : ops[s.writer] as Op;
  const write = (): State | null => {
    const m = mods[i] as number;
    if (m > 0 && m <= s.lastMod) return null;
    return { writer: i, lastMod: m > 0 ? m : s.lastMod };
  };
  switch (op.f) {
    case "get": {
      const r = op.result;
      if (!r?.found) return cur ? null : s;
      const ok = valueOf(cur) === canonical(r.value) &&
        (mods[s.writer] === 0 || mods[s.writer] === r.modIndex);
      return ok ? s : null;
    }
    case "put":
      return write();
    case "delete": {
      if (op.status === "ok" && (op.result?.deleted === 1) !== (cur !== null)) {
        return null;
      }
      return { writer: -1, lastMod: s.lastMod };
    }
    case "cas": {
      const holds = compareHolds(op.compare, cur, mods[s.writer] ?? 0);
      if (op.status === "ok" && op.result?.succeeded === false) {
        return holds ? null : s;
      }
      return holds ? write() : null;
    }
  }
}

function valueOf(op: Op | null): string | null {
  return op && "value" in op ? canonical(op.value) : null;
}

function compareHolds(c: Compare, cur: Op | null, mod: number): boolean {
  if (c.target === "exists") return (cur !== null) === c.value;
  if (c.target === "value") return valueOf(cur) === canonical(c.value);
  return cur !== null && mod === c.value;
}
