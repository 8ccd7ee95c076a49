/**
 * The raft engine on Deno KV (`raft.kv`): log, hard state, compaction
 * point. A normal Ready is ONE atomic commit (Deno KV fsyncs each commit,
 * so this is the write path's cost). A write over the commit limits is
 * split so that every prefix of its commits leaves a valid state: the old
 * suffix is deleted from the top down, new entries go in ascending index
 * order (chunks before their head), the hard state comes last. A crash
 * between commits therefore leaves a prefix of the old log or of the new
 * one, never a mix.
 * @module
 */
import type { Entry, HardState, SnapshotMeta } from "../raft/types.ts";
import { EMPTY_HARD_STATE } from "../raft/types.ts";
import type { RaftEngine, RaftState, RaftWrite } from "./stores.ts";
import { deleteOp, fromChunks, type Mutation, setOp } from "./chunks.ts";
import { Committer, type EngineHooks } from "./committer.ts";
import { raftKeys } from "./kv_keys.ts";
import {
  checkEntryHead,
  checkHardState,
  checkSnapshotMeta,
  encodeEntry,
  type EntryHead,
  plainHardState,
  plainSnapshotMeta,
  StorageCorruptError,
  toEntry,
} from "./raft_format.ts";

const LIST = { batchSize: 1000 } as const;

/** A big entry's chunks: its term and how many. */
interface ChunkInfo {
  readonly term: number;
  readonly n: number;
}

/** See the module doc. */
export class DenoRaftEngine implements RaftEngine {
  readonly #kv: Deno.Kv;
  readonly #c: Committer;
  #snap: SnapshotMeta | null = null;
  /** Upper bound of the highest log index that may be stored. */
  #last = 0;
  /** Entries stored in chunks, so truncation can find their chunks. */
  #chunked = new Map<number, ChunkInfo>();

  private constructor(kv: Deno.Kv, hooks: EngineHooks) {
    this.#kv = kv;
    this.#c = new Committer(kv, "storage.raft.commit", hooks);
  }

  /** Opens (or creates) the raft engine at `path` (a file, e.g. `raft.kv`). */
  static async open(
    path: string,
    hooks: EngineHooks = {},
  ): Promise<DenoRaftEngine> {
    return new DenoRaftEngine(await Deno.openKv(path), hooks);
  }

  load(seed: SnapshotMeta): Promise<RaftState> {
    return this.#c.exclusive(() => this.#load(seed));
  }

  write(w: RaftWrite): Promise<void> {
    return this.#c.exclusive(() => this.#write(w));
  }

  compact(meta: SnapshotMeta): Promise<void> {
    return this.#c.exclusive(() => this.#compact(meta));
  }

  close(): void {
    this.#kv.close();
  }

  async #load(seed: SnapshotMeta): Promise<RaftState> {
    const [hs, snap] = await this.#kv.getMany([
      raftKeys.hardState,
      raftKeys.snapshot,
    ]);
    if (snap.value === null) return await this.#initialize(seed);
    const meta = checkSnapshotMeta(snap.value);
    const hardState = checkHardState(hs.value);
    this.#snap = meta;
    const entries = await this.#readLog(meta.index);
    this.#last = entries.at(-1)?.index ?? meta.index;
    await this.#cleanGarbage(meta.index);
    return { hardState, snapshot: meta, entries };
  }

  async #write(w: RaftWrite): Promise<void> {
    this.#c.checkHealthy();
    const ops: Mutation[] = [];
    if (w.snapshot) await this.#planSnapshot(ops, w.snapshot);
    if (w.entries.length > 0) this.#planEntries(ops, w.entries);
    if (w.hardState) ops.push(hardStateOp(w.hardState));
    await this.#c.commitAll(ops);
  }

  async #compact(meta: SnapshotMeta): Promise<void> {
    this.#c.checkHealthy();
    if (meta.index <= this.#loaded().index) return; // already compacted
    const ops: Mutation[] = [snapshotOp(meta)];
    this.#planDropBelow(ops, meta.index);
    this.#snap = meta;
    if (this.#last < meta.index) this.#last = meta.index;
    await this.#c.commitAll(ops);
  }

  async #initialize(seed: SnapshotMeta): Promise<RaftState> {
    await this.#c.commit([snapshotOp(seed), hardStateOp(EMPTY_HARD_STATE)]);
    this.#snap = seed;
    this.#last = seed.index;
    return { hardState: EMPTY_HARD_STATE, snapshot: seed, entries: [] };
  }

  #loaded(): SnapshotMeta {
    if (!this.#snap) throw new Error("DenoRaftEngine: call load() first");
    return this.#snap;
  }

  /** Entries after the compaction point; they must be contiguous. */
  async #readLog(snapIndex: number): Promise<Entry[]> {
    const entries: Entry[] = [];
    const list = this.#kv.list(
      { prefix: raftKeys.logPrefix, start: raftKeys.log(snapIndex + 1) },
      LIST,
    );
    for await (const { key, value } of list) {
      const index = key[3] as number;
      if (index !== snapIndex + 1 + entries.length) {
        throw new StorageCorruptError(`Log has a gap before entry ${index}`);
      }
      const head = checkEntryHead(value, index);
      entries.push(toEntry(index, head, await this.#entryData(index, head)));
    }
    return entries;
  }

  async #entryData(index: number, head: EntryHead): Promise<string> {
    if (head.d !== undefined) return head.d;
    const chunks: Uint8Array[] = [];
    const prefix = raftKeys.chunk(index, head.t, 0).slice(0, -1);
    for await (const { value } of this.#kv.list({ prefix }, LIST)) {
      if (!(value instanceof Uint8Array)) break;
      chunks.push(value);
    }
    if (chunks.length !== head.n) {
      throw new StorageCorruptError(`Log entry ${index} misses chunks`);
    }
    this.#chunked.set(index, { term: head.t, n: head.n });
    return fromChunks(chunks);
  }

  /**
   * Deletes what an interrupted write or compaction left behind: entries
   * at or below the compaction point and chunks no head points at.
   */
  async #cleanGarbage(snapIndex: number): Promise<void> {
    const ops: Mutation[] = [];
    const below = this.#kv.list(
      { prefix: raftKeys.logPrefix, end: raftKeys.log(snapIndex + 1) },
      LIST,
    );
    for await (const { key } of below) ops.push(deleteOp(key));
    const chunks = this.#kv.list({ prefix: raftKeys.chunkPrefix }, LIST);
    for await (const { key } of chunks) {
      const info = this.#chunked.get(key[3] as number);
      if (!info || info.term !== key[4] || (key[5] as number) >= info.n) {
        ops.push(deleteOp(key));
      }
    }
    await this.#c.commitAll(ops);
  }

  /** §7: keep the log after the snapshot only if it contains its last entry. */
  async #planSnapshot(ops: Mutation[], meta: SnapshotMeta): Promise<void> {
    if (meta.index <= this.#loaded().index) return; // stale: nothing to do
    let keep = false;
    if (meta.index <= this.#last) {
      const head = await this.#kv.get<EntryHead>(raftKeys.log(meta.index));
      keep = head.value?.t === meta.term;
    }
    if (!keep) this.#planTruncate(ops, meta.index + 1);
    ops.push(snapshotOp(meta));
    this.#planDropBelow(ops, meta.index);
    this.#snap = meta;
    if (this.#last < meta.index) this.#last = meta.index;
  }

  #planEntries(ops: Mutation[], entries: readonly Entry[]): void {
    const first = entries[0]!.index;
    const snap = this.#loaded();
    if (first <= snap.index || first > this.#last + 1) {
      throw new RangeError(
        `Cannot append entry ${first}: log is (${snap.index}, ${this.#last}]`,
      );
    }
    if (first <= this.#last) this.#planTruncate(ops, first);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.index !== first + i) throw new RangeError("Entries not contiguous");
      const { head, size, chunks } = encodeEntry(e);
      chunks.forEach((c, j) => ops.push(setOp(raftKeys.chunk(e.index, e.term, j), c, c.length)));
      if (chunks.length > 0) {
        this.#chunked.set(e.index, { term: e.term, n: chunks.length });
      }
      ops.push(setOp(raftKeys.log(e.index), head, size));
    }
    this.#last = first + entries.length - 1;
  }

  /** Deletes entries `from`.. from the top down (head before its chunks). */
  #planTruncate(ops: Mutation[], from: number): void {
    for (let i = this.#last; i >= from; i--) {
      ops.push(deleteOp(raftKeys.log(i)));
      this.#planDeleteChunks(ops, i);
    }
    if (this.#last >= from) this.#last = from - 1;
  }

  /** Deletes entries above the compaction point up to `index`. */
  #planDropBelow(ops: Mutation[], index: number): void {
    const top = Math.min(index, this.#last);
    for (let i = this.#loaded().index + 1; i <= top; i++) {
      ops.push(deleteOp(raftKeys.log(i)));
      this.#planDeleteChunks(ops, i);
    }
  }

  #planDeleteChunks(ops: Mutation[], index: number): void {
    const info = this.#chunked.get(index);
    if (!info) return;
    for (let j = 0; j < info.n; j++) {
      ops.push(deleteOp(raftKeys.chunk(index, info.term, j)));
    }
    this.#chunked.delete(index);
  }
}

function hardStateOp(hs: HardState): Mutation {
  return setOp(raftKeys.hardState, plainHardState(hs), 64 + hs.vote.length);
}

function snapshotOp(meta: SnapshotMeta): Mutation {
  const size = 64 + JSON.stringify(meta.confState).length * 2;
  return setOp(raftKeys.snapshot, plainSnapshotMeta(meta), size);
}
