/**
 * Response bodies built as strings. A record's value is stored as JSON text
 * and spliced in verbatim: a read never parses or re-encodes it.
 * @module
 */
import type { KvRecord, TxnOp, TxnOpResult } from "../src/kv/types.ts";

/** Record fields after `value`, shared by both record shapes. */
function tail(r: KvRecord): string {
  return `"version":${r.version},"createIndex":${r.createIndex},"modIndex":${r.modIndex}}`;
}

/** `{"key","value","version","createIndex","modIndex"}`. */
export function renderRecord(r: KvRecord): string {
  return `{"key":${JSON.stringify(r.key)},"value":${r.value},${tail(r)}`;
}

/** The record without `value` (write answers, `keysOnly`). */
export function renderMeta(r: KvRecord): string {
  return `{"key":${JSON.stringify(r.key)},${tail(r)}`;
}

/** A record or `null`. */
export function renderMaybe(r: KvRecord | null): string {
  return r === null ? "null" : renderRecord(r);
}

/** `PUT` answer: the new record without value, plus `prev` when asked. */
export function renderPut(record: KvRecord, prev?: KvRecord | null): string {
  const meta = renderMeta(record);
  if (prev === undefined) return meta;
  return `${meta.slice(0, -1)},"prev":${renderMaybe(prev)}}`;
}

/** A range page: `{"items":[...],"cursor":"…"|null,"index":n}`. */
export function renderRange(
  items: readonly KvRecord[],
  cursor: string | null,
  index: number,
  keysOnly: boolean,
): string {
  const render = keysOnly ? renderMeta : renderRecord;
  return `{"items":[${items.map(render).join(",")}],"cursor":${
    JSON.stringify(cursor)
  },"index":${index}}`;
}

/**
 * One txn result, shaped by the op that produced it: `get` gives the record
 * or null, `put` the new record without value (as `PUT` does), `delete`
 * `{"deleted":0|1}`.
 */
export function renderTxnResult(op: TxnOp, r: TxnOpResult): string {
  if (r !== null && "deleted" in r) return `{"deleted":${r.deleted}}`;
  if (r === null) return "null";
  return op.op === "put" ? renderMeta(r) : renderRecord(r);
}

/** `POST /v1/txn` answer. */
export function renderTxn(
  succeeded: boolean,
  ops: readonly TxnOp[],
  results: readonly TxnOpResult[],
  index: number,
): string {
  const rs = results.map((r, i) => renderTxnResult(ops[i]!, r));
  return `{"succeeded":${succeeded},"results":[${rs.join(",")}],"index":${index}}`;
}
