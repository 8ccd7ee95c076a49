/**
 * Simulator events, and a seeded generator of random schedules. The
 * generator looks at the cluster only to pick sensible targets (a running
 * node, the current leader, a fresh id from the pool), so a seed fixes the
 * whole schedule.
 * @module
 */
import type { ConfChange, NodeId } from "../../src/raft/mod.ts";
import type { NetworkFaults } from "./network.ts";
import type { SimRand } from "./rng.ts";

export type SimEvent =
  /** Tick one node, or every running node when `node` is null. */
  | { readonly kind: "tick"; readonly node: NodeId | null }
  /** Deliver up to `count` queued messages. */
  | { readonly kind: "deliver"; readonly count: number }
  /** Advance the node's Ready handling by one step (`both`: a whole Ready). */
  | { readonly kind: "ready"; readonly node: NodeId; readonly both: boolean }
  | { readonly kind: "propose"; readonly node: NodeId }
  | { readonly kind: "read"; readonly node: NodeId }
  | { readonly kind: "campaign"; readonly node: NodeId }
  | { readonly kind: "isolate"; readonly node: NodeId }
  /** Cut the directed link from -> to only. */
  | { readonly kind: "cut"; readonly from: NodeId; readonly to: NodeId }
  | { readonly kind: "split"; readonly side: readonly NodeId[] }
  | { readonly kind: "heal" }
  | { readonly kind: "faults"; readonly faults: NetworkFaults }
  /** `torn`: the in-flight Ready was half written when the node died. */
  | { readonly kind: "crash"; readonly node: NodeId; readonly torn?: boolean }
  | { readonly kind: "restart"; readonly node: NodeId }
  | { readonly kind: "compact"; readonly node: NodeId }
  /** Proposed at `node` (usually the leader). */
  | { readonly kind: "confChange"; readonly node: NodeId; readonly cc: ConfChange }
  | { readonly kind: "transfer"; readonly node: NodeId; readonly to: NodeId };

/** What the generator may look at. */
export interface ClusterView {
  /** Every started, not decommissioned node. */
  readonly all: readonly NodeId[];
  readonly up: readonly NodeId[];
  readonly down: readonly NodeId[];
  /** A running node that believes it leads, if any. */
  readonly leader: NodeId | null;
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Ids never used yet, for conf changes. */
  readonly fresh: readonly NodeId[];
  /** Running nodes with a Ready to take or one in flight. */
  readonly busy: readonly NodeId[];
  /** Messages in flight. */
  readonly queued: number;
  /** Whether some link is cut. */
  readonly partitioned: boolean;
}

export interface ScheduleOptions {
  /** Allow membership changes. */
  readonly confChanges: boolean;
  /** Allow crashes and restarts. */
  readonly crashes: boolean;
}

/** Relative weights; events that would do nothing weigh zero. */
function weights(v: ClusterView) {
  return {
    deliver: v.queued > 0 ? 30 : 0,
    ready: v.busy.length > 0 ? 30 : 0,
    tick: 12,
    propose: v.leader !== null ? 6 : 0.5,
    read: 3,
    network: 2.5,
    crash: 0.6,
    restart: v.down.length > 0 ? 2 : 0,
    compact: 1,
    confChange: 0.6,
    transfer: 0.4,
    campaign: 0.2,
  };
}

type Kind = keyof ReturnType<typeof weights>;

export class Schedule {
  #rand: SimRand;
  #opts: ScheduleOptions;

  constructor(rand: SimRand, opts: ScheduleOptions) {
    this.#rand = rand;
    this.#opts = opts;
  }

  /** The next event; always valid to run against `v`'s cluster. */
  next(v: ClusterView): SimEvent {
    for (;;) {
      const ev = this.#make(this.#rand.weighted(weights(v)), v);
      if (ev !== null) return ev;
    }
  }

  #make(kind: Kind, v: ClusterView): SimEvent | null {
    const r = this.#rand;
    if (kind === "network") return this.#network(v);
    if (kind === "confChange") return this.#confChange(v);
    if (kind === "crash" || kind === "restart") return this.#crash(kind, v);
    if (kind === "deliver") return { kind, count: 1 + r.int(4) };
    if (kind === "tick") return { kind, node: r.chance(0.8) ? null : r.pick(v.all) };
    if (v.up.length === 0) return null;
    const any = r.pick(v.up);
    const lead = v.leader !== null && r.chance(0.8) ? v.leader : any;
    switch (kind) {
      case "ready":
        return { kind, node: r.pick(v.busy), both: r.chance(0.5) };
      case "propose":
      case "read":
        return { kind, node: lead };
      case "transfer":
        return v.leader === null ? null : { kind, node: v.leader, to: r.pick(v.voters) };
      case "compact":
      case "campaign":
        return { kind, node: any };
    }
  }

  #crash(kind: "crash" | "restart", v: ClusterView): SimEvent | null {
    if (!this.#opts.crashes) return null;
    const from = kind === "crash" ? v.up : v.down;
    if (from.length === 0) return null;
    const node = this.#rand.pick(from);
    return kind === "crash" ? { kind, node, torn: this.#rand.chance(0.5) } : { kind, node };
  }

  /** While partitioned, half the network events heal. */
  #network(v: ClusterView): SimEvent | null {
    const r = this.#rand;
    if (v.partitioned && r.chance(0.5)) return { kind: "heal" };
    switch (r.int(5)) {
      case 0:
        return { kind: "isolate", node: r.pick(v.all) };
      case 1:
        return v.leader === null ? null : { kind: "isolate", node: v.leader };
      case 2:
        return { kind: "cut", from: r.pick(v.all), to: r.pick(v.all) };
      case 3:
        return { kind: "split", side: v.all.filter(() => r.chance(0.4)) };
      default:
        return { kind: "faults", faults: randomFaults(r) };
    }
  }

  /**
   * Add a voter or a learner from the pool, promote a learner, demote a
   * voter, or remove a member (down to one voter, rarely).
   */
  #confChange(v: ClusterView): SimEvent | null {
    const r = this.#rand;
    if (!this.#opts.confChanges || v.leader === null) return null;
    const change = (type: ConfChange["type"], nodeId: NodeId | undefined): SimEvent | null =>
      nodeId === undefined ? null : {
        kind: "confChange",
        node: v.leader as NodeId,
        cc: { type, nodeId, context: "" },
      };
    const fresh = v.voters.length + v.learners.length < 7 ? v.fresh[0] : undefined;
    const minVoters = r.chance(0.2) ? 1 : 2;
    const voter = v.voters.length > minVoters ? r.pick(v.voters) : undefined;
    switch (r.int(5)) {
      case 0:
        return change("addVoter", fresh);
      case 1:
        return change("addLearner", fresh);
      case 2:
        return change("addVoter", v.learners.length > 0 ? r.pick(v.learners) : undefined);
      case 3:
        return change("addLearner", voter);
      default:
        return change(
          "remove",
          r.chance(0.5) && v.learners.length > 0 ? r.pick(v.learners) : voter,
        );
    }
  }
}

function randomFaults(r: SimRand): NetworkFaults {
  return {
    drop: r.pick([0, 0, 0.02, 0.1, 0.3]),
    duplicate: r.pick([0, 0, 0.05, 0.2]),
    reorder: r.pick([0, 0.1, 0.5]),
    delay: r.pick([0, 0, 0.02, 0.1]),
  };
}
