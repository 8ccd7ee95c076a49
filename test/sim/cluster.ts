/**
 * N RawNodes over a seeded {@link Network}, each with a MemoryStorage as its
 * durable store and a {@link HashStateMachine} as its durable applied state.
 * The Ready contract of `src/raft/ready.ts` is split in two steps so that
 * ticks, steps and crashes can land while a Ready is in flight:
 * `startReady` (take it, send `messages`) and `finishReady` (persist, send
 * `persistedMessages`, apply, answer reads, advance).
 * A crash loses the core (its unstable log), the in-flight Ready and the
 * messages in flight to and from the node; a restart builds a new RawNode
 * from the durable storage with `applied` = the state machine's index.
 * @module
 */
import {
  type ConfChange,
  defaultRaftConfig,
  MemoryStorage,
  type Message,
  type NodeId,
  RawNode,
  type ReadState,
  type Ready,
  SeededRand,
  type Snapshot,
  type Status,
} from "../../src/raft/mod.ts";
import { Network } from "./network.ts";
import { mixSeed, SimRand } from "./rng.ts";
import { HashStateMachine } from "./state_machine.ts";
import { type ClusterObserver, NO_OBSERVER } from "./observer.ts";

/** One simulated server. `storage` and `sm` are durable; the rest is not. */
export interface SimNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  readonly sm: HashStateMachine;
  raw: RawNode | null;
  inflight: Ready | null;
  incarnation: number;
  /** Read states waiting for `sm.index >= index` (volatile). */
  waitingReads: ReadState[];
  /** Decommissioned: never restarted, receives nothing. */
  stopped: boolean;
}

export interface ClusterOptions {
  readonly ids: readonly NodeId[];
  readonly seed: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /** Send the applied state in MsgSnap, as the production node does. */
  readonly liveSnapshots: boolean;
  readonly maxSizePerMsg: number;
  readonly maxInflightMsgs: number;
}

export const DEFAULT_CLUSTER: Omit<ClusterOptions, "ids" | "seed"> = {
  preVote: true,
  checkQuorum: true,
  liveSnapshots: false,
  maxSizePerMsg: 256,
  maxInflightMsgs: 4,
};

export class Cluster {
  readonly nodes = new Map<NodeId, SimNode>();
  readonly net: Network;
  readonly opts: ClusterOptions;
  observer: ClusterObserver = NO_OBSERVER;
  /** Nodes touched since the last `takeDirty()`. */
  #dirty = new Set<SimNode>();

  constructor(opts: ClusterOptions) {
    this.opts = opts;
    this.net = new Network(new SimRand(mixSeed(opts.seed, 1)));
    for (const id of opts.ids) this.#add(id, bootstrapStorage(opts.ids));
  }

  /**
   * Starts a node that joins through a conf change. Like the production node,
   * it is seeded with the initial cluster and learns the rest from the log
   * or a snapshot.
   */
  join(id: NodeId): SimNode {
    return this.nodes.get(id) ?? this.#add(id, bootstrapStorage(this.opts.ids));
  }

  #add(id: NodeId, storage: MemoryStorage): SimNode {
    const sm = new HashStateMachine();
    sm.restore(storage.snapshot());
    const node: SimNode = {
      id,
      storage,
      sm,
      raw: null,
      inflight: null,
      incarnation: 0,
      waitingReads: [],
      stopped: false,
    };
    this.nodes.set(id, node);
    this.restart(id);
    return node;
  }

  node(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new RangeError(`Unknown node "${id}"`);
    return n;
  }

  /** Running nodes, in id order. */
  up(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.raw !== null);
  }

  /** Ids of every node ever started (for partitions). */
  ids(): NodeId[] {
    return [...this.nodes.keys()];
  }

  status(id: NodeId): Status | null {
    return this.nodes.get(id)?.raw?.status() ?? null;
  }

  /** Nodes touched since the last call, for the invariant checker. */
  takeDirty(): SimNode[] {
    const out = [...this.#dirty];
    this.#dirty.clear();
    return out;
  }

  #raw(id: NodeId): RawNode | null {
    const n = this.nodes.get(id);
    if (n?.raw == null) return null;
    this.#dirty.add(n);
    return n.raw;
  }

  tick(id: NodeId): void {
    this.#raw(id)?.tick();
  }

  /** Delivers (or loses) the next queued message; null when none is queued. */
  deliver(): { msg: Message; delivered: boolean } | null {
    const d = this.net.next();
    if (d === null) return null;
    const raw = d.delivered ? this.#raw(d.msg.to) : null;
    raw?.step(d.msg);
    return { msg: d.msg, delivered: raw != null };
  }

  campaign(id: NodeId): void {
    this.#raw(id)?.campaign();
  }

  /** Proposes at `id`; throws what the core throws (ProposalDroppedError). */
  propose(id: NodeId, data: string): { index: number; term: number } {
    return this.#rawOrThrow(id).propose(data);
  }

  proposeConfChange(id: NodeId, cc: ConfChange): { index: number; term: number } {
    return this.#rawOrThrow(id).proposeConfChange(cc);
  }

  readIndex(id: NodeId, context: string): boolean {
    return this.#rawOrThrow(id).readIndex(context);
  }

  transferLeader(id: NodeId, to: NodeId): void {
    this.#rawOrThrow(id).transferLeader(to);
  }

  #rawOrThrow(id: NodeId): RawNode {
    const raw = this.#raw(id);
    if (raw === null) throw new RangeError(`Node "${id}" is down`);
    return raw;
  }

  /** Takes a Ready and sends what may go before persisting. */
  startReady(id: NodeId): Ready | null {
    const n = this.node(id);
    const raw = this.#raw(id);
    if (raw === null || n.inflight !== null || !raw.hasReady()) return null;
    const rd = raw.ready();
    n.inflight = rd;
    this.observer.onReady(n, rd);
    this.#send(n, rd.messages);
    return rd;
  }

  /** Persists, sends, applies and advances the in-flight Ready. */
  finishReady(id: NodeId): Ready | null {
    const n = this.node(id);
    const rd = n.inflight;
    const raw = this.#raw(id);
    if (rd === null || raw === null) return null;
    this.#persist(n, rd);
    this.#send(n, rd.persistedMessages);
    this.#apply(n, rd);
    n.inflight = null;
    raw.advance(rd);
    if (rd.committedEntries.some((e) => e.type === "conf")) {
      this.#membershipApplied(n, raw.status());
    }
    return rd;
  }

  /** Both halves at once; null when there was nothing to do. */
  processReady(id: NodeId): Ready | null {
    this.finishReady(id);
    const rd = this.startReady(id);
    if (rd !== null) this.finishReady(id);
    return rd;
  }

  #persist(n: SimNode, rd: Ready): void {
    if (rd.snapshot !== null) {
      n.storage.applySnapshot(rd.snapshot);
      n.sm.restore(rd.snapshot);
      n.waitingReads = [];
      this.observer.onRestore(n, rd.snapshot);
    }
    if (rd.entries.length > 0) n.storage.append(rd.entries);
    if (rd.hardState !== null) {
      n.storage.setHardState(rd.hardState);
      this.observer.onPersist(n, rd.hardState);
    }
  }

  #apply(n: SimNode, rd: Ready): void {
    for (const e of rd.committedEntries) {
      n.sm.apply(e);
      this.observer.onApply(n, e);
    }
    for (const rs of rd.readStates) this.observer.onReadState(n, rs);
    n.waitingReads.push(...rd.readStates);
    n.waitingReads = n.waitingReads.filter((rs) => {
      if (rs.index > n.sm.index) return true;
      this.observer.onReadServed(n, rs);
      return false;
    });
  }

  #send(n: SimNode, msgs: readonly Message[]): void {
    if (msgs.length === 0) return;
    const out = this.opts.liveSnapshots
      ? msgs.map((m) => m.type === "snap" ? this.#liveSnap(n, m) : m)
      : msgs;
    this.net.send(out);
  }

  /** The production node ships its applied state instead of storage's. */
  #liveSnap(n: SimNode, m: Message & { type: "snap" }): Message {
    const raw = n.raw;
    if (raw === null || n.sm.index < m.snapshot.meta.index) return m;
    const meta = {
      index: n.sm.index,
      term: n.storage.term(n.sm.index),
      confState: raw.status().confState,
    };
    const snapshot: Snapshot = { meta, data: n.sm.snapshotData() };
    return { ...m, snapshot };
  }

  /**
   * The membership as of the applied index is durable with it (the
   * production node keeps it in data.kv); then new members start.
   */
  #membershipApplied(n: SimNode, st: Status): void {
    n.storage.setConfState(st.confState);
    for (const id of [...st.confState.voters, ...st.confState.learners]) {
      if (!this.nodes.has(id)) this.join(id);
    }
  }

  /** Loses everything not persisted: core, in-flight Ready, messages. */
  crash(id: NodeId): void {
    const n = this.node(id);
    n.raw = null;
    n.inflight = null;
    n.waitingReads = [];
    this.net.dropNode(id);
    this.observer.onCrash(n);
  }

  /** A new RawNode from the durable store; applied = the durable applied. */
  restart(id: NodeId): void {
    const n = this.node(id);
    if (n.raw !== null || n.stopped) return;
    n.incarnation++;
    const rand = new SeededRand(
      mixSeed(this.opts.seed, hashId(id), n.incarnation),
    );
    const config = {
      ...defaultRaftConfig(id, rand),
      applied: n.sm.index,
      preVote: this.opts.preVote,
      checkQuorum: this.opts.checkQuorum,
      maxSizePerMsg: this.opts.maxSizePerMsg,
      maxInflightMsgs: this.opts.maxInflightMsgs,
    };
    n.raw = new RawNode(config, n.storage);
    this.#dirty.add(n);
    this.observer.onRestart(n);
  }

  /** Decommissions a node for good (after it left the configuration). */
  stop(id: NodeId): void {
    this.crash(id);
    this.node(id).stopped = true;
  }

  /**
   * Log compaction (§7): snapshot the state machine at the applied index and
   * drop the log before it. Only between Readies, so the core's membership
   * matches the applied index.
   */
  compact(id: NodeId): boolean {
    const n = this.node(id);
    const raw = n.raw;
    const first = n.storage.firstIndex();
    if (raw === null || n.inflight !== null || n.sm.index < first) {
      return false;
    }
    const confState = raw.status().confState;
    n.storage.createSnapshot(n.sm.index, confState, n.sm.snapshotData());
    n.storage.compact(n.sm.index);
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
