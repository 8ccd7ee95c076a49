/**
 * One simulation: a cluster, its invariant checker, a trace and the client
 * side (proposals and reads). `run(event)` executes one event and then checks
 * every invariant on the nodes it touched.
 * @module
 */
import {
  describeMessage,
  describeReady,
  encodeConfChange,
  type NodeId,
  ProposalDroppedError,
} from "../../src/raft/mod.ts";
import { Cluster, type ClusterOptions, DEFAULT_CLUSTER } from "./cluster.ts";
import { Invariants } from "./invariants.ts";
import { mixSeed, SimRand } from "./rng.ts";
import type { ClusterView, SimEvent } from "./schedule.ts";
import { Trace } from "./trace.ts";

/** A proposal the core accepted: where it should land. */
export interface Proposal {
  readonly data: string;
  readonly index: number;
  readonly term: number;
}

export interface SimOptions extends Partial<Omit<ClusterOptions, "ids">> {
  readonly seed: number;
  /** Initial voters n1..nN. */
  readonly nodes: number;
}

/** Ids conf changes may add, never reused. */
const POOL_SIZE = 8;

export class Sim {
  readonly seed: number;
  readonly cluster: Cluster;
  readonly inv = new Invariants();
  readonly trace = new Trace();
  readonly proposals: Proposal[] = [];
  dropped = 0;
  /** Ids not used yet, for conf changes. */
  fresh: NodeId[];
  #seq = 0;

  constructor(opts: SimOptions) {
    this.seed = opts.seed;
    const ids = range(1, opts.nodes).map((i) => `n${i}`);
    this.fresh = range(opts.nodes + 1, opts.nodes + POOL_SIZE).map((i) => `n${i}`);
    this.cluster = new Cluster({ ...DEFAULT_CLUSTER, ...opts, ids });
    this.cluster.observer = this.inv;
    this.inv.afterEvent(this.cluster.takeDirty());
  }

  /** A seeded stream for the scheduler, independent of the network's. */
  scheduleRand(): SimRand {
    return new SimRand(mixSeed(this.seed, 2));
  }

  /** Runs one event, traces it, and checks invariants. */
  run(ev: SimEvent): void {
    let outcome = "";
    this.trace.add(() => `${describeEvent(ev)}${outcome && ` => ${outcome}`}`);
    outcome = this.#exec(ev);
    this.inv.afterEvent(this.cluster.takeDirty());
  }

  #exec(ev: SimEvent): string {
    const c = this.cluster;
    switch (ev.kind) {
      case "tick":
        for (const n of ev.node === null ? c.up() : [c.node(ev.node)]) c.tick(n.id);
        return "";
      case "deliver":
        return this.#deliver(ev.count);
      case "ready":
        return this.#ready(ev.node, ev.both);
      case "propose":
        return this.#propose(ev.node);
      case "read":
        return this.#read(ev.node);
      case "campaign":
        c.campaign(ev.node);
        return "";
      case "confChange":
      case "transfer":
        return this.#leaderOp(ev);
      default:
        return this.#fault(ev);
    }
  }

  /** Network and node faults. */
  #fault(ev: SimEvent): string {
    const c = this.cluster;
    switch (ev.kind) {
      case "isolate":
        c.net.isolate(ev.node, c.ids());
        break;
      case "cut":
        c.net.cut(ev.from, ev.to);
        break;
      case "split":
        c.net.cutBetween(ev.side, c.ids().filter((id) => !ev.side.includes(id)));
        break;
      case "heal":
        c.net.heal();
        break;
      case "faults":
        c.net.faults = { ...ev.faults };
        break;
      case "crash":
        c.crash(ev.node, ev.torn ?? false);
        return ev.torn ? "torn write" : "";
      case "restart":
        c.restart(ev.node);
        break;
      case "compact":
        return c.compact(ev.node) ? `compacted to ${c.node(ev.node).sm.index}` : "no-op";
      default:
        throw new TypeError(`Unhandled event ${ev.kind}`);
    }
    return "";
  }

  #deliver(count: number): string {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const d = this.cluster.deliver();
      if (d === null) break;
      out.push(`${d.delivered ? "" : "LOST "}${describeMessage(d.msg)}`);
    }
    return out.join(" | ");
  }

  #ready(id: NodeId, both: boolean): string {
    const c = this.cluster;
    if (both) {
      const rd = c.processReady(id);
      return rd === null ? "" : describeReady(rd);
    }
    if (c.node(id).inflight !== null) return c.finishReady(id) ? "persisted" : "";
    const rd = c.startReady(id);
    return rd === null ? "" : `taken ${describeReady(rd)}`;
  }

  #propose(id: NodeId): string {
    const data = `p${this.#seq++}`;
    if (this.cluster.node(id).raw === null) return "down";
    try {
      const { index, term } = this.cluster.propose(id, data);
      this.proposals.push({ data, index, term });
      return `${data} at ${index}@${term}`;
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      this.dropped++;
      return `${data} dropped`;
    }
  }

  #read(id: NodeId): string {
    const ctx = `r${this.#seq++}`;
    if (this.cluster.node(id).raw === null) return "down";
    this.inv.onReadIssued(id, ctx);
    const ok = this.cluster.readIndex(id, ctx);
    return `${ctx} ${ok ? "issued" : "refused"} (needs >= ${this.inv.commitHigh})`;
  }

  #leaderOp(ev: SimEvent & { kind: "confChange" | "transfer" }): string {
    if (this.cluster.node(ev.node).raw === null) return "down";
    try {
      if (ev.kind === "transfer") {
        this.cluster.transferLeader(ev.node, ev.to);
        return "";
      }
      const { index, term } = this.cluster.proposeConfChange(ev.node, ev.cc);
      this.proposals.push({ data: encodeConfChange(ev.cc), index, term });
      this.fresh = this.fresh.filter((id) => id !== ev.cc.nodeId);
      return `at ${index}@${term}`;
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      return "dropped";
    }
  }

  /** What the schedule generator may look at. */
  view(): ClusterView {
    const nodes = [...this.cluster.nodes.values()].filter((n) => !n.stopped);
    let leader: NodeId | null = null;
    let conf = { voters: [] as readonly NodeId[], learners: [] as readonly NodeId[] };
    let best = -1;
    for (const n of nodes) {
      const st = n.raw?.status();
      if (st === undefined) continue;
      if (st.role === "leader" && st.term > best) {
        best = st.term;
        leader = n.id;
        conf = st.confState;
      } else if (best < 0) conf = st.confState;
    }
    return {
      all: nodes.map((n) => n.id),
      up: nodes.filter((n) => n.raw !== null).map((n) => n.id),
      down: nodes.filter((n) => n.raw === null).map((n) => n.id),
      leader,
      voters: conf.voters,
      learners: conf.learners,
      fresh: this.fresh,
      busy: nodes.filter((n) => n.inflight !== null || n.raw?.hasReady())
        .map((n) => n.id),
      queued: this.cluster.net.size,
      partitioned: this.cluster.net.hasCuts,
    };
  }
}

export function describeEvent(ev: SimEvent): string {
  switch (ev.kind) {
    case "tick":
      return `tick ${ev.node ?? "all"}`;
    case "deliver":
      return `deliver`;
    case "ready":
      return `ready${ev.both ? "" : "-step"} ${ev.node}`;
    case "confChange":
      return `${ev.node} propose ${ev.cc.type} ${ev.cc.nodeId}`;
    case "transfer":
      return `${ev.node} transfer to ${ev.to}`;
    case "cut":
      return `cut ${ev.from}->${ev.to}`;
    case "split":
      return `split [${ev.side.join(",")}]`;
    case "faults":
      return `faults ${JSON.stringify(ev.faults)}`;
    case "heal":
      return "heal";
    default:
      return `${ev.kind} ${ev.node}`;
  }
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}
