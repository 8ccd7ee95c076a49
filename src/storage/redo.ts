/**
 * The redo log of data.kv, for apply batches over one commit's limits.
 * The protocol, one step per line, each step one or more commits:
 *
 * 1. write the exact mutations to the redo area (`redo/op/<seq>`);
 * 2. one commit sets the marker `redo/done` {n, applied};
 * 3. apply the mutations to their real keys (several commits);
 * 4. one commit deletes the marker; then the op records are deleted.
 *
 * A crash before step 2 leaves an incomplete redo: load discards it, and
 * the batch is simply not applied (the applied index says so). After step
 * 2, load replays every mutation (sets and deletes are idempotent) and then
 * clears the redo. Either way the applied index matches the data.
 * @module
 */
import { deleteOp, type Mutation, setOp, valueBytes } from "./chunks.ts";
import type { Committer } from "./committer.ts";
import { dataKeys } from "./kv_keys.ts";
import { isIndex, StorageCorruptError } from "./raft_format.ts";

/** Estimated bytes of mutations per redo record (a value is <= 64 KiB). */
const RECORD_BYTES = 56 * 1024;

/** A stored mutation: key and value, or key and null for a delete. */
type RedoOp = [Deno.KvKey, unknown];

interface RedoMarker {
  readonly n: number;
  readonly applied: number;
}

/** Runs steps 1-4 for `ops` (which include the meta with `applied`). */
export async function commitWithRedo(
  c: Committer,
  ops: readonly Mutation[],
  applied: number,
): Promise<void> {
  const records = packRecords(ops);
  await c.commitAll(records);
  const marker: RedoMarker = { n: records.length, applied };
  await c.commit([setOp(dataKeys.redoDone, marker, 64)]);
  await c.commitAll(ops);
  await c.commit([deleteOp(dataKeys.redoDone)]);
  await c.commitAll(records.map((r) => deleteOp(r.key)));
}

/**
 * Load-time recovery: replays a complete redo, discards an incomplete
 * one. Returns true when a redo was replayed.
 */
export async function recoverRedo(kv: Deno.Kv, c: Committer): Promise<boolean> {
  const marker = (await kv.get(dataKeys.redoDone)).value as RedoMarker | null;
  const ops: Mutation[] = [];
  const keys: Deno.KvKey[] = [];
  const list = kv.list({ prefix: dataKeys.redoPrefix }, { batchSize: 1000 });
  for await (const { key, value } of list) {
    keys.push(key);
    if (marker) ops.push(...unpackRecord(value));
  }
  if (marker) {
    if (!isIndex(marker.n) || marker.n !== keys.length) {
      throw new StorageCorruptError("Redo log does not match its marker");
    }
    await c.commitAll(ops);
    await c.commit([deleteOp(dataKeys.redoDone)]);
  }
  await c.commitAll(keys.map(deleteOp));
  return marker !== null;
}

/** Groups `ops` into redo records of about {@link RECORD_BYTES}. */
function packRecords(ops: readonly Mutation[]): Mutation[] {
  const records: Mutation[] = [];
  let cur: RedoOp[] = [];
  let bytes = 0;
  const flush = () => {
    if (cur.length === 0) return;
    records.push(setOp(dataKeys.redoOp(records.length), cur, bytes));
    cur = [];
    bytes = 0;
  };
  for (const op of ops) {
    if (bytes + op.size > RECORD_BYTES) flush();
    cur.push([op.key, op.value === undefined ? null : op.value]);
    bytes += op.size;
  }
  flush();
  return records;
}

function unpackRecord(value: unknown): Mutation[] {
  if (!Array.isArray(value)) {
    throw new StorageCorruptError("Cannot read a redo record");
  }
  return value.map((op: RedoOp) => {
    if (!Array.isArray(op) || !Array.isArray(op[0])) {
      throw new StorageCorruptError("Cannot read a redo mutation");
    }
    return op[1] === null ? deleteOp(op[0]) : setOp(op[0], op[1], valueBytes(op[1]));
  });
}
