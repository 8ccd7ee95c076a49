/**
 * A tiny deterministic harness for core tests (etcd `raft_test.go`'s
 * `network`): RawNodes over MemoryStorage, a message queue, and filters to
 * drop, cut or isolate. The big randomized simulator lives in `test/sim/`.
 */
import {
  defaultRaftConfig,
  type Entry,
  MemoryStorage,
  type Message,
  type MessageType,
  type NodeId,
  type RaftConfig,
  RawNode,
  type ReadState,
  type Ready,
  SeededRand,
} from "../../../src/raft/mod.ts";

/** Options for every node of a {@link Network}. */
export interface NetOptions {
  preVote?: boolean;
  checkQuorum?: boolean;
  electionTick?: number;
  heartbeatTick?: number;
  maxSizePerMsg?: number;
  maxInflightMsgs?: number;
  learners?: NodeId[];
  seed?: number;
}

/** One node of the harness: its core, storage and what it applied. */
export interface TestNode {
  id: NodeId;
  raw: RawNode;
  storage: MemoryStorage;
  applied: Entry[];
  readStates: ReadState[];
  /** Every Ready this node produced, in order. */
  readies: Ready[];
}

/** Builds the config the harness uses for `id`. */
export function testConfig(id: NodeId, opts: NetOptions = {}): RaftConfig {
  return {
    ...defaultRaftConfig(id, new SeededRand(((opts.seed ?? 0) * 7919 + hash(id)) >>> 0)),
    electionTick: opts.electionTick ?? 10,
    heartbeatTick: opts.heartbeatTick ?? 1,
    preVote: opts.preVote ?? false,
    checkQuorum: opts.checkQuorum ?? false,
    maxSizePerMsg: opts.maxSizePerMsg ?? 1024 * 1024,
    maxInflightMsgs: opts.maxInflightMsgs ?? 256,
  };
}

function hash(s: string): number {
  let h = 7;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h;
}

/** A fresh storage whose compaction point holds the membership. */
export function bootstrap(voters: NodeId[], learners: NodeId[] = []): MemoryStorage {
  return new MemoryStorage({
    snapshot: { index: 0, term: 0, confState: { voters, learners } },
  });
}

type Filter = (m: Message) => boolean;

/** A set of nodes exchanging messages through a queue. */
export class Network {
  readonly nodes: Map<NodeId, TestNode> = new Map();
  readonly opts: NetOptions;
  /** Messages sent but not yet delivered, in send order. */
  queue: Message[] = [];
  /** Every message delivered, in order (for assertions). */
  delivered: Message[] = [];
  #filters: Filter[] = [];

  constructor(voters: NodeId[], opts: NetOptions = {}) {
    this.opts = opts;
    const learners = opts.learners ?? [];
    for (const id of [...voters, ...learners]) {
      this.add(id, bootstrap(voters, learners));
    }
  }

  /** Adds (or restarts) a node over `storage`. */
  add(id: NodeId, storage: MemoryStorage, applied = 0): TestNode {
    const cfg = { ...testConfig(id, this.opts), applied };
    const n: TestNode = {
      id,
      raw: new RawNode(cfg, storage),
      storage,
      applied: [],
      readStates: [],
      readies: [],
    };
    this.nodes.set(id, n);
    return n;
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  raw(id: NodeId): RawNode {
    return this.node(id).raw;
  }

  /** Handles one Ready of `id` (persist, queue messages, apply, advance). */
  processReady(id: NodeId): Ready | null {
    const n = this.node(id);
    if (!n.raw.hasReady()) return null;
    const rd = n.raw.ready();
    if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    this.queue.push(...rd.messages, ...rd.persistedMessages);
    n.applied.push(...rd.committedEntries);
    n.readStates.push(...rd.readStates);
    n.readies.push(rd);
    n.raw.advance(rd);
    return rd;
  }

  /** Drops messages for which `f` returns true until recover(). */
  drop(f: Filter): void {
    this.#filters.push(f);
  }

  /** Drops every message between `a` and `b`. */
  cut(a: NodeId, b: NodeId): void {
    this.drop((m) => (m.from === a && m.to === b) || (m.from === b && m.to === a));
  }

  /** Drops every message to or from `id`. */
  isolate(id: NodeId): void {
    this.drop((m) => m.from === id || m.to === id);
  }

  /** Drops every message of type `t`. */
  ignore(t: MessageType): void {
    this.drop((m) => m.type === t);
  }

  recover(): void {
    this.#filters = [];
  }

  /** Delivers every queued message once (new sends stay queued). */
  deliverAll(): number {
    const batch = this.queue;
    this.queue = [];
    for (const m of batch) this.deliver(m);
    return batch.length;
  }

  /** Delivers `m` unless filtered or its target is gone. */
  deliver(m: Message): void {
    if (this.#filters.some((f) => f(m))) return;
    const n = this.nodes.get(m.to);
    if (!n) return;
    this.delivered.push(m);
    n.raw.step(m);
  }

  /** Processes Readies and delivers messages until nothing moves. */
  stabilize(maxRounds = 10_000): void {
    for (let i = 0; i < maxRounds; i++) {
      let moved = 0;
      for (const id of this.nodes.keys()) if (this.processReady(id)) moved++;
      moved += this.deliverAll();
      if (moved === 0) return;
    }
    throw new Error("network did not stabilize");
  }

  /** Ticks `id` `n` times, processing its Readies as it goes. */
  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) this.raw(id).tick();
  }

  /** Ticks every node `n` times, stabilizing after each round. */
  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const node of this.nodes.values()) node.raw.tick();
      this.stabilize();
    }
  }

  /** `id` campaigns and the network stabilizes. */
  elect(id: NodeId): void {
    this.raw(id).campaign();
    this.stabilize();
  }

  /** The unique leader with the highest term, or null. */
  leader(): NodeId | null {
    let best: { id: NodeId; term: number } | null = null;
    for (const n of this.nodes.values()) {
      const st = n.raw.status();
      if (st.role === "leader" && (!best || st.term > best.term)) {
        best = { id: n.id, term: st.term };
      }
    }
    return best?.id ?? null;
  }

  /** Proposes `data` at `id` and stabilizes. */
  propose(id: NodeId, data: string): { index: number; term: number } {
    const r = this.raw(id).propose(data);
    this.stabilize();
    return r;
  }

  /** Data of the normal, non-empty entries `id` applied. */
  appliedData(id: NodeId): string[] {
    return this.node(id).applied
      .filter((e) => e.type === "normal" && e.data !== "")
      .map((e) => e.data);
  }

  /** Restarts `id` from its storage (unstable state is lost). */
  restart(id: NodeId): TestNode {
    const old = this.node(id);
    const applied = old.applied.at(-1)?.index ?? 0;
    const n = this.add(id, old.storage, applied);
    n.applied = old.applied;
    return n;
  }
}
