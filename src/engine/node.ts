/**
 * Boots one node from its two engines: loads the raft log and the kv state,
 * builds the core, the ApplyFsm, the Region and the RaftKv facade. Shared
 * by `main.ts` (Deno KV + HTTP) and the engine tests (memory + in-process).
 * @module
 */
import { RawNode } from "../raft/raw_node.ts";
import { MemoryStorage } from "../raft/memory_storage.ts";
import { defaultRaftConfig } from "../raft/config.ts";
import { SeededRand } from "../raft/rand.ts";
import type { SnapshotMeta } from "../raft/types.ts";
import { KvStateMachine } from "../kv/state_machine.ts";
import type { KvDataEngine, Membership, RaftEngine } from "../storage/stores.ts";
import { loadNode } from "../storage/load.ts";
import type { SnapshotSource, Transport } from "../transport/transport.ts";
import type { NodeMetrics } from "../telemetry/node_metrics.ts";
import type { Logger } from "../telemetry/logger.ts";
import { REGION_ID } from "../telemetry/names.ts";
import { ApplyFsm } from "./apply_fsm.ts";
import { PeerStorage } from "./peer_storage.ts";
import { Region, type RegionOptions } from "./region.ts";
import { RaftKv } from "./raft_kv.ts";
import { Router } from "./router.ts";
import { toConfState } from "./membership.ts";
import { WatchHub, type WatchOptions } from "./watch_hub.ts";

export interface NodeOptions extends RegionOptions {
  /** The initial cluster; seeds only a brand-new data dir. */
  readonly peers: ReadonlyMap<string, string>;
  readonly clusterId: string;
  /** Spacing of kv-engine commits (ApplyFsm.flushIntervalMs); 0 = at once. */
  readonly applyFlushMs?: number;
  /** Seeds election-timeout randomness; tests fix it to be deterministic. */
  readonly raftSeed?: number;
  /** Watch history and heartbeat; defaults in WATCH_DEFAULTS. */
  readonly watch?: WatchOptions;
  /** A follower sends client writes to the leader on the peer stream (RaftKv). */
  readonly forwardWrites?: boolean;
}

export interface NodeParts {
  readonly engine: RaftKv;
  readonly router: Router;
  readonly region: Region;
}

/** Needs the transport late: it reads snapshots from the state machine. */
export type TransportFactory = (
  src: SnapshotSource,
  onSnapFail: (peer: string) => void,
) => Transport;

export async function createNode(
  opts: NodeOptions,
  engines: { raft: RaftEngine; data: KvDataEngine },
  deps: { metrics: NodeMetrics; transport: TransportFactory; log?: Logger | undefined },
): Promise<NodeParts> {
  const seedMembers: Membership = {
    voters: [...opts.peers].map(([id, url]) => ({ id, url })),
    learners: [],
  };
  const seed: SnapshotMeta = {
    index: 0,
    term: 0,
    confState: toConfState(seedMembers),
  };
  const loaded = await loadNode({ ...engines, seed });
  const membership = loaded.data.membership ?? seedMembers;
  const mem = new MemoryStorage({
    hardState: loaded.raft.hardState,
    snapshot: { ...loaded.raft.snapshot, confState: toConfState(membership) },
    entries: loaded.raft.entries,
  });
  const sm = new KvStateMachine();
  sm.load(loaded.data.records);
  // History starts at the loaded state: what came before it is not known.
  const watches = new WatchHub(loaded.data.appliedIndex, opts.watch, deps.metrics.watchers);
  sm.onChange = (c) => watches.record(c);
  const node = new RawNode(raftConfig(opts, loaded.data.appliedIndex), mem);
  // The apply hooks close over `region`, which is built after them.
  // deno-lint-ignore prefer-const
  let region: Region | undefined;
  const apply = new ApplyFsm(
    sm,
    engines.data,
    {
      applied: (i, t, res) => {
        watches.applied(i);
        region!.proposals.applied(i, t, res);
      },
      advanced: (i) => region!.reads.applied(i),
      installed: (i) => watches.replaced(i),
      proposed: (i, t) => region!.proposals.proposed(i, t),
    },
    deps.metrics,
    loaded.data.appliedIndex,
    loaded.data.appliedTerm,
    membership,
  );
  apply.flushIntervalMs = opts.applyFlushMs ?? 0;
  const transport = deps.transport(
    (_msg) => ({
      meta: {
        index: apply.appliedIndex,
        term: apply.appliedTerm,
        confState: toConfState(apply.membership),
      },
      membership: apply.membership,
      records: [...sm.entries()],
    }),
    (peer) => node.reportSnapshot(peer, "failure"),
  );
  const storage = new PeerStorage(engines.raft, mem, deps.metrics);
  region = new Region(opts, node, storage, apply, transport, deps.metrics, deps.log);
  const router = new Router();
  router.register(REGION_ID, region);
  return {
    engine: new RaftKv(region, sm, opts.clusterId, watches, opts.forwardWrites ?? false),
    router,
    region,
  };
}

/**
 * Appends in flight per follower. Streams send at once, so a small window is
 * what makes entries that arrive meanwhile travel together in the next
 * append (fewer frames, Readies and Deno KV commits per write). Measured with
 * `deno run -A bench/run.ts --no-etcd --scenarios put` (two runs each): 1
 * gave 4,409-4,549 puts/s at 293-299 µs CPU per put, 2 gave 4,031-4,235 at
 * 323-340, 4 gave 4,093-4,201 at 327-340, 256 cost ~15% more CPU again. A
 * lost append is resent after the next heartbeat answer (§5.3).
 */
const MAX_INFLIGHT_APPENDS = 1;

function raftConfig(opts: NodeOptions, applied: number) {
  const seed = [...opts.id].reduce(
    (h, c) => (h * 31 + c.charCodeAt(0)) >>> 0,
    (opts.raftSeed ?? Date.now()) >>> 0,
  );
  return {
    ...defaultRaftConfig(opts.id, new SeededRand(seed)),
    electionTick: opts.electionTicks,
    heartbeatTick: opts.heartbeatTicks,
    applied,
    maxInflightMsgs: MAX_INFLIGHT_APPENDS,
  };
}

/**
 * A restarted node whose log says it is the only voter campaigns at once
 * instead of after an election timeout (etcd fast-forwards its ticks the
 * same way): ready in milliseconds, not ~1.5 s. Not a brand-new data dir:
 * a joiner started without `--peers` also sees itself alone, and must hear
 * from the cluster's leader first, not lead a cluster of its own.
 */
export function campaignIfAlone(region: Region): void {
  const { voters } = region.members;
  if (voters.length !== 1 || voters[0]!.id !== region.id || region.isLeader()) return;
  if (region.node.status().term === 0) return; // a new data dir
  region.node.campaign();
  region.fsm.kick();
}
