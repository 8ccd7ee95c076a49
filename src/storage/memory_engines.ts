/**
 * In-memory raft and kv engines, held to the same contract as the Deno KV
 * ones (`test/storage/*_contract.ts`). The state lives in a store object
 * that outlives the engine, so a test can "restart" by opening a new
 * engine on the same store; `failWrites` makes writes throw as a failed
 * disk would (nothing of the failed write is kept).
 * @module
 */
import type { KvRecord } from "../kv/types.ts";
import type { Entry, HardState, SnapshotMeta } from "../raft/types.ts";
import { EMPTY_HARD_STATE } from "../raft/types.ts";
import type {
  DataState,
  DataWrite,
  KvDataEngine,
  Membership,
  RaftEngine,
  RaftState,
  RaftWrite,
} from "./stores.ts";

/** What a MemoryRaftEngine persists. */
export class MemoryRaftStore {
  hardState: HardState = EMPTY_HARD_STATE;
  snapshot: SnapshotMeta | null = null;
  /** Entries after `snapshot.index`, contiguous. */
  entries: Entry[] = [];
  /** When true, writes throw and change nothing (a failed disk). */
  failWrites = false;
}

/** The raft engine in memory; see the module doc. */
export class MemoryRaftEngine implements RaftEngine {
  readonly store: MemoryRaftStore;

  constructor(store: MemoryRaftStore = new MemoryRaftStore()) {
    this.store = store;
  }

  load(seed: SnapshotMeta): Promise<RaftState> {
    const s = this.store;
    if (!s.snapshot) {
      s.snapshot = seed;
      s.hardState = EMPTY_HARD_STATE;
      s.entries = [];
    }
    return Promise.resolve({
      hardState: s.hardState,
      snapshot: s.snapshot,
      entries: [...s.entries],
    });
  }

  write(w: RaftWrite): Promise<void> {
    return settle(() => this.#write(w));
  }

  #write(w: RaftWrite): void {
    const s = this.store;
    const snap = loaded(s.snapshot, s.failWrites);
    const entries = [...s.entries];
    let meta = snap;
    if (w.snapshot && w.snapshot.index > snap.index) {
      meta = w.snapshot;
      const at = entries.findIndex((e) => e.index === meta.index);
      // §7: keep the log after the snapshot only if it holds its last entry.
      const keep = at >= 0 && entries[at]!.term === meta.term;
      entries.splice(0, keep ? at + 1 : entries.length);
    }
    if (w.entries.length > 0) {
      const first = w.entries[0]!.index;
      const last = meta.index + entries.length;
      if (first <= meta.index || first > last + 1) {
        throw new RangeError(
          `Cannot append entry ${first}: log is (${meta.index}, ${last}]`,
        );
      }
      entries.splice(first - meta.index - 1, Infinity, ...w.entries);
    }
    s.snapshot = meta;
    s.entries = entries;
    if (w.hardState) s.hardState = w.hardState;
  }

  compact(meta: SnapshotMeta): Promise<void> {
    return settle(() => {
      const s = this.store;
      const snap = loaded(s.snapshot, s.failWrites);
      if (meta.index <= snap.index) return; // already compacted
      s.entries = s.entries.slice(meta.index - snap.index);
      s.snapshot = meta;
    });
  }

  close(): void {}
}

/** What a MemoryKvDataEngine persists. */
export class MemoryDataStore {
  appliedIndex = 0;
  appliedTerm = 0;
  membership: Membership | null = null;
  records = new Map<string, KvRecord>();
  loaded = false;
  /** When true, writes throw and change nothing (a failed disk). */
  failWrites = false;
}

/** The kv engine in memory; see the module doc. */
export class MemoryKvDataEngine implements KvDataEngine {
  readonly store: MemoryDataStore;

  constructor(store: MemoryDataStore = new MemoryDataStore()) {
    this.store = store;
  }

  load(): Promise<DataState> {
    const s = this.store;
    s.loaded = true;
    return Promise.resolve({
      appliedIndex: s.appliedIndex,
      appliedTerm: s.appliedTerm,
      membership: s.membership,
      records: [...s.records.values()],
    });
  }

  write(w: DataWrite): Promise<void> {
    return settle(() => {
      const s = this.store;
      loaded(s.loaded || null, s.failWrites);
      for (const r of w.puts) s.records.set(r.key, r);
      for (const k of w.deletes) s.records.delete(k);
      s.appliedIndex = w.appliedIndex;
      s.appliedTerm = w.appliedTerm;
      if (w.membership) s.membership = w.membership;
    });
  }

  async install(
    state: Omit<DataState, "records">,
    records: AsyncIterable<readonly KvRecord[]>,
  ): Promise<void> {
    const s = this.store;
    loaded(s.loaded || null, s.failWrites);
    const next = new Map<string, KvRecord>();
    for await (const batch of records) {
      for (const r of batch) next.set(r.key, r);
    }
    loaded(s.loaded || null, s.failWrites);
    s.records = next;
    s.appliedIndex = state.appliedIndex;
    s.appliedTerm = state.appliedTerm;
    s.membership = state.membership;
  }

  close(): void {}
}

/** Runs `fn`, turning a throw into a rejection (like an async engine). */
function settle(fn: () => void): Promise<void> {
  try {
    fn();
    return Promise.resolve();
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Checks that load() ran and the disk has not "failed". */
function loaded<T>(v: T | null, fail: boolean): T {
  if (v === null) throw new Error("Memory engine: call load() first");
  if (fail) throw new Error("Memory engine: write failed (failWrites)");
  return v;
}
