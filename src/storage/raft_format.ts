/**
 * How raft.kv values look, and their validation on load (a storage
 * gateway: what comes back from disk is checked once, then trusted).
 * @module
 */
import type { ConfState, Entry, HardState, SnapshotMeta } from "../raft/types.ts";
import { needsChunks, stringBytes, toChunks } from "./chunks.ts";

/** A stored log entry head: inline data `d`, or `n` chunks. */
export interface EntryHead {
  /** Term. */
  readonly t: number;
  /** 1 for a conf entry, else 0. */
  readonly y: 0 | 1;
  readonly d?: string;
  readonly n?: number;
}

/** Thrown when stored data does not have the expected shape. */
export class StorageCorruptError extends Error {
  override name = "StorageCorruptError";
}

/** A head for `e` plus its chunks (empty when the data is inline). */
export function encodeEntry(
  e: Entry,
): { head: EntryHead; size: number; chunks: Uint8Array[] } {
  const y = e.type === "conf" ? 1 : 0;
  if (!needsChunks(e.data)) {
    return { head: { t: e.term, y, d: e.data }, size: stringBytes(e.data) + 32, chunks: [] };
  }
  const chunks = toChunks(e.data);
  return { head: { t: e.term, y, n: chunks.length }, size: 48, chunks };
}

/** Validates a stored entry head. */
export function checkEntryHead(v: unknown, index: number): EntryHead {
  const h = v as Partial<EntryHead> | null;
  const ok = h !== null && typeof h === "object" && isIndex(h.t) &&
    (h.y === 0 || h.y === 1) &&
    (typeof h.d === "string" || (isIndex(h.n) && h.n > 0));
  if (!ok) throw new StorageCorruptError(`Cannot read log entry ${index}`);
  return h as EntryHead;
}

/** The entry of a validated head whose data is `data`. */
export function toEntry(index: number, h: EntryHead, data: string): Entry {
  return { index, term: h.t, type: h.y === 1 ? "conf" : "normal", data };
}

/** Validates a stored hard state. */
export function checkHardState(v: unknown): HardState {
  const h = v as Partial<HardState> | null;
  if (
    h === null || typeof h !== "object" || !isIndex(h.term) ||
    typeof h.vote !== "string" || !isIndex(h.commit)
  ) {
    throw new StorageCorruptError("Cannot read the hard state");
  }
  return { term: h.term, vote: h.vote, commit: h.commit };
}

/** Validates a stored snapshot meta. */
export function checkSnapshotMeta(v: unknown): SnapshotMeta {
  const m = v as Partial<SnapshotMeta> | null;
  if (
    m === null || typeof m !== "object" || !isIndex(m.index) ||
    !isIndex(m.term) || !isConfState(m.confState)
  ) {
    throw new StorageCorruptError("Cannot read the snapshot meta");
  }
  return { index: m.index, term: m.term, confState: m.confState };
}

function isConfState(c: unknown): c is ConfState {
  const s = c as Partial<ConfState> | null;
  return s !== null && typeof s === "object" && isStrings(s.voters) &&
    isStrings(s.learners);
}

function isStrings(a: unknown): a is string[] {
  return Array.isArray(a) && a.every((x) => typeof x === "string");
}

/** A non-negative safe integer. */
export function isIndex(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

/** Plain copies: Deno KV must not keep references to caller objects. */
export function plainHardState(h: HardState): HardState {
  return { term: h.term, vote: h.vote, commit: h.commit };
}

/** See {@link plainHardState}. */
export function plainSnapshotMeta(m: SnapshotMeta): SnapshotMeta {
  return {
    index: m.index,
    term: m.term,
    confState: {
      voters: [...m.confState.voters],
      learners: [...m.confState.learners],
    },
  };
}
