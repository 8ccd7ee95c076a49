/**
 * Deno KV's limits, and the two tools that keep us inside them: splitting
 * big strings into chunks, and splitting long mutation lists into commits.
 *
 * Limits (denokv `limits.rs`, confirmed by experiment on Deno 2.9):
 * value <= 65,536 bytes serialized (a string as V8 holds it: one or two
 * bytes per code unit, see {@link stringBytes}); key <= 2,048 bytes; one
 * atomic commit <= 1,000 mutations, <= 819,200 bytes of keys plus values,
 * and <= 81,920 bytes of keys among its `set`s. We keep a safety margin.
 * @module
 */
import { utf8Length } from "../kv/key_order.ts";

/** Bytes of UTF-8 per chunk: a chunk plus its key stays under 64 KiB. */
export const CHUNK_BYTES = 60_000;
/** A value whose serialized size is at most this is stored inline. */
export const INLINE_MAX = 60_000;
/** Budget of one commit, below Deno KV's limits. */
export const COMMIT_LIMITS = {
  mutations: 900,
  bytes: 700 * 1024,
  setKeyBytes: 64 * 1024,
} as const;

/** Overhead we charge per mutation and per serialized object. */
const OVERHEAD = 32;

/**
 * Upper bound of the serialized size of a string value. V8 serializes a
 * string as it holds it, and that is not a matter of its content: a key
 * decoded from `%C3%A9`, or an ASCII slice of such a string, is held two
 * bytes per code unit (a 40,000-unit ASCII slice failed "Value too large").
 * So every string counts two bytes per unit; big ones go to chunks, which
 * are bytes.
 */
export function stringBytes(s: string): number {
  return 2 * s.length + OVERHEAD;
}

/** The encoded size of a Deno KV key (tuple encoding), an upper bound. */
export function keyBytes(key: Deno.KvKey): number {
  let n = 0;
  for (const part of key) {
    if (typeof part === "string") n += utf8Length(part) + 2 + countNul(part);
    else if (part instanceof Uint8Array) {
      n += part.length + 2 + part.filter((b) => b === 0).length;
    } else n += 10;
  }
  return n;
}

function countNul(s: string): number {
  let n = 0;
  for (let i = s.indexOf("\0"); i >= 0; i = s.indexOf("\0", i + 1)) n++;
  return n;
}

/** True when `s` must be chunked rather than stored in one value. */
export function needsChunks(s: string): boolean {
  return stringBytes(s) > INLINE_MAX;
}

/** First byte of the chunked bytes: how the string is encoded. */
const UTF8 = 0;
const UTF16 = 1;

/**
 * Splits `s` into chunks of at most {@link CHUNK_BYTES}: a tag byte, then
 * UTF-8 (compact), or UTF-16 code units when `s` holds lone surrogates,
 * which UTF-8 cannot carry (so nothing is silently replaced by U+FFFD).
 */
export function toChunks(s: string): Uint8Array[] {
  const wellFormed = s.isWellFormed();
  const body = wellFormed ? new TextEncoder().encode(s) : utf16Bytes(s);
  const bytes = new Uint8Array(body.length + 1);
  bytes[0] = wellFormed ? UTF8 : UTF16;
  bytes.set(body, 1);
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
    out.push(bytes.subarray(at, at + CHUNK_BYTES));
  }
  return out;
}

/** Joins chunks written by {@link toChunks}. */
export function fromChunks(chunks: readonly Uint8Array[]): string {
  let total = 0;
  for (const c of chunks) total += c.length;
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  if (bytes[0] === UTF8) return new TextDecoder().decode(bytes.subarray(1));
  if (bytes[0] !== UTF16 || total % 2 === 0) {
    throw new RangeError("Cannot decode chunks: unknown encoding");
  }
  const units = new Uint16Array(bytes.slice(1).buffer);
  let s = "";
  for (let i = 0; i < units.length; i += 8192) {
    s += String.fromCharCode(...units.subarray(i, i + 8192));
  }
  return s;
}

function utf16Bytes(s: string): Uint8Array {
  const units = new Uint16Array(s.length);
  for (let i = 0; i < s.length; i++) units[i] = s.charCodeAt(i);
  return new Uint8Array(units.buffer);
}

/** One `set` (value defined) or `delete` (value undefined). */
export interface Mutation {
  readonly key: Deno.KvKey;
  readonly value: unknown;
  /** Estimated key + value bytes. */
  readonly size: number;
  readonly keySize: number;
}

/** A `set` of `value` whose serialized size is about `valueBytes`. */
export function setOp(
  key: Deno.KvKey,
  value: unknown,
  valueBytes: number,
): Mutation {
  const keySize = keyBytes(key);
  return { key, value, size: keySize + valueBytes + OVERHEAD, keySize };
}

/** A `delete`. */
export function deleteOp(key: Deno.KvKey): Mutation {
  const keySize = keyBytes(key);
  return { key, value: undefined, size: keySize + OVERHEAD, keySize };
}

/** True when all of `ops` fit in one commit. */
export function fitsOneCommit(ops: readonly Mutation[]): boolean {
  return groupEnd(ops, 0) === ops.length;
}

/**
 * Splits `ops` into consecutive groups that each fit one commit; order is
 * kept, so committing the groups in turn exposes only prefixes of `ops`.
 */
export function splitCommits(ops: readonly Mutation[]): Mutation[][] {
  const groups: Mutation[][] = [];
  for (let at = 0; at < ops.length;) {
    const end = groupEnd(ops, at);
    groups.push(ops.slice(at, end));
    at = end;
  }
  return groups;
}

/** End (exclusive) of the largest group starting at `at` (at least one). */
function groupEnd(ops: readonly Mutation[], at: number): number {
  let bytes = 0;
  let setKeys = 0;
  let i = at;
  for (; i < ops.length && i - at < COMMIT_LIMITS.mutations; i++) {
    const op = ops[i]!;
    bytes += op.size;
    if (op.value !== undefined) setKeys += op.keySize;
    const over = bytes > COMMIT_LIMITS.bytes ||
      setKeys > COMMIT_LIMITS.setKeyBytes;
    if (over && i > at) break;
  }
  return i;
}

/** A generic upper bound of a value's serialized size (for replays). */
export function valueBytes(v: unknown): number {
  if (typeof v === "string") return stringBytes(v);
  if (v instanceof Uint8Array) return v.length + OVERHEAD;
  if (Array.isArray(v)) {
    return v.reduce((n: number, x) => n + valueBytes(x), OVERHEAD);
  }
  if (v !== null && typeof v === "object") {
    let n = OVERHEAD;
    for (const [k, x] of Object.entries(v)) n += 2 * k.length + valueBytes(x);
    return n;
  }
  return 16;
}
