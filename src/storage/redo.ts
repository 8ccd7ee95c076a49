/**
 * The redo log of data.kv's older row-per-key layout, which used it for
 * apply batches over one commit's limits. Segments need none (see
 * `deno_kv_data_engine.ts`); a data dir left mid-redo by an older build is
 * still recovered at load. The protocol, each step one or more commits:
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

/** A stored mutation: key and value, or key and null for a delete. */
type RedoOp = [Deno.KvKey, unknown];

interface RedoMarker {
  readonly n: number;
  readonly applied: number;
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
