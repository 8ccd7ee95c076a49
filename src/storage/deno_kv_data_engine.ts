/**
 * The kv engine on Deno KV (`data.kv`): records, applied index,
 * membership. An apply batch is ONE atomic commit that carries its records
 * and the applied index together, so a crash never applies an entry twice
 * or skips one; a batch over the commit limits goes through the redo log
 * (`redo.ts`). Records live in a generation; a snapshot install writes the
 * next generation and switches to it in one commit.
 * @module
 */
import { compareKeys } from "../kv/key_order.ts";
import type { KvRecord } from "../kv/types.ts";
import type { DataState, DataWrite, KvDataEngine, Membership } from "./stores.ts";
import { deleteOp, fitsOneCommit, fromChunks, type Mutation } from "./chunks.ts";
import { Committer, type EngineHooks } from "./committer.ts";
import {
  checkHead,
  checkMeta,
  chunkDeletes,
  type DataMeta,
  EMPTY_META,
  metaOp,
  type RecordHead,
  recordOps,
  toRecord,
} from "./data_format.ts";
import { dataKeys, keyFromPart, keyPart } from "./kv_keys.ts";
import { StorageCorruptError } from "./raft_format.ts";
import { commitWithRedo, recoverRedo } from "./redo.ts";

const LIST = { batchSize: 1000 } as const;
/** Install flushes its buffer of mutations at this length. */
const INSTALL_FLUSH = 4000;

/** A value stored in chunks: its modIndex and chunk count. */
interface ChunkInfo {
  readonly m: number;
  readonly n: number;
}

/** See the module doc. */
export class DenoKvDataEngine implements KvDataEngine {
  readonly #kv: Deno.Kv;
  readonly #c: Committer;
  #meta: DataMeta | null = null;
  /** Keys whose value is chunked, so overwrites can drop the old chunks. */
  #chunked = new Map<string, ChunkInfo>();

  private constructor(kv: Deno.Kv, hooks: EngineHooks) {
    this.#kv = kv;
    this.#c = new Committer(kv, "storage.data.commit", hooks);
  }

  /** Opens (or creates) the kv engine at `path` (a file, e.g. `data.kv`). */
  static async open(
    path: string,
    hooks: EngineHooks = {},
  ): Promise<DenoKvDataEngine> {
    return new DenoKvDataEngine(await Deno.openKv(path), hooks);
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

  close(): void {
    this.#kv.close();
  }

  async #load(): Promise<DataState> {
    await recoverRedo(this.#kv, this.#c);
    const raw = (await this.#kv.get(dataKeys.meta)).value;
    const meta = raw === null ? EMPTY_META : checkMeta(raw);
    this.#meta = meta;
    const heads = await this.#readHeads(meta.gen);
    const values = await this.#readChunks(meta.gen, heads);
    const records: KvRecord[] = [];
    let packed = false;
    for (const [key, head] of heads) {
      records.push(toRecord(key, head, head.d ?? values.get(key)!));
      packed ||= typeof keyPart(key) !== "string";
    }
    // Deno KV lists string parts in UTF-8 order, our key order; packed
    // parts (bytes) sort before them, so only then is a sort needed.
    if (packed) records.sort((a, b) => compareKeys(a.key, b.key));
    return {
      appliedIndex: meta.applied,
      appliedTerm: meta.term,
      membership: meta.membership,
      records,
    };
  }

  async #write(w: DataWrite): Promise<void> {
    this.#c.checkHealthy();
    const meta = this.#next(w.appliedIndex, w.appliedTerm, w.membership);
    const chunks: Mutation[] = [];
    const main: Mutation[] = [];
    const stale: Mutation[] = [];
    for (const r of w.puts) {
      const ops = recordOps(meta.gen, r);
      chunks.push(...ops.chunks);
      main.push(ops.head);
      this.#dropChunks(stale, r.key, r.modIndex);
      if (ops.n > 0) this.#chunked.set(r.key, { m: r.modIndex, n: ops.n });
    }
    for (const key of w.deletes) {
      main.push(deleteOp(dataKeys.record(meta.gen, key)));
      this.#dropChunks(stale, key, -1);
    }
    main.push(metaOp(meta), ...stale);
    this.#meta = meta;
    const all = chunks.length > 0 ? [...chunks, ...main] : main;
    if (fitsOneCommit(all)) return await this.#c.commit(all);
    // Chunks are invisible until a head points at them: no redo needed.
    await this.#c.commitAll(chunks);
    await commitWithRedo(this.#c, main, meta.applied);
  }

  async #install(
    state: Omit<DataState, "records">,
    records: AsyncIterable<readonly KvRecord[]>,
  ): Promise<void> {
    this.#c.checkHealthy();
    const old = this.#loaded();
    const gen = old.gen + 1;
    await this.#deleteGen(gen); // leftovers of an earlier failed install
    const chunked = new Map<string, ChunkInfo>();
    let buf: Mutation[] = [];
    for await (const batch of records) {
      for (const r of batch) {
        const ops = recordOps(gen, r);
        buf.push(...ops.chunks, ops.head);
        if (ops.n > 0) chunked.set(r.key, { m: r.modIndex, n: ops.n });
      }
      if (buf.length >= INSTALL_FLUSH) {
        await this.#c.commitAll(buf);
        buf = [];
      }
    }
    await this.#c.commitAll(buf);
    const meta: DataMeta = {
      gen,
      applied: state.appliedIndex,
      term: state.appliedTerm,
      membership: state.membership,
    };
    await this.#c.commit([metaOp(meta)]);
    this.#meta = meta;
    this.#chunked = chunked;
    await this.#deleteGen(old.gen);
  }

  #loaded(): DataMeta {
    if (!this.#meta) throw new Error("DenoKvDataEngine: call load() first");
    return this.#meta;
  }

  #next(applied: number, term: number, m: Membership | null): DataMeta {
    const cur = this.#loaded();
    return { gen: cur.gen, applied, term, membership: m ?? cur.membership };
  }

  /** Plans deleting the chunks of `key` unless they belong to `keepMod`. */
  #dropChunks(ops: Mutation[], key: string, keepMod: number): void {
    const info = this.#chunked.get(key);
    if (!info || info.m === keepMod) return;
    ops.push(...chunkDeletes(this.#loaded().gen, key, info.m, info.n));
    this.#chunked.delete(key);
  }

  /** Heads of generation `gen`; deletes other generations' heads. */
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
    this.#chunked.clear();
    for (const [key, head] of heads) {
      if (head.n === undefined) continue;
      const chunks = parts.get(key) ?? [];
      if (chunks.length !== head.n) {
        throw new StorageCorruptError(`Record "${key}" misses chunks`);
      }
      values.set(key, fromChunks(chunks));
      this.#chunked.set(key, { m: head.m, n: head.n });
    }
    return values;
  }

  /** Deletes every head and chunk of generation `gen`. */
  async #deleteGen(gen: number): Promise<void> {
    for (const prefix of [dataKeys.recordPrefix, dataKeys.chunkPrefix]) {
      let ops: Mutation[] = [];
      const list = this.#kv.list({ prefix: [...prefix, gen] }, LIST);
      for await (const { key } of list) {
        ops.push(deleteOp(key));
        if (ops.length >= INSTALL_FLUSH) {
          await this.#c.commitAll(ops);
          ops = [];
        }
      }
      await this.#c.commitAll(ops);
    }
  }
}
