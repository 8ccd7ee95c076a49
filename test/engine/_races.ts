/**
 * Engine races that end in `fatalExit` (exit 70) when they go wrong, so
 * `races_test.ts` runs each in a process of its own:
 * `deno run --unstable-kv -A test/engine/_races.ts <race>` prints "ok" and
 * exits 0, or dies with the fatal line. A `pause` of `storage.raft.commit`
 * on one node's real raft engine (a slow disk) holds its raft writes.
 * @module
 */
import { createNode, type NodeParts, type TransportFactory } from "../../src/engine/node.ts";
import { DenoRaftEngine } from "../../src/storage/deno_raft_engine.ts";
import { MemoryKvDataEngine, MemoryRaftEngine } from "../../src/storage/memory_engines.ts";
import { MemoryHub, MemoryTransport } from "../../src/transport/memory_transport.ts";
import { createNodeMetrics } from "../../src/telemetry/node_metrics.ts";
import { failpoints } from "../../src/failpoints/registry.ts";
import type { Transport } from "../../src/transport/transport.ts";
import type { SnapshotHeader } from "../../src/transport/snapshot_stream.ts";
import type { RaftEngine } from "../../src/storage/stores.ts";
import { settle } from "./_harness.ts";

const IDS = ["n1", "n2", "n3"];
const PEERS = new Map(IDS.map((id) => [id, `http://${id}.test`]));
const TICK_MS = 50;
let now = 1e9;

function node(id: string, raft: RaftEngine, transport: TransportFactory) {
  return createNode(
    {
      id,
      tickMs: TICK_MS,
      electionTicks: 10,
      heartbeatTicks: 2,
      requestTimeoutMs: 1e9,
      leaseMs: 400,
      snapshotEntries: 300,
      now: () => now,
      peers: PEERS,
      clusterId: "c",
      raftSeed: 1,
    },
    { raft, data: new MemoryKvDataEngine() },
    { metrics: createNodeMetrics(), transport },
  );
}

const slowRaftDisk = () => {
  failpoints.enable();
  failpoints.set("storage.raft.commit", { kind: "pause" });
};

/**
 * The leader's raft disk stalls; the followers commit and it applies (and
 * flushes) entries its own raft engine has not got yet. A compaction must
 * not drop the log past them: the queued write would then be refused.
 */
async function compactionBehindQueuedWrites(dir: string): Promise<void> {
  const hub = new MemoryHub();
  const parts = new Map<string, NodeParts>();
  for (const id of IDS) {
    const raft = id === "n1" ? await DenoRaftEngine.open(`${dir}/raft.kv`) : new MemoryRaftEngine();
    const p = await node(id, raft, (src, fail) => new MemoryTransport(hub, id, src, fail));
    hub.receivers.set(id, p.router);
    parts.set(id, p);
  }
  const tick = async (n = 1) => {
    for (let i = 0; i < n; i++) {
      now += TICK_MS;
      for (const p of parts.values()) p.router.tick();
      await settle();
    }
  };
  const n1 = parts.get("n1")!;
  n1.region.node.campaign();
  n1.region.fsm.kick();
  // The election's writes go to the real engine: real time.
  while (n1.region.status().role !== "leader" || !n1.region.fsm.writes.idle) {
    await new Promise((r) => setTimeout(r, 5));
    await tick();
  }
  slowRaftDisk();
  for (let i = 0; i < 1600; i += 50) {
    const batch = [];
    for (let j = i; j < i + 50; j++) {
      batch.push(n1.engine.asyncWrite({ type: "put", key: `k${j % 5}`, value: String(j) }));
    }
    await Promise.all(batch); // committed by the followers alone
    await tick();
  }
  await tick(20); // compactions are due
  failpoints.clear();
  await n1.region.fsm.writes.drain();
  await tick(20);
  if (n1.region.storage.snapshotIndex === 0) throw new Error("never compacted");
}

/**
 * A follower's raft write is in flight when snapshot A (index 500) is
 * accepted, so the loop waits before installing it; snapshot B (900)
 * arrives meanwhile and the core accepts it too. Installing A must not
 * throw B's staged records away: the next Ready installs B.
 */
async function newerSnapshotDuringInstall(dir: string): Promise<void> {
  const quiet: Transport = {
    send: () => {},
    forward: () => {},
    setPeers: () => {},
    close: () => {},
  };
  const p = await node("n2", await DenoRaftEngine.open(`${dir}/raft.kv`), () => quiet);
  const r = p.region;
  slowRaftDisk();
  // A leader of term 2: the term write is in flight, held.
  const heartbeat = { type: "heartbeat", from: "n1", to: "n2", term: 2, commit: 0, context: "" };
  r.receiveMessages({ region: 1, messages: [heartbeat] } as never, undefined as never);
  await settle();
  const confState = { voters: IDS, learners: [] };
  const membership = { voters: IDS.map((id) => ({ id, url: PEERS.get(id)! })), learners: [] };
  const snapshot = (index: number): [SnapshotHeader, never] => [
    { region: 1, from: "n1", to: "n2", term: 2, meta: { index, term: 2, confState }, membership },
    [{ key: "k", value: String(index), version: 1, createIndex: index, modIndex: index }] as never,
  ];
  r.receiveSnapshot(...snapshot(500));
  await settle();
  r.receiveSnapshot(...snapshot(900));
  await settle();
  failpoints.clear();
  for (let i = 0; i < 200 && r.appliedIndex < 900; i++) await new Promise((r) => setTimeout(r, 5));
  if (r.appliedIndex !== 900) throw new Error(`applied ${r.appliedIndex}, not snapshot B's 900`);
}

const RACES: Record<string, (dir: string) => Promise<void>> = {
  compactionBehindQueuedWrites,
  newerSnapshotDuringInstall,
};

if (import.meta.main) {
  const race = RACES[Deno.args[0] ?? ""];
  if (!race) throw new Error(`race: one of ${Object.keys(RACES).join(", ")}`);
  const dir = await Deno.makeTempDir({ prefix: "raftkv-race-" });
  try {
    await race(dir);
    console.log("ok");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  Deno.exit(0);
}

export const RACE_NAMES = Object.keys(RACES);
