import assert from "node:assert/strict";
import { type ChangeBatch, changeBytes, ChangeRing } from "../../src/kv/change_ring.ts";
import type { KvChange } from "../../src/kv/types.ts";

const put = (key: string, index: number, value = "1"): KvChange => ({
  type: "put",
  record: { key, value, version: 1, createIndex: index, modIndex: index },
});
const del = (key: string, index: number): KvChange => ({ type: "delete", key, modIndex: index });
const batch = (index: number, n = 1): ChangeBatch => ({
  index,
  changes: Array.from({ length: n }, (_, i) => put(`k${i}`, index)),
});
const indexes = (r: ChangeRing, from: number) => [...r.since(from)].map((b) => b.index);

Deno.test("ChangeRing", async (t) => {
  await t.step("holds every change after its floor; oldest = floor + 1", () => {
    const r = new ChangeRing(7, { maxChanges: 100, maxBytes: 1 << 20 });
    assert.equal(r.oldest, 8);
    for (const i of [8, 10, 11]) r.push(batch(i));
    assert.deepEqual(indexes(r, 8), [8, 10, 11]);
    assert.deepEqual(indexes(r, 9), [10, 11]);
    assert.deepEqual(indexes(r, 12), []);
    assert.equal(r.changes, 3);
  });

  await t.step("evicts whole entries past maxChanges and raises the floor", () => {
    const r = new ChangeRing(0, { maxChanges: 4, maxBytes: 1 << 20 });
    r.push(batch(1, 2));
    r.push(batch(2, 2));
    assert.equal(r.oldest, 1);
    r.push(batch(3, 1)); // 5 > 4: entry 1 (both changes) goes
    assert.equal(r.floor, 1);
    assert.deepEqual(indexes(r, 2), [2, 3]);
    assert.equal(r.changes, 3);
  });

  await t.step("evicts past maxBytes; an entry larger than the bound is not kept", () => {
    const big = put("k", 2, "x".repeat(1000));
    const r = new ChangeRing(0, { maxChanges: 100, maxBytes: changeBytes(big) + 10 });
    r.push({ index: 1, changes: [put("a", 1)] });
    r.push({ index: 2, changes: [big] });
    assert.deepEqual(indexes(r, 2), [2]);
    assert.equal(r.oldest, 2);
    r.push({ index: 3, changes: [big, del("k", 3)] });
    assert.equal(r.oldest, 4);
    assert.deepEqual(indexes(r, 4), []);
  });

  await t.step("long runs stay bounded and searchable (amortized compaction)", () => {
    const r = new ChangeRing(0, { maxChanges: 10, maxBytes: 1 << 20 });
    for (let i = 1; i <= 5000; i++) r.push(batch(i));
    assert.equal(r.changes, 10);
    assert.equal(r.oldest, 4991);
    assert.deepEqual(indexes(r, 4999), [4999, 5000]);
  });

  await t.step("reset forgets everything and starts after the new floor", () => {
    const r = new ChangeRing(0, { maxChanges: 10, maxBytes: 1 << 20 });
    r.push(batch(1));
    r.reset(40);
    assert.equal(r.oldest, 41);
    assert.equal(r.changes, 0);
    r.push(batch(41));
    assert.deepEqual(indexes(r, 41), [41]);
  });
});
