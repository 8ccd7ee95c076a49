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
import type { ConfChange, Message, NodeId, RawNode, Ready, Status } from "../../src/raft/mod.ts";
import { Network } from "./network.ts";
import { mixSeed, SimRand } from "./rng.ts";
import { type ClusterObserver, NO_OBSERVER } from "./observer.ts";
import { bootstrapStorage, type NodeOptions, SimNode } from "./sim_node.ts";

export { SimNode } from "./sim_node.ts";

export interface ClusterOptions extends NodeOptions {
  /** The initial voters. */
  readonly ids: readonly NodeId[];
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
    for (const id of opts.ids) this.join(id);
  }

  /**
   * Starts a node (an initial member, or one a conf change added). Like the
   * production node, it is seeded with the initial cluster and learns the
   * rest from the log or a snapshot.
   */
  join(id: NodeId): SimNode {
    let n = this.nodes.get(id);
    if (n !== undefined) return n;
    n = new SimNode(id, bootstrapStorage(this.opts.ids));
    this.nodes.set(id, n);
    this.restart(id);
    return n;
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

  /**
   * Delivers (or loses) the next queued message; null when none is queued.
   * Like the HTTP transport, the sender learns of a cut link: a lost MsgSnap
   * is reported failed, a lost MsgApp makes the peer unreachable.
   */
  deliver(): { msg: Message; delivered: boolean } | null {
    const d = this.net.next();
    if (d === null) return null;
    const { msg } = d;
    const raw = d.delivered ? this.#raw(msg.to) : null;
    raw?.step(msg);
    if (!d.delivered && msg.type === "snap") {
      this.#raw(msg.from)?.reportSnapshot(msg.to, "failure");
    } else if (!d.delivered && msg.type === "app") {
      this.#raw(msg.from)?.reportUnreachable(msg.to);
    }
    return { msg, delivered: raw != null };
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
    n.persist(rd, this.observer);
    this.#send(n, rd.persistedMessages);
    n.apply(rd, this.observer);
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

  #send(n: SimNode, msgs: readonly Message[]): void {
    if (msgs.length === 0) return;
    const out = this.opts.liveSnapshots
      ? msgs.map((m) => m.type === "snap" ? n.liveSnapshot(m) : m)
      : msgs;
    this.net.send(out);
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

  /**
   * Loses everything not persisted: core, in-flight Ready, messages. `torn`:
   * the in-flight Ready's snapshot and entries made it to disk, its hard
   * state did not.
   */
  crash(id: NodeId, torn = false): void {
    const n = this.node(id);
    if (torn && n.inflight !== null) n.persist(n.inflight, this.observer, true);
    n.crash();
    this.net.dropNode(id);
    this.observer.onCrash(n);
  }

  /** A new RawNode from the durable store; applied = the durable applied. */
  restart(id: NodeId): void {
    const n = this.node(id);
    if (n.raw !== null || n.stopped) return;
    n.boot(this.opts);
    this.#dirty.add(n);
    this.observer.onRestart(n);
  }

  /** Decommissions a node for good (after it left the configuration). */
  stop(id: NodeId): void {
    this.crash(id);
    this.node(id).stopped = true;
  }

  /** Log compaction at `id`'s applied index (see {@link SimNode.compact}). */
  compact(id: NodeId): boolean {
    return this.node(id).compact();
  }
}
