/**
 * The whole Deno KV key layout, in one place. Every key space starts with
 * its engine's name and the region id, so more regions (multi-raft) are an
 * addition, not a migration.
 *
 * raft.kv:
 * - `["raft", region, "hs"]` hard state
 * - `["raft", region, "snap"]` compaction point (snapshot meta)
 * - `["raft", region, "log", index]` entry head (inline data or chunk count)
 * - `["raft", region, "lc", index, term, i]` chunk i of a big entry
 *
 * data.kv:
 * - `["data", region, "meta"]` applied index/term, membership, generation
 * - `["data", region, "r", gen, keyPart]` record head of a user key
 * - `["data", region, "c", gen, keyPart, modIndex, i]` chunk i of a value
 * - `["data", region, "redo", "op", seq]` a batch of redo mutations
 * - `["data", region, "redo", "done"]` marker: the redo log is complete
 * @module
 */
import { REGION_ID } from "../telemetry/names.ts";

const R = REGION_ID;

/** raft.kv keys. */
export const raftKeys = {
  hardState: ["raft", R, "hs"] as const,
  snapshot: ["raft", R, "snap"] as const,
  logPrefix: ["raft", R, "log"] as const,
  log: (index: number): Deno.KvKey => ["raft", R, "log", index],
  chunkPrefix: ["raft", R, "lc"] as const,
  chunk: (index: number, term: number, i: number): Deno.KvKey => [
    "raft",
    R,
    "lc",
    index,
    term,
    i,
  ],
};

/** data.kv keys. */
export const dataKeys = {
  meta: ["data", R, "meta"] as const,
  recordPrefix: ["data", R, "r"] as const,
  record: (gen: number, key: string): Deno.KvKey => [
    "data",
    R,
    "r",
    gen,
    keyPart(key),
  ],
  chunkPrefix: ["data", R, "c"] as const,
  chunk: (gen: number, key: string, mod: number, i: number): Deno.KvKey => [
    "data",
    R,
    "c",
    gen,
    keyPart(key),
    mod,
    i,
  ],
  redoPrefix: ["data", R, "redo", "op"] as const,
  redoOp: (seq: number): Deno.KvKey => ["data", R, "redo", "op", seq],
  redoDone: ["data", R, "redo", "done"] as const,
};

/**
 * Deno KV escapes each NUL in a string key part as two bytes, so a 1 KiB
 * key made of NULs would pass the 2 KiB key limit. Such keys (rare, but a
 * client could send one and wedge every replica's apply) are stored as
 * bytes packed 7 bits per byte with the high bit set: no NUL, 8/7 the size.
 */
const PACK_NULS = 64;

/** The Deno KV key part of a user key. */
export function keyPart(key: string): string | Uint8Array {
  if (key.indexOf("\0") < 0) return key;
  let nuls = 0;
  for (let i = key.indexOf("\0"); i >= 0; i = key.indexOf("\0", i + 1)) nuls++;
  return nuls < PACK_NULS ? key : pack7(new TextEncoder().encode(key));
}

/** The user key of a key part written by {@link keyPart}. */
export function keyFromPart(part: Deno.KvKeyPart): string {
  if (typeof part === "string") return part;
  if (part instanceof Uint8Array) return new TextDecoder().decode(unpack7(part));
  throw new TypeError(`Cannot read record key part ${String(part)}`);
}

/** Packs bytes 7 bits per output byte; every output byte has bit 7 set. */
export function pack7(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil((bytes.length * 8) / 7));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 7) {
      bits -= 7;
      out[o++] = 0x80 | ((acc >> bits) & 0x7f);
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out[o++] = 0x80 | ((acc << (7 - bits)) & 0x7f);
  return out.subarray(0, o);
}

/** Inverse of {@link pack7}. */
export function unpack7(packed: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.floor((packed.length * 7) / 8));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const p of packed) {
    acc = (acc << 7) | (p & 0x7f);
    bits += 7;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  return out.subarray(0, o);
}
