/**
 * How data.kv's meta and the older layout's record heads look, and their
 * validation on load (segments: `segment_format.ts`).
 * @module
 */
import type { KvRecord } from "../kv/types.ts";
import type { Member, Membership } from "./stores.ts";
import { type Mutation, setOp } from "./chunks.ts";
import { dataKeys } from "./kv_keys.ts";
import { isIndex, StorageCorruptError } from "./raft_format.ts";

/** `["data", region, "meta"]`: what the records cover. */
export interface DataMeta {
  readonly gen: number;
  readonly applied: number;
  readonly term: number;
  readonly membership: Membership | null;
  /** Segments 0..segs-1 of `gen` are complete; later ones are garbage. */
  readonly segs?: number;
  /** Code units in the segments of `gen`, and in those a rewrite wrote. */
  readonly size?: number;
  readonly base?: number;
}

/** A record head: inline value `d`, or `n` chunks keyed by modIndex `m`. */
export interface RecordHead {
  readonly v: number;
  readonly c: number;
  readonly m: number;
  readonly d?: string;
  readonly n?: number;
}

/** The meta of a brand-new data dir. */
export const EMPTY_META: DataMeta = {
  gen: 0,
  applied: 0,
  term: 0,
  membership: null,
};

/** The meta mutation. */
export function metaOp(meta: DataMeta): Mutation {
  const m = meta.membership;
  const value: DataMeta = {
    gen: meta.gen,
    applied: meta.applied,
    term: meta.term,
    membership: m && {
      voters: m.voters.map(plainMember),
      learners: m.learners.map(plainMember),
    },
    segs: meta.segs ?? 0,
    size: meta.size ?? 0,
    base: meta.base ?? 0,
  };
  return setOp(dataKeys.meta, value, 128 + 2 * JSON.stringify(m).length);
}

function plainMember(m: Member): Member {
  return { id: m.id, url: m.url };
}

/** Validates a stored meta. */
export function checkMeta(v: unknown): DataMeta {
  const m = v as Partial<DataMeta> | null;
  const ok = m !== null && typeof m === "object" && isIndex(m.gen) &&
    isIndex(m.applied) && isIndex(m.term) &&
    (m.membership === null || isMembership(m.membership)) &&
    [m.segs, m.size, m.base].every((n) => n === undefined || isIndex(n));
  if (!ok) throw new StorageCorruptError("Cannot read the data meta");
  return m as DataMeta;
}

function isMembership(m: unknown): m is Membership {
  const s = m as Partial<Membership> | null;
  return s !== null && typeof s === "object" && isMembers(s.voters) &&
    isMembers(s.learners);
}

function isMembers(a: unknown): a is Member[] {
  return Array.isArray(a) &&
    a.every((x) => typeof x?.id === "string" && typeof x?.url === "string");
}

/** Validates a stored record head. */
export function checkHead(v: unknown, key: string): RecordHead {
  const h = v as Partial<RecordHead> | null;
  const ok = h !== null && typeof h === "object" && isIndex(h.v) &&
    isIndex(h.c) && isIndex(h.m) &&
    (typeof h.d === "string" || (isIndex(h.n) && h.n > 0));
  if (!ok) throw new StorageCorruptError(`Cannot read record "${key}"`);
  return h as RecordHead;
}

/** The record of a head and its value. */
export function toRecord(key: string, h: RecordHead, value: string): KvRecord {
  return { key, value, version: h.v, createIndex: h.c, modIndex: h.m };
}
