/**
 * An in-process cluster for the engine tests: N nodes (n1..nN) on memory
 * engines, joined by a MemoryHub, driven by manual ticks on a fake clock.
 * No timers and no real time: `tick()` advances the clock by one tick
 * length, ticks every live node, and drains the microtask queue (memory
 * engines and the hub resolve on microtasks).
 *
 * A crash drops a node's Region without stopping it and freezes its engines
 * (writes after the crash never resolve and change nothing), so the stores
 * hold exactly what was durable; a restart boots a new node on them.
 * @module
 */
import type { KvCommand } from "../../src/kv/types.ts";
import { createNode, type NodeOptions, type NodeParts } from "../../src/engine/node.ts";
import type { Region } from "../../src/engine/region.ts";
import type { RaftKv } from "../../src/engine/raft_kv.ts";
import {
  MemoryDataStore,
  MemoryKvDataEngine,
  MemoryRaftEngine,
  MemoryRaftStore,
} from "../../src/storage/memory_engines.ts";
import { MemoryTransport } from "../../src/transport/memory_transport.ts";
import { createNodeMetrics, type NodeMetrics } from "../../src/telemetry/node_metrics.ts";
import {
  CountingHub,
  FreezableDataEngine,
  FreezableRaftEngine,
  SilencedTransport,
} from "./_doubles.ts";

export interface ClusterOptions {
  readonly size?: number;
  readonly tickMs?: number;
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly requestTimeoutMs?: number;
  readonly leaseMs?: number;
  readonly snapshotEntries?: number;
  /** RegionOptions.logUnitsMax (the default: undefined). */
  readonly logUnitsMax?: number | undefined;
  readonly seed?: number;
  /** Followers forward writes on the peer transport (as `main.ts` runs them). */
  readonly forwardWrites?: boolean;
}

export interface TestNode {
  readonly id: string;
  raftStore: MemoryRaftStore;
  dataStore: MemoryDataStore;
  metrics: NodeMetrics;
  /** Null while crashed. */
  parts: NodeParts | null;
  raftEngine: FreezableRaftEngine | null;
  dataEngine: FreezableDataEngine | null;
  transport: SilencedTransport | null;
}

/** Drains the microtask queue: bounded, so a livelock fails a test, not the run. */
export async function settle(turns = 2000): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}

type PutCommand = Extract<KvCommand, { type: "put" }>;

/** A put of `value` (JSON-encoded). */
export const put = (key: string, value: unknown): PutCommand => ({
  type: "put",
  key,
  value: JSON.stringify(value),
});

export class Cluster {
  readonly hub = new CountingHub();
  readonly nodes = new Map<string, TestNode>();
  /** The fake clock every node reads (ms); far from performance.now() on purpose. */
  now = 1e9;
  readonly opts: Required<ClusterOptions>;

  private constructor(opts: ClusterOptions) {
    this.opts = {
      size: 3,
      tickMs: 100,
      electionTicks: 10,
      heartbeatTicks: 2,
      requestTimeoutMs: 3000,
      leaseMs: 800,
      snapshotEntries: 10_000,
      logUnitsMax: undefined,
      // Fixed for determinism; ENGINE_TEST_SEED explores other election timings.
      seed: Number(Deno.env.get("ENGINE_TEST_SEED") ?? 1),
      forwardWrites: false,
      ...opts,
    };
  }

  static async create(opts: ClusterOptions = {}): Promise<Cluster> {
    const c = new Cluster(opts);
    for (let i = 1; i <= c.opts.size; i++) {
      const id = `n${i}`;
      c.nodes.set(id, {
        id,
        raftStore: new MemoryRaftStore(),
        dataStore: new MemoryDataStore(),
        metrics: createNodeMetrics(),
        parts: null,
        raftEngine: null,
        dataEngine: null,
        transport: null,
      });
    }
    for (const id of c.nodes.keys()) await c.start(id);
    return c;
  }

  static url(id: string): string {
    return `http://${id}.test:8080`;
  }

  node(id: string): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`No node "${id}"`);
    return n;
  }

  parts(id: string): NodeParts {
    const p = this.node(id).parts;
    if (!p) throw new Error(`Node "${id}" is down`);
    return p;
  }

  region(id: string): Region {
    return this.parts(id).region;
  }

  engine(id: string): RaftKv {
    return this.parts(id).engine;
  }

  live(): string[] {
    return [...this.nodes.values()].filter((n) => n.parts).map((n) => n.id);
  }

  /** Boots node `id` from its stores (a new data dir if they are empty). */
  async start(id: string): Promise<void> {
    const n = this.node(id);
    n.raftEngine = new FreezableRaftEngine(new MemoryRaftEngine(n.raftStore));
    n.dataEngine = new FreezableDataEngine(new MemoryKvDataEngine(n.dataStore));
    n.metrics = createNodeMetrics();
    n.parts = await createNode(this.#nodeOptions(id), {
      raft: n.raftEngine,
      data: n.dataEngine,
    }, {
      metrics: n.metrics,
      transport: (src, onFail) => {
        const inner = new MemoryTransport(this.hub, id, src, onFail);
        return n.transport = new SilencedTransport(inner);
      },
    });
    this.hub.receivers.set(id, n.parts.router);
  }

  #nodeOptions(id: string): NodeOptions {
    const o = this.opts;
    return {
      id,
      tickMs: o.tickMs,
      electionTicks: o.electionTicks,
      heartbeatTicks: o.heartbeatTicks,
      requestTimeoutMs: o.requestTimeoutMs,
      leaseMs: o.leaseMs,
      snapshotEntries: o.snapshotEntries,
      ...(o.logUnitsMax === undefined ? {} : { logUnitsMax: o.logUnitsMax }),
      now: () => this.now,
      peers: new Map([...this.nodes.keys()].map((p) => [p, Cluster.url(p)])),
      clusterId: "test-cluster",
      raftSeed: o.seed,
      forwardWrites: o.forwardWrites,
    };
  }

  /** Advances the clock by `n` ticks, ticking every live node each time. */
  async tick(n = 1): Promise<void> {
    for (let i = 0; i < n; i++) {
      this.now += this.opts.tickMs;
      for (const id of this.live()) this.parts(id).router.tick();
      await settle();
    }
  }

  /** Makes `id` campaign now and returns once it leads with a committed entry. */
  async elect(id = "n1"): Promise<string> {
    const r = this.region(id);
    r.node.campaign();
    r.fsm.kick();
    await settle();
    const st = r.status();
    if (st.role !== "leader" || !st.committedInTerm) {
      throw new Error(`"${id}" did not win the election: ${st.role}`);
    }
    return id;
  }

  /** The live leader of the highest term, or null. */
  leader(): string | null {
    let best: string | null = null;
    for (const id of this.live()) {
      const r = this.region(id);
      if (!r.isLeader()) continue;
      if (best === null || r.term > this.region(best).term) best = id;
    }
    return best;
  }

  /** Ticks until a leader other than `not` has committed in its term. */
  async awaitLeader(not: string | null = null, maxTicks = 100): Promise<string> {
    for (let i = 0; i < maxTicks; i++) {
      const l = this.leader();
      if (l && l !== not && this.region(l).status().committedInTerm) return l;
      await this.tick();
    }
    throw new Error(`No leader after ${maxTicks} ticks`);
  }

  /** Settles, then ticks until `p` settles (at most `maxTicks`); returns its outcome. */
  async until<T>(p: Promise<T>, maxTicks = 100): Promise<T> {
    const t = track(p);
    await settle();
    for (let i = 0; i < maxTicks && !t.done; i++) await this.tick();
    if (!t.done) throw new Error(`Still pending after ${maxTicks} ticks`);
    if (t.failed) throw t.error;
    return t.value as T;
  }

  followers(leader: string): string[] {
    return this.live().filter((id) => id !== leader);
  }

  /** Drops node `id` as a power cut would; its stores keep what was durable. */
  crash(id: string): void {
    const n = this.node(id);
    n.raftEngine!.dead = true;
    n.dataEngine!.frozen = true;
    n.transport!.dead = true;
    this.hub.receivers.delete(id);
    n.parts = null;
  }

  /** Crashes `id` if up and boots it again from its stores. */
  async restart(id: string): Promise<void> {
    if (this.node(id).parts) this.crash(id);
    await this.start(id);
  }

  /** Replaces the stores of a crashed node with empty ones (a lost disk). */
  wipe(id: string): void {
    const n = this.node(id);
    if (n.parts) throw new Error(`Crash "${id}" before wiping it`);
    n.raftStore = new MemoryRaftStore();
    n.dataStore = new MemoryDataStore();
  }

  /** Stops kv-engine commits of `id`: its data store lags the raft log. */
  freezeData(id: string): void {
    this.node(id).dataEngine!.frozen = true;
  }

  isolate(id: string): void {
    this.hub.isolate(id);
  }

  heal(): void {
    this.hub.heal();
  }
}

/** How a tracked promise settled so far. */
export interface Tracked<T> {
  done: boolean;
  failed: boolean;
  value?: T;
  error?: unknown;
}

/** Records how a promise settles, without awaiting it. */
export function track<T>(p: Promise<T>): Tracked<T> {
  const t: Tracked<T> = { done: false, failed: false };
  p.then((v) => {
    t.value = v;
    t.done = true;
  }, (e) => {
    t.error = e;
    t.done = t.failed = true;
  });
  return t;
}

/** Counts the ReadIndex rounds carrying reads that `region` issues from now on. */
export function countRounds(region: Region): { count: number } {
  const counter = { count: 0 };
  const reads = region.reads;
  const takeRound = reads.takeRound.bind(reads);
  reads.takeRound = (now: number) => {
    const round = takeRound(now);
    if (round) counter.count++;
    return round;
  };
  return counter;
}
