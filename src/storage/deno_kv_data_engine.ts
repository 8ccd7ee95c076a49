/**
 * The kv engine on Deno KV (`data.kv`), log-structured: each write is one
 * segment of changes (`segment_format.ts`) committed with the meta that
 * counts it, so records and applied index move together and a crash never
 * applies an entry twice or skips one. A segment too big for one commit
 * goes first and the meta after it: segments past the meta's count are
 * garbage. Load replays the segments; once they outgrow the live data, the
 * apply loop asks for a rewrite, which is an install of the current state:
 * the next generation is written, then one commit switches to it.
 * Records of the older row-per-key layout are read as the base of their
 * generation and go away at the next rewrite.
 * @module
 */
import { compareKeys } from "../kv/key_order.ts";
import type { KvRecord } from "../kv/types.ts";
import type { DataState, DataWrite, KvDataEngine } from "./stores.ts";
import { deleteOp, fitsOneCommit, fromChunks, type Mutation, setOp } from "./chunks.ts";
import { Committer, type EngineHooks } from "./committer.ts";
import {
  checkHead,
  checkMeta,
  type DataMeta,
  EMPTY_META,
  metaOp,
  type RecordHead,
  toRecord,
} from "./data_format.ts";
import { dataKeys, keyFromPart } from "./kv_keys.ts";
import { StorageCorruptError } from "./raft_format.ts";
import { recoverRedo } from "./redo.ts";
import {
  type EncodedSegment,
  encodeSegment,
  encodeSegments,
  replaySegment,
} from "./segment_format.ts";

const LIST = { batchSize: 1000 } as const;
/** Deletes of an old generation go in commits of this many. */
const DELETE_FLUSH = 4000;
/** A rewrite packs records into segments of about this many code units. */
const REWRITE_SEGMENT = 1_000_000;
/**
 * Segments may hold this much plus what the last rewrite wrote before the
 * next rewrite: rewrites then cost O(1) per change (each change is written
 * about twice), and a restart replays at most about twice the live data.
 */
const REWRITE_SLACK = 16_000_000;

/** See the module doc. */
export class DenoKvDataEngine implements KvDataEngine {
  readonly #kv: Deno.Kv;
  readonly #c: Committer;
  readonly #slack: number;
  #meta: DataMeta | null = null;

  private constructor(kv: Deno.Kv, hooks: EngineHooks, slack: number) {
    this.#kv = kv;
    this.#c = new Committer(kv, "storage.data.commit", hooks);
    this.#slack = slack;
  }

  /**
   * Opens (or creates) the kv engine at `path` (a file, e.g. `data.kv`).
   * `rewriteSlack` replaces REWRITE_SLACK (tests).
   */
  static async open(
    path: string,
    hooks: EngineHooks = {},
    opts: { rewriteSlack?: number } = {},
  ): Promise<DenoKvDataEngine> {
    const slack = opts.rewriteSlack ?? REWRITE_SLACK;
    return new DenoKvDataEngine(await Deno.openKv(path), hooks, slack);
  }

  load(): Promise<DataState> {
    return this.#c.exclusive(() => this.#load());
  }

  write(w: DataWrite): Promise<void> {
    return this.#c.exclusive(() => this.#write(w));
  }

  install(
    state: Omit<DataState, "records">,
    records: AsyncIterable<readonly KvRecord[]>,
  ): Promise<void> {
    return this.#c.exclusive(() => this.#install(state, records));
  }

  /** True when the segments have outgrown the live data (see REWRITE_SLACK). */
  wantsRewrite(): boolean {
    const m = this.#meta;
    return m !== null && (m.size ?? 0) > this.#slack + (m.base ?? 0);
  }

  close(): void {
    this.#kv.close();
  }

  async #load(): Promise<DataState> {
    await recoverRedo(this.#kv, this.#c);
    const raw = (await this.#kv.get(dataKeys.meta)).value;
    const meta = raw === null ? EMPTY_META : checkMeta(raw);
    this.#meta = meta;
    const state = new Map<string, KvRecord | null>();
    const heads = await this.#readHeads(meta.gen);
    const values = await this.#readChunks(meta.gen, heads);
    for (const [key, head] of heads) {
      state.set(key, toRecord(key, head, head.d ?? values.get(key)!));
    }
    await this.#replaySegments(meta, state);
    const records: KvRecord[] = [];
    for (const r of state.values()) if (r) records.push(r);
    records.sort((a, b) => compareKeys(a.key, b.key));
    return {
      appliedIndex: meta.applied,
      appliedTerm: meta.term,
      membership: meta.membership,
      records,
    };
  }

  async #write(w: DataWrite): Promise<void> {
    this.#c.checkHealthy();
    const cur = this.#loaded();
    const seq = cur.segs ?? 0;
    // A batch that only moved the applied index writes the meta alone; a
    // big one writes several segments, the meta after them.
    const segs = encodeSegments(w.puts, w.deletes);
    const meta: DataMeta = {
      gen: cur.gen,
      applied: w.appliedIndex,
      term: w.appliedTerm,
      membership: w.membership ?? cur.membership,
      segs: seq + segs.length,
      size: segs.reduce((n, seg) => n + seg.length, cur.size ?? 0),
      base: cur.base ?? 0,
    };
    const rows = segs.flatMap((seg, i) => segmentRows(cur.gen, seq + i, seg));
    const all = [...rows, metaOp(meta)];
    if (fitsOneCommit(all)) await this.#c.commit(all);
    else {
      // Rows past the meta's count are invisible: no redo needed.
      await this.#c.commitAll(rows);
      await this.#c.commit([metaOp(meta)]);
    }
    this.#meta = meta;
  }

  async #install(
    state: Omit<DataState, "records">,
    records: AsyncIterable<readonly KvRecord[]>,
  ): Promise<void> {
    this.#c.checkHealthy();
    const old = this.#loaded();
    const gen = old.gen + 1;
    await this.#deleteGen(gen); // leftovers of an earlier failed install
    let seq = 0;
    let size = 0;
    let buf: KvRecord[] = [];
    let bufSize = 0;
    const flush = async () => {
      if (buf.length === 0) return;
      const seg = encodeSegment(buf, []);
      await this.#c.commitAll(segmentRows(gen, seq++, seg));
      size += seg.length;
      buf = [];
      bufSize = 0;
    };
    for await (const batch of records) {
      for (const r of batch) {
        buf.push(r);
        bufSize += r.key.length + r.value.length + 32;
        if (bufSize >= REWRITE_SEGMENT) await flush();
      }
    }
    await flush();
    const meta: DataMeta = {
      gen,
      applied: state.appliedIndex,
      term: state.appliedTerm,
      membership: state.membership,
      segs: seq,
      size,
      base: size,
    };
    await this.#c.commit([metaOp(meta)]);
    this.#meta = meta;
    await this.#deleteGen(old.gen);
  }

  /** Replays the complete segments of `meta.gen`; deletes every other one. */
  async #replaySegments(
    meta: DataMeta,
    into: Map<string, KvRecord | null>,
  ): Promise<void> {
    const segs = meta.segs ?? 0;
    const garbage: Mutation[] = [];
    let seq = -1;
    let pieces: unknown[] = [];
    const list = this.#kv.list({ prefix: dataKeys.segmentPrefix }, LIST);
    for await (const { key, value } of list) {
      const [gen, s, i] = [key[3], key[4], key[5]];
      if (gen !== meta.gen || typeof s !== "number" || s >= segs) {
        garbage.push(deleteOp(key));
        continue;
      }
      if (s !== seq) {
        if (seq >= 0) replaySegment(pieces, into);
        if (s !== seq + 1) throw new StorageCorruptError(`Kv segment ${seq + 1} is missing`);
        seq = s;
        pieces = [];
      }
      if (i !== pieces.length) throw new StorageCorruptError(`Kv segment ${s} misses pieces`);
      pieces.push(value);
    }
    if (seq >= 0) replaySegment(pieces, into);
    if (seq !== segs - 1) throw new StorageCorruptError(`Kv segment ${seq + 1} is missing`);
    await this.#c.commitAll(garbage);
  }

  #loaded(): DataMeta {
    if (!this.#meta) throw new Error("DenoKvDataEngine: call load() first");
    return this.#meta;
  }

  /** Heads of the older layout in `gen`; deletes other generations' heads. */
  async #readHeads(gen: number): Promise<Map<string, RecordHead>> {
    const heads = new Map<string, RecordHead>();
    const garbage: Mutation[] = [];
    const list = this.#kv.list({ prefix: dataKeys.recordPrefix }, LIST);
    for await (const { key, value } of list) {
      if (key[3] !== gen) {
        garbage.push(deleteOp(key));
        continue;
      }
      const k = keyFromPart(key[4]!);
      heads.set(k, checkHead(value, k));
    }
    await this.#c.commitAll(garbage);
    return heads;
  }

  /** Values of chunked heads; deletes chunks no head points at. */
  async #readChunks(
    gen: number,
    heads: ReadonlyMap<string, RecordHead>,
  ): Promise<Map<string, string>> {
    const parts = new Map<string, Uint8Array[]>();
    const garbage: Mutation[] = [];
    const list = this.#kv.list({ prefix: dataKeys.chunkPrefix }, LIST);
    for await (const { key, value } of list) {
      const k = key[3] === gen ? keyFromPart(key[4]!) : null;
      const head = k === null ? undefined : heads.get(k);
      if (!head?.n || head.m !== key[5] || !(value instanceof Uint8Array)) {
        garbage.push(deleteOp(key));
        continue;
      }
      const got = parts.get(k!) ?? [];
      got.push(value);
      parts.set(k!, got);
    }
    await this.#c.commitAll(garbage);
    return this.#joinChunks(heads, parts);
  }

  #joinChunks(
    heads: ReadonlyMap<string, RecordHead>,
    parts: ReadonlyMap<string, Uint8Array[]>,
  ): Map<string, string> {
    const values = new Map<string, string>();
    for (const [key, head] of heads) {
      if (head.n === undefined) continue;
      const chunks = parts.get(key) ?? [];
      if (chunks.length !== head.n) {
        throw new StorageCorruptError(`Record "${key}" misses chunks`);
      }
      values.set(key, fromChunks(chunks));
    }
    return values;
  }

  /** Deletes every segment, head and chunk of generation `gen`. */
  async #deleteGen(gen: number): Promise<void> {
    const prefixes = [dataKeys.segmentPrefix, dataKeys.recordPrefix, dataKeys.chunkPrefix];
    for (const prefix of prefixes) {
      let ops: Mutation[] = [];
      const list = this.#kv.list({ prefix: [...prefix, gen] }, LIST);
      for await (const { key } of list) {
        ops.push(deleteOp(key));
        if (ops.length >= DELETE_FLUSH) {
          await this.#c.commitAll(ops);
          ops = [];
        }
      }
      await this.#c.commitAll(ops);
    }
  }
}

/** The rows of segment `seq` of `gen`. */
function segmentRows(gen: number, seq: number, seg: EncodedSegment): Mutation[] {
  return seg.pieces.map((p, i) => setOp(dataKeys.segment(gen, seq, i), p, p.length));
}
