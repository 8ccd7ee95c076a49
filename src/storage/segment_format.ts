/**
 * The kv engine's log-structured layout: a flush of the state machine's
 * changed keys is ONE segment, a JSON list of changes split into string
 * pieces that each fit a Deno KV value, instead of one row per key. sqlite's
 * cost is per row, so a flush of 250 changes costs a few rows, not 250.
 * Load replays a generation's segments in order (the last change of a key
 * wins); a rewrite packs the live records into a fresh generation.
 * @module
 */
import type { KvRecord } from "../kv/types.ts";
import { isIndex, StorageCorruptError } from "./raft_format.ts";

/** A put: key, value, version, createIndex, modIndex. A delete: [key]. */
type Change = [string, string, number, number, number] | [string];

/** Bytes per piece: a piece and its key stay under Deno KV's 64 KiB. */
const PIECE_BYTES = 60_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A segment's UTF-8 pieces (what the rows hold) and its text's length. */
export interface EncodedSegment {
  readonly pieces: Uint8Array[];
  /** Code units of the text: the engine's measure of segment growth. */
  readonly length: number;
}

/** Code units of one segment's text, at most (plus one change): bounded, so V8 can hold it. */
export const SEGMENT_UNITS = 1_000_000;

/** Encodes puts then deletes (a key is in at most one of them) as one segment. */
export function encodeSegment(
  puts: readonly KvRecord[],
  deletes: readonly string[],
): EncodedSegment {
  const all = encodeSegments(puts, deletes, Infinity);
  return all[0] ?? toSegment([]);
}

/**
 * Encodes puts then deletes as segments of about `maxUnits` code units
 * each. One flush can change any number of keys (a range delete of a
 * million): its text as one string could pass V8's maximum string length
 * and stop every node in the apply loop, on every replay.
 */
export function encodeSegments(
  puts: readonly KvRecord[],
  deletes: readonly string[],
  maxUnits = SEGMENT_UNITS,
): EncodedSegment[] {
  const out: EncodedSegment[] = [];
  let parts: string[] = [];
  let units = 0;
  const add = (c: Change) => {
    // JSON.stringify escapes lone surrogates, so the text is well formed
    // and every key and value round-trips exactly through UTF-8.
    const text = JSON.stringify(c);
    parts.push(text);
    units += text.length + 1;
    if (units >= maxUnits) {
      out.push(toSegment(parts));
      parts = [];
      units = 0;
    }
  };
  for (const r of puts) add([r.key, r.value, r.version, r.createIndex, r.modIndex]);
  for (const key of deletes) add([key]);
  if (parts.length > 0) out.push(toSegment(parts));
  return out;
}

/** Bytes, not strings: V8 may store even an ASCII string two bytes per unit. */
function toSegment(parts: readonly string[]): EncodedSegment {
  const text = `[${parts.join(",")}]`;
  const bytes = encoder.encode(text);
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += PIECE_BYTES) {
    pieces.push(bytes.subarray(at, at + PIECE_BYTES));
  }
  return { pieces, length: text.length };
}

/** Applies a segment's changes to `into` (null marks a deleted key). */
export function replaySegment(
  pieces: readonly unknown[],
  into: Map<string, KvRecord | null>,
): void {
  let total = 0;
  for (const p of pieces) {
    if (!(p instanceof Uint8Array)) throw new StorageCorruptError("Cannot read a kv segment piece");
    total += p.length;
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of pieces as Uint8Array[]) {
    bytes.set(p, at);
    at += p.length;
  }
  let changes: unknown;
  try {
    changes = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new StorageCorruptError("Cannot read a kv segment: bad JSON");
  }
  if (!Array.isArray(changes)) throw new StorageCorruptError("Cannot read a kv segment");
  for (const c of changes) {
    if (isPut(c)) {
      into.set(c[0], { key: c[0], value: c[1], version: c[2], createIndex: c[3], modIndex: c[4] });
    } else if (Array.isArray(c) && c.length === 1 && typeof c[0] === "string") {
      into.set(c[0], null);
    } else throw new StorageCorruptError("Cannot read a kv segment change");
  }
}

function isPut(c: unknown): c is Change & { length: 5 } {
  return Array.isArray(c) && c.length === 5 && typeof c[0] === "string" &&
    typeof c[1] === "string" && isIndex(c[2]) && isIndex(c[3]) && isIndex(c[4]);
}
