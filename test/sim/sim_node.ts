/**
 * One simulated server. Its MemoryStorage and state machine are durable (a
 * crash keeps them); its RawNode, in-flight Ready and waiting reads are not.
 * @module
 */
import {
  defaultRaftConfig,
  MemoryStorage,
  type Message,
  type NodeId,
  RawNode,
  type ReadState,
  type Ready,
  SeededRand,
  type Snapshot,
} from "../../src/raft/mod.ts";
import type { ClusterObserver } from "./observer.ts";
import { mixSeed } from "./rng.ts";
import { HashStateMachine } from "./state_machine.ts";

/** How every node of a cluster is configured. */
export interface NodeOptions {
  readonly seed: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /** Send the applied state in MsgSnap, as the production node does. */
  readonly liveSnapshots: boolean;
  readonly maxSizePerMsg: number;
  readonly maxInflightMsgs: number;
}

export class SimNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  readonly sm = new HashStateMachine();
  raw: RawNode | null = null;
  inflight: Ready | null = null;
  incarnation = 0;
  /** Read states waiting for `sm.index >= index`. */
  waitingReads: ReadState[] = [];
  /** Decommissioned: never restarted, receives nothing. */
  stopped = false;

  constructor(id: NodeId, storage: MemoryStorage) {
    this.id = id;
    this.storage = storage;
    this.sm.restore(storage.snapshot());
  }

  /** A new RawNode from the durable state; applied = the durable applied. */
  boot(opts: NodeOptions): RawNode {
    this.incarnation++;
    const rand = new SeededRand(mixSeed(opts.seed, hashId(this.id), this.incarnation));
    const config = {
      ...defaultRaftConfig(this.id, rand),
      applied: this.sm.index,
      preVote: opts.preVote,
      checkQuorum: opts.checkQuorum,
      maxSizePerMsg: opts.maxSizePerMsg,
      maxInflightMsgs: opts.maxInflightMsgs,
    };
    this.raw = new RawNode(config, this.storage);
    return this.raw;
  }

  /** Loses everything not durable. */
  crash(): void {
    this.raw = null;
    this.inflight = null;
    this.waitingReads = [];
  }

  /**
   * Step 1 of the Ready contract: snapshot, entries, hard state. A `torn`
   * write stops before the hard state, as a crash between the split commits
   * of a big batch does (DESIGN.md: entries before the hard state).
   */
  persist(rd: Ready, obs: ClusterObserver, torn = false): void {
    if (rd.snapshot !== null) {
      this.storage.applySnapshot(rd.snapshot);
      this.sm.restore(rd.snapshot);
      obs.onRestore(this, rd.snapshot);
    }
    if (rd.entries.length > 0) this.storage.append(rd.entries);
    if (rd.hardState !== null && !torn) {
      this.storage.setHardState(rd.hardState);
      obs.onPersist(this, rd.hardState);
    }
  }

  /** Step 4: apply committed entries, answer reads whose index is applied. */
  apply(rd: Ready, obs: ClusterObserver): void {
    for (const e of rd.committedEntries) {
      this.sm.apply(e);
      obs.onApply(this, e);
    }
    for (const rs of rd.readStates) obs.onReadState(this, rs);
    const waiting = [...this.waitingReads, ...rd.readStates];
    this.waitingReads = waiting.filter((rs) => {
      if (rs.index > this.sm.index) return true;
      obs.onReadServed(this, rs);
      return false;
    });
  }

  /** The production node ships its applied state instead of storage's. */
  liveSnapshot(m: Message & { type: "snap" }): Message {
    const raw = this.raw;
    if (raw === null || this.sm.index < m.snapshot.meta.index) return m;
    const meta = {
      index: this.sm.index,
      term: this.storage.term(this.sm.index),
      confState: raw.status().confState,
    };
    const snapshot: Snapshot = { meta, data: this.sm.snapshotData() };
    return { ...m, snapshot };
  }

  /**
   * Log compaction (§7): snapshot the state machine at the applied index and
   * drop the log before it. Only between Readies, so the core's membership
   * matches the applied index.
   */
  compact(): boolean {
    const raw = this.raw;
    if (raw === null || this.inflight !== null) return false;
    if (this.sm.index < this.storage.firstIndex()) return false;
    const confState = raw.status().confState;
    this.storage.createSnapshot(this.sm.index, confState, this.sm.snapshotData());
    this.storage.compact(this.sm.index);
    return true;
  }
}

/** A new cluster: an empty log whose compaction point holds the members. */
export function bootstrapStorage(ids: readonly NodeId[]): MemoryStorage {
  const confState = { voters: ids, learners: [] };
  return new MemoryStorage({ snapshot: { index: 0, term: 0, confState } });
}

function hashId(id: NodeId): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) | 0;
  return h;
}
