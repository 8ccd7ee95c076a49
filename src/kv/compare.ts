/**
 * Txn compares (API.md §3), etcd-style. A missing key has version,
 * modIndex and createIndex 0 and does not exist; like etcd, every `value`
 * compare on a missing key is false (even `!=`).
 * @module
 */
import { compareKeys } from "./key_order.ts";
import type { Compare, CompareOp, KvRecord } from "./types.ts";

/** Evaluates one compare against the key's current record (or null). */
export function evalCompare(c: Compare, rec: KvRecord | null): boolean {
  switch (c.target) {
    case "exists":
      return typeof c.value === "boolean" && eqOp(c.op, rec !== null, c.value);
    case "value":
      return rec !== null && typeof c.value === "string" &&
        compareJsonText(rec.value, c.op, c.value);
    case "version":
      return numOp(c.op, rec?.version ?? 0, c.value);
    case "modIndex":
      return numOp(c.op, rec?.modIndex ?? 0, c.value);
    case "createIndex":
      return numOp(c.op, rec?.createIndex ?? 0, c.value);
  }
}

/** `==` / `!=` only; ordering ops on booleans are false. */
function eqOp(op: CompareOp, a: boolean, b: boolean): boolean {
  if (op === "==") return a === b;
  if (op === "!=") return a !== b;
  return false;
}

function numOp(op: CompareOp, a: number, b: unknown): boolean {
  if (typeof b !== "number") return false;
  switch (op) {
    case "==":
      return a === b;
    case "!=":
      return a !== b;
    case "<":
      return a < b;
    case ">":
      return a > b;
  }
}

/**
 * Compares two JSON texts: equality is canonical JSON equality (object key
 * order and number spelling do not matter); `<` and `>` order numbers
 * numerically and strings in code point order, and are false otherwise.
 */
export function compareJsonText(
  current: string,
  op: CompareOp,
  expected: string,
): boolean {
  const a = parseOrUndefined(current);
  const b = parseOrUndefined(expected);
  if (a === undefined || b === undefined) return false;
  switch (op) {
    case "==":
      return jsonEqual(a, b);
    case "!=":
      return !jsonEqual(a, b);
    case "<":
      return ordered(a, b) < 0;
    case ">":
      return ordered(a, b) > 0;
  }
}

/** Sign of a vs b for two numbers or two strings; NaN (false) otherwise. */
function ordered(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return compareKeys(a, b);
  return NaN;
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Equality of two parsed JSON values: object key order does not matter,
 * numbers compare by value. Iterative: it runs in the apply step on every
 * node, where a value nested deeper than the stack allows must not throw
 * (a throw there stops every node, again on every replay).
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  const stack: unknown[] = [a, b];
  while (stack.length > 0) {
    const y = stack.pop(), x = stack.pop();
    if (x === y) continue;
    if (typeof x !== "object" || typeof y !== "object" || x === null || y === null) return false;
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) stack.push(x[i], y[i]);
      continue;
    }
    if (Array.isArray(y)) return false;
    const xo = x as Record<string, unknown>, yo = y as Record<string, unknown>;
    const keys = Object.keys(xo);
    if (keys.length !== Object.keys(yo).length) return false;
    for (const k of keys) {
      if (!Object.hasOwn(yo, k)) return false;
      stack.push(xo[k], yo[k]);
    }
  }
  return true;
}
