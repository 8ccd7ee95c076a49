/**
 * The history of a Jepsen-style run: every client operation with its
 * invocation and completion times (ms, `performance.now()`), its inputs and,
 * when it completed, its outputs.
 *
 * Status follows Jepsen: `ok` (happened, outputs known), `fail` (definitely
 * did not happen), `info` (unknown: it may take effect at any time after its
 * invocation, so its completion time is +Infinity).
 * @module
 */

/** A JSON value, as the API stores it. */
export type Json =
  | null
  | boolean
  | number
  | string
  | readonly Json[]
  | { readonly [k: string]: Json };

export type Status = "ok" | "fail" | "info";
export type Consistency = "linearizable" | "lease" | "stale";

/** A compare in a conditional write (`POST /v1/txn` or `If-Match`). */
export type Compare =
  | { readonly target: "modIndex"; readonly value: number }
  | { readonly target: "value"; readonly value: Json }
  | { readonly target: "exists"; readonly value: boolean };

/** What a read saw: nothing, or a record. */
export type ReadResult =
  | { readonly found: false }
  | { readonly found: true; readonly value: Json; readonly modIndex: number };

interface OpBase {
  /** Unique within a history. */
  readonly id: number;
  /** The client that issued it. */
  readonly process: number;
  readonly key: string;
  readonly status: Status;
  /** Invocation time, ms. */
  readonly start: number;
  /** Completion time, ms; +Infinity when status is `info`. */
  readonly end: number;
  /** For `info` ops: when the client gave up on the answer. */
  readonly gaveUp?: number;
  /** The node the request went to. */
  readonly node?: string;
  /** Why it failed or is unknown (HTTP status and error code, or exception). */
  readonly error?: string;
  /** `x-raftkv-index` of the answer: the applied index it holds at. */
  readonly index?: number;
}

/** One operation on one key. `result` is present iff status is `ok`. */
export type Op =
  | OpBase & {
    readonly f: "get";
    readonly consistency: Consistency;
    readonly result?: ReadResult;
  }
  | OpBase & {
    readonly f: "put";
    readonly value: Json;
    readonly result?: { readonly modIndex: number };
  }
  | OpBase & {
    readonly f: "cas";
    readonly compare: Compare;
    readonly value: Json;
    /** How it was sent: `POST /v1/txn`, or a PUT with If-Match / If-None-Match. */
    readonly via?: "txn" | "header";
    /** `modIndex` is the new record's, when the compare held. */
    readonly result?: {
      readonly succeeded: boolean;
      readonly modIndex?: number;
    };
  }
  | OpBase & {
    readonly f: "delete";
    readonly result?: { readonly deleted: 0 | 1 };
  };

/** An op's shape before its outcome is known. */
export type Invocation = DistributiveOmit<
  Op,
  "id" | "status" | "start" | "end" | "result" | "error"
>;

// deno-lint-ignore no-explicit-any
type DistributiveOmit<T, K extends PropertyKey> = T extends any ? Omit<T, K>
  : never;

/** The outcome of an invocation, as the client classified the response. */
export type Outcome =
  | {
    readonly status: "ok";
    readonly result: NonNullable<Op["result"]>;
    readonly index?: number;
  }
  | { readonly status: "fail" | "info"; readonly error: string };

/** JSON text with object keys sorted: equal values give equal text. */
export function canonical(v: Json | undefined): string {
  if (v === undefined) return "undefined";
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  const o = v as { readonly [k: string]: Json };
  const keys = Object.keys(o).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)}}`;
}

/** Collects ops as clients invoke and complete them. */
export class History {
  readonly #ops: Op[] = [];
  #next = 0;
  readonly #clock: () => number;

  constructor(clock: () => number = () => performance.now()) {
    this.#clock = clock;
  }

  /** Runs `call`, recording its invocation and completion around it. */
  async record(
    inv: Invocation,
    call: () => Promise<Outcome>,
  ): Promise<Op> {
    const id = this.#next++;
    const start = this.#clock();
    let out: Outcome;
    try {
      out = await call();
    } catch (e) {
      out = { status: "info", error: `exception: ${String(e)}` };
    }
    const now = this.#clock();
    const end = out.status === "info" ? Infinity : now;
    const gaveUp = out.status === "info" ? { gaveUp: now } : {};
    const op = { ...inv, id, start, end, ...gaveUp, ...out } as Op;
    this.#ops.push(op);
    return op;
  }

  /** Adds an already complete op (tests, replays). */
  add(op: Op): void {
    this.#ops.push(op);
    this.#next = Math.max(this.#next, op.id + 1);
  }

  /** All ops so far, ordered by invocation time. */
  ops(): Op[] {
    return [...this.#ops].sort((a, b) => a.start - b.start || a.id - b.id);
  }

  get size(): number {
    return this.#ops.length;
  }
}

/** Reads a history saved as JSON (where +Infinity became null). */
export function parseHistory(text: string): Op[] {
  const raw = JSON.parse(text) as (Omit<Op, "end"> & { end: number | null })[];
  return raw.map((o) => ({ ...o, end: o.end ?? Infinity }) as Op);
}

/** One line per op, for reports: times, client, node, call and outcome. */
export function formatOp(op: Op): string {
  const end = op.end === Infinity ? "   ∞   " : op.end.toFixed(1).padStart(7);
  const where = `p${op.process}${op.node ? `@${op.node}` : ""}`;
  return `[${op.start.toFixed(1).padStart(7)} → ${end}] #${op.id} ${where} ` +
    `${describeCall(op)} ⇒ ${describeOutcome(op)}`;
}

function describeCall(op: Op): string {
  switch (op.f) {
    case "get":
      return `get(${op.key}, ${op.consistency})`;
    case "put":
      return `put(${op.key}, ${canonical(op.value)})`;
    case "cas": {
      const c = op.compare;
      const want = c.target === "value" ? canonical(c.value) : String(c.value);
      const via = op.via === "header" ? " by header" : op.via === "txn" ? " by txn" : "";
      return `cas(${op.key}, ${c.target}==${want} → ${canonical(op.value)}${via})`;
    }
    case "delete":
      return `delete(${op.key})`;
  }
}

function describeOutcome(op: Op): string {
  if (op.status !== "ok" || !op.result) {
    const at = op.gaveUp === undefined ? "" : ` at ${op.gaveUp.toFixed(1)}`;
    return `${op.status}${at}${op.error ? ` (${op.error})` : ""}`;
  }
  const r = op.result;
  if ("found" in r) {
    return r.found ? `${canonical(r.value)} @${r.modIndex}` : "not found";
  }
  if ("succeeded" in r) {
    return r.succeeded ? `succeeded @${r.modIndex ?? "?"}` : "compare failed";
  }
  if ("deleted" in r) return `deleted ${r.deleted}`;
  return `ok @${r.modIndex}`;
}
