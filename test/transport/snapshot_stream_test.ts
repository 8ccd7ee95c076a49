/**
 * The snapshot wire format: NDJSON lines bounded in size, round-tripped,
 * and a cut stream refused.
 */
import assert from "node:assert/strict";
import type { KvRecord } from "../../src/kv/types.ts";
import { decodeSnapshot, encodeSnapshot } from "../../src/transport/snapshot_stream.ts";
import type { SnapshotData } from "../../src/transport/transport.ts";

const head = { region: 1, from: "n1", to: "n2", term: 3 };

function snapshotOf(records: KvRecord[]): SnapshotData {
  return {
    meta: { index: 9, term: 3, confState: { voters: ["n1", "n2"], learners: [] } },
    membership: {
      voters: [{ id: "n1", url: "http://h1:1" }, { id: "n2", url: "http://h2:1" }],
      learners: [],
    },
    records,
  };
}

Deno.test("big values go in bounded lines and come back whole", async () => {
  // Quotes double once escaped again: 40 such 1 MiB values in one line of
  // 512 would be 80 M code units; 512 of them would pass V8's maximum.
  const value = JSON.stringify('"'.repeat(1024 * 1024 - 2));
  const records = Array.from({ length: 40 }, (_, i) => ({
    key: `k${i}`,
    value,
    version: 1,
    createIndex: i + 1,
    modIndex: i + 1,
  }));
  const lines: number[] = [];
  const body = encodeSnapshot(head, snapshotOf(records)).pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctrl) {
        lines.push(chunk.length);
        ctrl.enqueue(chunk);
      },
    }),
  );
  const got = await decodeSnapshot(body);
  assert.equal(got.records.length, 40);
  assert.ok(got.records.every((r, i) => r.key === `k${i}` && r.value === value));
  assert.ok(lines.length > 5, `${lines.length} lines`);
  assert.ok(lines.every((n) => n < 20 * 1024 * 1024), `longest ${Math.max(...lines)}`);
});

Deno.test("a snapshot whose membership is not its confState, or whose index is past 2^52, is refused", async () => {
  const empty = { ...snapshotOf([]), membership: { voters: [], learners: [] } };
  await assert.rejects(decodeSnapshot(encodeSnapshot(head, empty)), /does not match its confState/);
  const far = snapshotOf([]);
  const huge = { ...far, meta: { ...far.meta, index: Number.MAX_SAFE_INTEGER } };
  await assert.rejects(decodeSnapshot(encodeSnapshot(head, huge)));
  assert.equal((await decodeSnapshot(encodeSnapshot(head, snapshotOf([])))).records.length, 0);
});
