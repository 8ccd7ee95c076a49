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
 * - `["data", region, "s", gen, seq, i]` piece i of change segment seq
 * - `["data", region, "r", gen, keyPart]` record head of a user key (the
 *   older row-per-key layout, still read)
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
  segmentPrefix: ["data", R, "s"] as const,
  segment: (gen: number, seq: number, i: number): Deno.KvKey => ["data", R, "s", gen, seq, i],
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
 * Two kinds of keys cannot be string key parts. Deno KV escapes each NUL
 * as two bytes, so a 1 KiB key of NULs would break the 2 KiB key limit;
 * and it stores strings as UTF-8, so keys with lone surrogates (not UTF-8,
 * but JSON can carry them) would collide. A client could send either and
 * wedge every replica's apply, so such keys are stored as WTF-8 bytes (UTF-8
 * that also encodes lone surrogates) packed 7 bits per byte with the high
 * bit set: no NUL, 8/7 the size. The threshold is part of the format.
 */
const PACK_NULS = 64;

/** The Deno KV key part of a user key. */
export function keyPart(key: string): string | Uint8Array {
  if (!key.isWellFormed()) return pack7(wtf8Encode(key));
  if (key.indexOf("\0") < 0) return key;
  let nuls = 0;
  for (let i = key.indexOf("\0"); i >= 0; i = key.indexOf("\0", i + 1)) nuls++;
  return nuls < PACK_NULS ? key : pack7(wtf8Encode(key));
}

/** The user key of a key part written by {@link keyPart}. */
export function keyFromPart(part: Deno.KvKeyPart): string {
  if (typeof part === "string") return part;
  if (part instanceof Uint8Array) return wtf8Decode(unpack7(part));
  throw new TypeError(`Cannot read record key part ${String(part)}`);
}

/** UTF-8 of every code point, lone surrogates included (3 bytes each). */
export function wtf8Encode(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.codePointAt(i)!;
    if (c > 0xffff) i++;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) {
      out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    } else {
      out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63));
      out.push(0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
  }
  return Uint8Array.from(out);
}

/** Inverse of {@link wtf8Encode}. */
export function wtf8Decode(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length;) {
    const x = b[i]!;
    const n = x < 0x80 ? 1 : x < 0xe0 ? 2 : x < 0xf0 ? 3 : 4;
    let c = n === 1 ? x : x & (0xff >> (n + 1));
    for (let j = 1; j < n; j++) c = (c << 6) | (b[i + j]! & 63);
    s += String.fromCodePoint(c);
    i += n;
  }
  return s;
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
