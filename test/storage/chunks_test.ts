import assert from "node:assert/strict";
import {
  CHUNK_BYTES,
  COMMIT_LIMITS,
  deleteOp,
  fitsOneCommit,
  fromChunks,
  keyBytes,
  needsChunks,
  setOp,
  splitCommits,
  toChunks,
} from "../../src/storage/chunks.ts";
import { keyFromPart, keyPart, pack7, unpack7 } from "../../src/storage/kv_keys.ts";
import { DenoRaftEngine } from "../../src/storage/deno_raft_engine.ts";
import { bigText, SEED, tempDir } from "./helpers.ts";

Deno.test("toChunks() splits by UTF-8 bytes and fromChunks() restores", () => {
  const s = bigText(1024 * 1024);
  const chunks = toChunks(s);
  assert.ok(chunks.every((c) => c.length <= CHUNK_BYTES));
  const bytes = new TextEncoder().encode(s).length + 1; // + the tag byte
  assert.equal(chunks.length, Math.ceil(bytes / CHUNK_BYTES));
  assert.equal(fromChunks(chunks), s);
});

Deno.test("toChunks() keeps lone surrogates (UTF-16 chunks)", () => {
  for (const s of ["x\ud800".repeat(100_000), "\udfff" + bigText(200_000) + "\ud83d"]) {
    const chunks = toChunks(s);
    assert.equal(chunks[0]![0], 1, "tagged UTF-16");
    assert.equal(fromChunks(chunks), s);
  }
  assert.throws(() => fromChunks([Uint8Array.of(7, 1, 2)]), RangeError);
});

Deno.test("needsChunks() counts two bytes per code unit, whatever the content", () => {
  assert.equal(needsChunks("a".repeat(29_000)), false);
  assert.equal(needsChunks("漢".repeat(29_000)), false);
  // V8 may hold even ASCII two bytes per unit (a slice of a decoded URI).
  assert.equal(needsChunks("a".repeat(31_000)), true);
  assert.equal(needsChunks("é".repeat(31_000)), true);
});

Deno.test("strings that V8 holds two bytes per unit are stored, not refused", async () => {
  const dir = await tempDir();
  const twoByte = decodeURIComponent("%C3%A9") + "a".repeat(45_000);
  const datas = [twoByte, twoByte.slice(1), twoByte.slice(1, 20_000)];
  try {
    const e = await DenoRaftEngine.open(`${dir.path}/raft.kv`);
    await e.load(SEED);
    const batch = datas.map((data, i) => ({
      index: i + 1,
      term: 1,
      type: "normal" as const,
      data,
    }));
    await e.write({ snapshot: null, entries: batch, hardState: { term: 1, vote: "n1", commit: 0 } })
      .finally(() => e.close());
    const again = await DenoRaftEngine.open(`${dir.path}/raft.kv`);
    const loaded = await again.load(SEED).finally(() => again.close());
    assert.deepEqual(loaded.entries.map((x) => x.data), datas);
  } finally {
    await dir.cleanup();
  }
});

Deno.test("splitCommits() keeps order and every group within the limits", () => {
  const ops = [
    ...Array.from({ length: 2000 }, (_, i) => setOp(["a", i], "v", 10)),
    ...Array.from({ length: 30 }, (_, i) => setOp(["b", i], new Uint8Array(60_000), 60_000)),
    ...Array.from({ length: 300 }, (_, i) => deleteOp(["c", "k".repeat(1000), i])),
  ];
  assert.equal(fitsOneCommit(ops), false);
  const groups = splitCommits(ops);
  assert.deepEqual(groups.flat(), ops);
  for (const g of groups) {
    assert.ok(g.length <= COMMIT_LIMITS.mutations);
    assert.ok(g.reduce((n, op) => n + op.size, 0) <= COMMIT_LIMITS.bytes);
  }
  assert.equal(fitsOneCommit(ops.slice(0, 900)), true);
});

Deno.test("keyBytes() bounds Deno KV's key encoding", () => {
  assert.ok(keyBytes(["data", 1, "r", 0, "\0".repeat(10)]) >= 20 + 10 + 4 * 2);
  assert.ok(keyBytes(["x", "😀"]) >= 1 + 4 + 4);
});

Deno.test("pack7() and keyPart() keep NUL-heavy keys short and reversible", () => {
  for (const len of [0, 1, 6, 7, 8, 9, 100, 1024]) {
    const bytes = Uint8Array.from({ length: len }, (_, i) => (i * 37) & 0xff);
    const packed = pack7(bytes);
    assert.ok(packed.every((b) => b !== 0));
    assert.deepEqual(unpack7(packed), bytes);
  }
  const keys = [
    "plain",
    "a\0b",
    "\0".repeat(1024),
    "😀\0".repeat(100),
    "a\ud800",
    "\udc00\ud800x😀",
    "\ud800".repeat(341),
  ];
  for (const key of keys) {
    const part = keyPart(key);
    assert.equal(keyFromPart(part), key);
    assert.ok(keyBytes(["data", 1, "r", 0, part]) < 2048);
    assert.equal(typeof part === "string", key.isWellFormed() && key.split("\0").length <= 64);
  }
});
