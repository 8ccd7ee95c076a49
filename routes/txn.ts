/**
 * `POST /v1/txn`: etcd-style compare-and-apply in one log entry (API.md §3).
 * The route validates and translates; the state machine decides.
 * @module
 */
import { Hono } from "hono";
import type { Config } from "../src/config.ts";
import type { Compare, KvCommand, TxnOp } from "../src/kv/types.ts";
import { jsonBody, RawJson } from "./body.ts";
import type { AppDeps, AppEnv } from "./deps.ts";
import { invalid, tooLarge } from "./errors.ts";
import { renderTxn } from "./render.ts";
import { expectResult, indexHeader, json } from "./respond.ts";
import { NoQuery, TxnBody } from "./schemas.ts";
import { checkKey, noPreconditions, parseQuery, serializeValue } from "./validate.ts";

/** The txn route pattern (also the metrics label). */
export const TXN_ROUTE = "/v1/txn";

type TxnCommand = Extract<KvCommand, { type: "txn" }>;
type Limits = Pick<Config, "maxKeyBytes" | "maxValueBytes" | "maxTxnOps">;

/** 413 before schema work when a list is over the op limit. */
function checkCounts(body: unknown, max: number): void {
  if (typeof body !== "object" || body === null) return;
  for (const name of ["compare", "success", "failure"] as const) {
    const list = (body as Record<string, unknown>)[name];
    if (Array.isArray(list) && list.length > max) {
      throw tooLarge(`Txn ${name} list length`, max, list.length);
    }
  }
}

function toOp(op: TxnBody["success"][number], limits: Limits): TxnOp {
  const key = checkKey(op.key, limits.maxKeyBytes);
  if (op.op !== "put") return { op: op.op, key };
  return { op: "put", key, value: serializeValue(op.value, limits.maxValueBytes) };
}

/** True when `v` holds a number kept as its text (a double would round it). */
function holdsExactNumber(v: unknown): boolean {
  const stack = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    if (RawJson.isRawJSON(x)) return true;
    if (x !== null && typeof x === "object") stack.push(...Object.values(x));
  }
  return false;
}

function toCompare(c: TxnBody["compare"][number], limits: Limits): Compare {
  const key = checkKey(c.key, limits.maxKeyBytes);
  // Compares parse both sides as JSON, numbers as doubles: one a double
  // would round would match values it is not (…890 against a stored …891).
  if (c.target === "value" && holdsExactNumber(c.value)) {
    throw invalid("A value compare cannot hold a number a double would round; compare modIndex");
  }
  const orders = c.op === "<" || c.op === ">";
  if (
    c.target === "value" && orders && typeof c.value !== "number" && typeof c.value !== "string"
  ) {
    // Only numbers and strings have an order; against anything else the
    // compare could only be false, which would quietly take the failure branch.
    throw invalid(`A "${c.op}" compare takes a number or a string value`);
  }
  // A value compare is against the stored JSON text, so encode it the same way.
  const value = c.target === "value" ? serializeValue(c.value, limits.maxValueBytes) : c.value;
  return { key, target: c.target, op: c.op, value };
}

/**
 * A key written twice in one branch would get two records with one
 * `modIndex` (the txn is one entry); etcd refuses that too.
 */
function checkWritesOnce(ops: readonly TxnOp[], branch: string): void {
  const written = new Set<string>();
  for (const op of ops) {
    if (op.op === "get") continue;
    if (written.has(op.key)) {
      throw invalid(`Txn ${branch} writes key ${JSON.stringify(op.key)} more than once`);
    }
    written.add(op.key);
  }
}

/** Validates a txn body into its command (400 / 413 on bad input). */
export function toTxnCommand(json: unknown, limits: Limits): TxnCommand {
  checkCounts(json, limits.maxTxnOps);
  const body = TxnBody.parse(json);
  const cmd: TxnCommand = {
    type: "txn",
    compare: body.compare.map((c) => toCompare(c, limits)),
    success: body.success.map((o) => toOp(o, limits)),
    failure: body.failure.map((o) => toOp(o, limits)),
  };
  checkWritesOnce(cmd.success, "success");
  checkWritesOnce(cmd.failure, "failure");
  return cmd;
}

/** Code units of values a txn's gets may answer with (see {@link checkAnswerSize}). */
export const TXN_ANSWER_UNITS = 64 * 1024 * 1024;

/**
 * A txn of 128 gets of one 1 MiB key is 3.6 KB asking for a 128 MiB
 * answer (built in memory, twice): refused before it is proposed, by the
 * values as they are now, with nothing changed.
 */
async function checkAnswerSize(cmd: TxnCommand, engine: AppDeps["engine"]): Promise<void> {
  const gets = (ops: readonly TxnOp[]) => ops.filter((op) => op.op === "get").map((op) => op.key);
  const branches = [gets(cmd.success), gets(cmd.failure)];
  if (branches[0]!.length + branches[1]!.length === 0) return;
  const view = await engine.asyncSnapshot("stale");
  const units = Math.max(
    ...branches.map((keys) =>
      keys.reduce((n, k) => n + k.length + (view.get(k)?.value.length ?? 0), 0)
    ),
  );
  if (units > TXN_ANSWER_UNITS) throw tooLarge("Txn answer", TXN_ANSWER_UNITS, units);
}

/** Builds the txn route over `deps.engine`. */
export function createTxnRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post(TXN_ROUTE, jsonBody(deps.config.maxBodyBytes), async (c) => {
    noPreconditions(c.req.raw.headers);
    parseQuery(c.req.url, NoQuery);
    const cmd = toTxnCommand(c.get("json"), deps.config);
    await checkAnswerSize(cmd, deps.engine);
    const w = await deps.engine.asyncWrite(cmd);
    const r = expectResult(w, "txn");
    const ops = r.succeeded ? cmd.success : cmd.failure;
    return json(renderTxn(r.succeeded, ops, r.results, w.index), indexHeader(w.index));
  });
  return app;
}
