import assert from "node:assert/strict";
import type { KvRecord } from "../../src/kv/types.ts";
import { DenoKvDataEngine } from "../../src/storage/deno_kv_data_engine.ts";
import { dataKeys, keyPart } from "../../src/storage/kv_keys.ts";
import { StorageCorruptError } from "../../src/storage/raft_format.ts";
import { encodeSegment, encodeSegments, replaySegment } from "../../src/storage/segment_format.ts";
import { rawEntries } from "./crash_harness.ts";
import { batches, bigText, byKey, loadData, record, tempDir, withDataKv } from "./helpers.ts";

const dw = (puts: KvRecord[], deletes: string[], appliedIndex: number) => ({
  puts,
  deletes,
  appliedIndex,
  appliedTerm: 1,
  membership: null,
});

Deno.test("segments round-trip awkward keys and values and reject garbage", async (t) => {
  await t.step("round trip: lone surrogates, astral, NULs, a 1 MiB value", () => {
    const puts = [
      record("lone\ud800", "v\udfff", 3),
      record("😀\0é", { x: "😀".repeat(1000) }, 4),
      { ...record("big", null, 5), value: JSON.stringify(bigText(1_000_000)) },
    ];
    const seg = encodeSegment(puts, ["gone", "\udbff"]);
    assert.ok(seg.pieces.length > 16, "a 1 MiB value spans pieces");
    assert.ok(seg.pieces.every((p) => p.length <= 60_000));
    const into = new Map<string, KvRecord | null>([["gone", puts[0]!]]);
    replaySegment(seg.pieces, into);
    assert.deepEqual(into.get("gone"), null);
    assert.deepEqual(into.get("\udbff"), null);
    for (const r of puts) assert.deepEqual(into.get(r.key), r);
  });
  await t.step("garbage is a StorageCorruptError", () => {
    const bad = [["x"], [new Uint8Array([0xff])], [new TextEncoder().encode('[["k",1]]')]];
    for (const pieces of bad) {
      assert.throws(() => replaySegment(pieces, new Map()), StorageCorruptError);
    }
  });
});

Deno.test("DenoKvDataEngine writes a flush as one segment and rewrites when segments outgrow the data", async () => {
  const dir = await tempDir();
  const path = `${dir.path}/data.kv`;
  const opts = { rewriteSlack: 20_000 };
  try {
    let commits = 0;
    const e = await DenoKvDataEngine.open(path, { onCommit: () => commits++ }, opts);
    await e.load();
    // Ten keys overwritten again and again: the segments grow, the data does not.
    let index = 0;
    while (!e.wantsRewrite()) {
      index++;
      const puts = Array.from({ length: 10 }, (_, i) => record(`k${i}`, { index }, index));
      await e.write(dw(puts, index % 7 === 0 ? ["k9"] : [], index));
    }
    assert.equal(commits, index, "one commit per write");
    const before = (await rawEntries(path)).filter((k) => k.key[2] === "s").length;
    assert.equal(before, index, "one row per small segment");
    const live = Array.from({ length: 10 }, (_, i) => record(`k${i}`, { index }, index));
    const state = { appliedIndex: index, appliedTerm: 1, membership: null };
    await e.install(state, batches(live, 3));
    assert.equal(e.wantsRewrite(), false);
    await e.write(dw([], ["k0"], index + 1));
    e.close();
    const rows = (await rawEntries(path)).filter((k) => k.key[2] === "s");
    assert.ok(rows.every((k) => k.key[3] === 1), "only the new generation is left");
    assert.equal(rows.length, 2, "the rewrite and the delete");
    const loaded = await loadData(path, opts);
    assert.equal(loaded.appliedIndex, index + 1);
    assert.deepEqual(loaded.records, byKey(live.slice(1)));
  } finally {
    await dir.cleanup();
  }
});

Deno.test("DenoKvDataEngine reads the older row-per-key layout and drops it at the next rewrite", () =>
  withDataKv(async (path) => {
    const kv = await Deno.openKv(path);
    const head = (v: string, m: number) => ({ v: 1, c: m, m, d: v });
    await kv.atomic()
      .set(dataKeys.meta, { gen: 0, applied: 7, term: 2, membership: null })
      .set(dataKeys.record(0, "a"), head('"old-a"', 3))
      .set(dataKeys.record(0, "b"), head('"old-b"', 4))
      .set(dataKeys.record(0, "c"), { v: 1, c: 5, m: 5, n: 1 })
      .set([...dataKeys.chunkPrefix, 0, keyPart("c"), 5, 0], new Uint8Array([0, 0x22, 0x63, 0x22]))
      .commit();
    kv.close();
    const e = await DenoKvDataEngine.open(path);
    const first = await e.load();
    assert.equal(first.appliedIndex, 7);
    assert.deepEqual(first.records.map((r) => [r.key, r.value]), [
      ["a", '"old-a"'],
      ["b", '"old-b"'],
      ["c", '"c"'],
    ]);
    await e.write(dw([record("b", "new-b", 8)], ["a"], 8));
    e.close();
    const again = await DenoKvDataEngine.open(path);
    const second = await again.load();
    assert.deepEqual(second.records.map((r) => [r.key, r.value]), [["b", '"new-b"'], ["c", '"c"']]);
    await again.install(
      { appliedIndex: 8, appliedTerm: 2, membership: null },
      batches(second.records, 1),
    );
    again.close();
    const left = (await rawEntries(path)).map((k) => k.key[2]);
    assert.deepEqual(left.filter((k) => k === "r" || k === "c"), [], "old rows are gone");
  }));

Deno.test("a flush of many changes is several bounded segments that replay as one", async (t) => {
  // 1 KiB keys of control characters: six code units each once escaped.
  const key = (i: number) => `k${String(i).padStart(5, "0")}` + "\x01".repeat(1000);
  const n = 2_000;
  await t.step("encodeSegments() cuts at the limit and keeps every change", () => {
    const puts = Array.from({ length: 50 }, (_, i) => record(key(i), i, i + 1));
    const segs = encodeSegments(puts, Array.from({ length: n }, (_, i) => key(n + i)), 100_000);
    assert.ok(segs.length > 100, `${segs.length} segments`);
    assert.ok(segs.every((s) => s.length < 100_000 + 7_000));
    const into = new Map<string, KvRecord | null>();
    for (const s of segs) replaySegment(s.pieces, into);
    assert.equal(into.size, 50 + n);
    for (const r of puts) assert.deepEqual(into.get(r.key), r);
    assert.equal(into.get(key(n)), null);
  });
  await t.step("the data engine writes them before its meta and loads them back", async () => {
    await withDataKv(async (path) => {
      const e = await DenoKvDataEngine.open(path);
      await e.load();
      const puts = Array.from({ length: n }, (_, i) => record(key(i), i, i + 1));
      await e.write(dw(puts, [], n));
      await e.write(dw([], puts.slice(0, n - 1).map((r) => r.key), n + 1));
      e.close();
      const state = await loadData(path);
      assert.equal(state.appliedIndex, n + 1);
      assert.deepEqual(state.records.map((r) => r.key), [key(n - 1)]);
      const segs = (await rawEntries(path)).filter((k) => k.key[2] === "s");
      assert.ok(new Set(segs.map((k) => k.key[4])).size > 20, "several segments per flush");
    });
  });
});
