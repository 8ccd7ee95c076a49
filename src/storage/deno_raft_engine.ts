/**
 * The raft engine on Deno KV (`raft.kv`): log, hard state, compaction
 * point. A normal Ready is ONE atomic commit (Deno KV fsyncs each commit,
 * so this is the write path's cost). The log is stored in blocks: one row
 * per run of entries a write appended (keyed by its first index), because
 * sqlite's cost is per row: a row per entry, inserted and later deleted by
 * compaction, cost ~7% of put throughput. A write over the commit limits is
 * split so that every prefix of its commits leaves a valid state: the old
 * suffix is deleted from the top down (a block cut in two is rewritten
 * shorter), new blocks go in ascending index order (chunks before their
 * block), the hard state comes last. A crash between commits therefore
 * leaves a prefix of the old log or of the new one, never a mix.
 * @module
 */
import type { Entry, HardState, SnapshotMeta } from "../raft/types.ts";
import { EMPTY_HARD_STATE } from "../raft/types.ts";
import type { RaftEngine, RaftState, RaftWrite } from "./stores.ts";
import { deleteOp, fromChunks, type Mutation, setOp, stringBytes } from "./chunks.ts";
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

/** Estimated serialized bytes of a block's heads (Deno KV values are at most 64 KiB). */
const BLOCK_MAX = 60_000;

/** Where a stored block sits in the log. */
interface BlockSpan {
  readonly first: number;
  last: number;
}

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
  /** The stored blocks in index order; the first may start at or below the snapshot. */
  #blocks: BlockSpan[] = [];

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
    if (w.entries.length > 0) await this.#planEntries(ops, w.entries);
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
    this.#blocks = [];
    let next = snapIndex + 1;
    for await (const { key, value } of this.#kv.list({ prefix: raftKeys.logPrefix }, LIST)) {
      const first = key[3] as number;
      const heads = checkBlock(value, first);
      const last = first + heads.length - 1;
      if (last < next && this.#blocks.length === 0) continue; // compacted away: garbage
      // Only the first block may start below the compaction point.
      if (first > next || (this.#blocks.length > 0 && first !== next)) {
        throw new StorageCorruptError(`Log has a gap or overlap at entry ${first}`);
      }
      this.#blocks.push({ first, last });
      for (let index = next; index <= last; index++) {
        const head = heads[index - first]!;
        entries.push(toEntry(index, head, await this.#entryData(index, head)));
      }
      next = last + 1;
    }
    return entries;
  }

  /** The heads of the stored block that starts at `first`. */
  async #readBlock(first: number): Promise<EntryHead[]> {
    const { value } = await this.#kv.get(raftKeys.log(first));
    if (value === null) throw new StorageCorruptError(`Log block ${first} is missing`);
    return checkBlock(value, first);
  }

  /** The stored block holding `index`, if any. */
  #blockOf(index: number): BlockSpan | undefined {
    let lo = 0, hi = this.#blocks.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const b = this.#blocks[mid]!;
      if (index < b.first) hi = mid - 1;
      else if (index > b.last) lo = mid + 1;
      else return b;
    }
    return undefined;
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
    for await (const { key, value } of below) {
      const first = key[3] as number;
      if (first + checkBlock(value, first).length - 1 <= snapIndex) ops.push(deleteOp(key));
    }
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
    const b = meta.index <= this.#last ? this.#blockOf(meta.index) : undefined;
    const keep = b !== undefined &&
      (await this.#readBlock(b.first))[meta.index - b.first]?.t === meta.term;
    // The old suffix goes before the new point is recorded, the entries at
    // or below it (committed ones among them) only after.
    if (!keep) await this.#planTruncate(ops, meta.index + 1);
    ops.push(snapshotOp(meta));
    this.#planDropBelow(ops, meta.index);
    this.#snap = meta;
    if (this.#last < meta.index) this.#last = meta.index;
  }

  async #planEntries(ops: Mutation[], entries: readonly Entry[]): Promise<void> {
    const first = entries[0]!.index;
    const snap = this.#loaded();
    if (first <= snap.index || first > this.#last + 1) {
      throw new RangeError(
        `Cannot append entry ${first}: log is (${snap.index}, ${this.#last}]`,
      );
    }
    if (first <= this.#last) await this.#planTruncate(ops, first);
    let heads: EntryHead[] = [];
    let bytes = 0;
    const flush = () => {
      const start = this.#last + 1;
      ops.push(setOp(raftKeys.log(start), { b: heads }, bytes));
      this.#blocks.push({ first: start, last: start + heads.length - 1 });
      this.#last = start + heads.length - 1;
      heads = [];
      bytes = 0;
    };
    this.#last = first - 1;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.index !== first + i) throw new RangeError("Entries not contiguous");
      const { head, size, chunks } = encodeEntry(e);
      chunks.forEach((c, j) => ops.push(setOp(raftKeys.chunk(e.index, e.term, j), c, c.length)));
      if (chunks.length > 0) {
        this.#chunked.set(e.index, { term: e.term, n: chunks.length });
      }
      if (heads.length > 0 && bytes + size > BLOCK_MAX) flush();
      heads.push(head);
      bytes += size;
    }
    flush();
  }

  /**
   * Deletes entries `from`.. from the top down: whole blocks (then their
   * chunks); a block cut by `from` is rewritten with what stays.
   */
  async #planTruncate(ops: Mutation[], from: number): Promise<void> {
    while (this.#blocks.length > 0) {
      const b = this.#blocks[this.#blocks.length - 1]!;
      if (b.last < from) break;
      if (b.first >= from) {
        ops.push(deleteOp(raftKeys.log(b.first)));
        this.#blocks.pop();
      } else {
        const kept = (await this.#readBlock(b.first)).slice(0, from - b.first);
        ops.push(setOp(raftKeys.log(b.first), { b: kept }, blockBytes(kept)));
      }
      for (let i = b.last; i >= Math.max(b.first, from); i--) this.#planDeleteChunks(ops, i);
      b.last = Math.min(b.last, from - 1);
    }
    if (this.#last >= from) this.#last = from - 1;
  }

  /** Deletes the blocks wholly at or below `index` and the chunks of those entries. */
  #planDropBelow(ops: Mutation[], index: number): void {
    while (this.#blocks.length > 0 && this.#blocks[0]!.last <= index) {
      ops.push(deleteOp(raftKeys.log(this.#blocks.shift()!.first)));
    }
    for (const i of [...this.#chunked.keys()]) if (i <= index) this.#planDeleteChunks(ops, i);
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

/** The heads of a stored log row: a block `{b: heads}`, or one bare head (older data dirs). */
function checkBlock(v: unknown, first: number): EntryHead[] {
  const b = (v as { b?: unknown } | null)?.b;
  if (!Array.isArray(b)) return [checkEntryHead(v, first)];
  if (b.length === 0) throw new StorageCorruptError(`Log block ${first} is empty`);
  return b.map((h, i) => checkEntryHead(h, first + i));
}

/** Estimated serialized bytes of a block's heads. */
function blockBytes(heads: readonly EntryHead[]): number {
  let n = 32;
  for (const h of heads) n += (h.d === undefined ? 0 : stringBytes(h.d)) + 32;
  return n;
}

function hardStateOp(hs: HardState): Mutation {
  return setOp(raftKeys.hardState, plainHardState(hs), 64 + hs.vote.length);
}

function snapshotOp(meta: SnapshotMeta): Mutation {
  const size = 64 + JSON.stringify(meta.confState).length * 2;
  return setOp(raftKeys.snapshot, plainSnapshotMeta(meta), size);
}
