/**
 * Deno KV specifics beyond the contract: commit counts on the hot path,
 * failpoints, poisoning after a failed commit, awkward keys, key sizes.
 * @module
 */
import assert from "node:assert/strict";
import { compareKeys } from "../../src/kv/key_order.ts";
import { FailpointError, failpoints } from "../../src/failpoints/registry.ts";
import { DenoRaftEngine } from "../../src/storage/deno_raft_engine.ts";
import { DenoKvDataEngine } from "../../src/storage/deno_kv_data_engine.ts";
import { StoragePoisonedError } from "../../src/storage/committer.ts";
import { byKey, entries, loadData, record, SEED, tempDir, withDataKv } from "./helpers.ts";

Deno.test("DenoRaftEngine commits a normal Ready batch in exactly one commit", async () => {
  const dir = await tempDir();
  let commits = 0;
  const e = await DenoRaftEngine.open(`${dir.path}/raft.kv`, { onCommit: () => commits++ });
  try {
    await e.load(SEED);
    commits = 0;
    const batch = entries(1, 128, 1).map((x) => ({ ...x, data: "x".repeat(100) }));
    await e.write({
      snapshot: null,
      entries: batch,
      hardState: { term: 1, vote: "n1", commit: 0 },
    });
    assert.equal(commits, 1);
    await e.write({
      snapshot: null,
      entries: entries(100, 700, 2),
      hardState: { term: 2, vote: "", commit: 50 },
    });
    assert.equal(commits, 2, "a conflicting append that fits is one commit too");
    await e.compact({ index: 60, term: 1, confState: SEED.confState });
    assert.equal(commits, 3);
  } finally {
    e.close();
    await dir.cleanup();
  }
});

Deno.test("DenoKvDataEngine commits an apply batch in exactly one commit", async () => {
  const dir = await tempDir();
  let commits = 0;
  const e = await DenoKvDataEngine.open(`${dir.path}/data.kv`, { onCommit: () => commits++ });
  try {
    await e.load();
    const puts = Array.from({ length: 500 }, (_, i) => record(`k${i}`, i, 5));
    await e.write({ puts, deletes: ["x", "y"], appliedIndex: 5, appliedTerm: 1, membership: null });
    assert.equal(commits, 1);
  } finally {
    e.close();
    await dir.cleanup();
  }
});

Deno.test("failpoint storage.raft.commit fails the write and poisons the engine", async () => {
  const dir = await tempDir();
  const path = `${dir.path}/raft.kv`;
  failpoints.enable();
  try {
    const e = await DenoRaftEngine.open(path);
    await e.load(SEED);
    await e.write({ snapshot: null, entries: entries(1, 3, 1), hardState: null });
    failpoints.set("storage.raft.commit", { kind: "error" });
    const w = { snapshot: null, entries: entries(4, 5, 1), hardState: null };
    await assert.rejects(e.write(w), FailpointError);
    failpoints.clear("storage.raft.commit");
    await assert.rejects(e.write(w), StoragePoisonedError);
    e.close();
    const again = await DenoRaftEngine.open(path);
    assert.deepEqual((await again.load(SEED)).entries, entries(1, 3, 1));
    again.close();
  } finally {
    failpoints.clear();
    await dir.cleanup();
  }
});

Deno.test("failpoint storage.data.commit fails the write and keeps the old state", async () => {
  const dir = await tempDir();
  const path = `${dir.path}/data.kv`;
  failpoints.enable();
  try {
    const e = await DenoKvDataEngine.open(path);
    await e.load();
    failpoints.set("storage.data.commit", { kind: "error" });
    const w = {
      puts: [record("a", 1, 1)],
      deletes: [],
      appliedIndex: 1,
      appliedTerm: 1,
      membership: null,
    };
    await assert.rejects(e.write(w), FailpointError);
    await assert.rejects(e.write(w), StoragePoisonedError);
    e.close();
    failpoints.clear("storage.data.commit");
    assert.equal((await loadData(path)).appliedIndex, 0);
  } finally {
    failpoints.clear();
    await dir.cleanup();
  }
});

Deno.test("DenoKvDataEngine stores awkward keys: 1 KiB of NULs, astral, 1 KiB UTF-8", async () => {
  const dir = await tempDir();
  const path = `${dir.path}/data.kv`;
  const keys = [
    "\0".repeat(1024),
    "a\0b".repeat(300),
    "😀".repeat(256),
    "é".repeat(512),
    "x".repeat(1024),
    "\0",
    "lone\ud800",
    "lone\udbff",
    "lone\ufffd",
    "\udfff".repeat(341),
  ];
  const puts = keys.map((k, i) => record(k, i, 7));
  try {
    const e = await DenoKvDataEngine.open(path);
    await e.load();
    // 6 keys of ~1-2 KiB plus their chunks: over the 80 KiB key budget of one commit.
    const big = puts.map((r) => ({ ...r, value: JSON.stringify("v".repeat(100_000)) }));
    await e.write({ puts: big, deletes: [], appliedIndex: 7, appliedTerm: 1, membership: null });
    await e.write({ puts, deletes: [], appliedIndex: 8, appliedTerm: 1, membership: null });
    e.close();
    const again = await DenoKvDataEngine.open(path);
    const loaded = (await again.load()).records;
    assert.deepEqual(byKey(loaded), byKey(puts));
    const inOrder = [...keys].sort(compareKeys);
    assert.deepEqual(loaded.map((r) => r.key), inOrder, "load() gives key order");
    await again.write({
      puts: [],
      deletes: keys,
      appliedIndex: 9,
      appliedTerm: 1,
      membership: null,
    });
    again.close();
    assert.deepEqual((await loadData(path)).records, []);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("DenoKvDataEngine splits 900 puts with 1 KiB keys under the key budget", () =>
  withDataKv(async (path) => {
    const e = await DenoKvDataEngine.open(path);
    await e.load();
    const puts = Array.from({ length: 900 }, (_, i) => record(String(i).padStart(1024, "k"), i, 3));
    await e.write({ puts, deletes: [], appliedIndex: 3, appliedTerm: 1, membership: null });
    e.close();
    assert.equal((await loadData(path)).records.length, 900);
  }));

Deno.test("DenoRaftEngine stores a write's entries in one row and reads older one-row-per-entry logs", async () => {
  const dir = await tempDir();
  const path = `${dir.path}/raft.kv`;
  try {
    let e = await DenoRaftEngine.open(path);
    await e.load(SEED);
    await e.write({ snapshot: null, entries: entries(1, 50, 1), hardState: null });
    e.close();
    const kv = await Deno.openKv(path);
    const rows = await Array.fromAsync(kv.list({ prefix: ["raft", 1, "log"] }));
    assert.equal(rows.length, 1, "one row for the write");
    // A data dir from before blocks: one bare head per entry after them.
    await kv.set(["raft", 1, "log", 51], { t: 1, y: 0, d: "old-51" });
    await kv.set(["raft", 1, "log", 52], { t: 1, y: 0, d: "old-52" });
    kv.close();
    e = await DenoRaftEngine.open(path);
    let s = await e.load(SEED);
    assert.deepEqual(s.entries.map((x) => x.index), entries(1, 52, 1).map((x) => x.index));
    assert.equal(s.entries[51]!.data, "old-52");
    // Truncating into a block and past the old rows, then compacting into a block.
    await e.write({ snapshot: null, entries: entries(30, 40, 2), hardState: null });
    await e.compact({ index: 35, term: 2, confState: SEED.confState });
    e.close();
    e = await DenoRaftEngine.open(path);
    s = await e.load(SEED);
    assert.equal(s.snapshot.index, 35);
    assert.deepEqual(s.entries, entries(36, 40, 2));
    e.close();
  } finally {
    await dir.cleanup();
  }
});
