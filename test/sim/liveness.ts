/**
 * Liveness after the faults heal: every member restarted and reachable, a
 * leader within a bounded number of ticks, the whole cluster caught up, and
 * every proposal either committed or superseded.
 * @module
 */
import type { NodeId, Status } from "../../src/raft/mod.ts";
import type { Sim } from "./sim.ts";
import { check, SafetyViolation } from "./violation.ts";

/** Heals the network and restarts every node not decommissioned. */
export function healAll(sim: Sim): void {
  sim.run({ kind: "heal" });
  for (const n of sim.cluster.nodes.values()) {
    if (n.raw === null && !n.stopped) sim.run({ kind: "restart", node: n.id });
  }
}

/** Processes every Ready and delivers every message until nothing moves. */
export function quiesce(sim: Sim, maxRounds = 20_000): void {
  const c = sim.cluster;
  for (let round = 0; round < maxRounds; round++) {
    let busy = false;
    for (const n of c.up()) {
      if (n.inflight !== null || n.raw?.hasReady()) {
        sim.run({ kind: "ready", node: n.id, both: true });
        busy = true;
      }
    }
    if (c.net.size > 0) {
      sim.run({ kind: "deliver", count: c.net.size });
      busy = true;
    }
    if (!busy) return;
  }
  throw new SafetyViolation(`Liveness: still busy after ${maxRounds} rounds`);
}

/**
 * The leader of the highest term among running nodes. Not the first one
 * found: a node removed while it led a partition may go on believing it
 * leads an old term (without check-quorum nothing tells it otherwise, and
 * etcd keeps it that way so that it does not campaign and disrupt).
 */
function newestLeader(statuses: readonly (Status | undefined)[]): Status | undefined {
  let best: Status | undefined;
  for (const st of statuses) {
    if (st?.role === "leader" && (best === undefined || st.term > best.term)) best = st;
  }
  return best;
}

/** The leader, when every running member follows it and is caught up. */
export function settledLeader(sim: Sim): Status | null {
  const up = sim.cluster.up().map((n) => n.raw?.status() as Status);
  const lead = newestLeader(up);
  if (lead === undefined || lead.commit !== lead.lastIndex) return null;
  const members = new Set([...lead.confState.voters, ...lead.confState.learners]);
  if (!lead.confState.voters.includes(lead.id)) return null;
  for (const st of up) {
    if (!members.has(st.id)) continue;
    if (st.term !== lead.term || st.lead !== lead.id) return null;
    if (st.applied !== lead.commit) return null;
  }
  return lead;
}

/** Decommissions running nodes the leader's configuration no longer has. */
function stopRemoved(sim: Sim): void {
  const c = sim.cluster;
  const lead = newestLeader(c.up().map((n) => n.raw?.status()));
  if (lead === undefined) return;
  const members = new Set<NodeId>([...lead.confState.voters, ...lead.confState.learners]);
  for (const n of c.up()) {
    if (!members.has(n.id) && n.id !== lead.id) c.stop(n.id);
  }
}

/**
 * Ticks until a leader has settled the cluster. Returns the ticks it took;
 * throws when it takes more than `maxTicks`.
 */
export function stabilize(sim: Sim, maxTicks: number): number {
  for (let t = 0; t <= maxTicks; t++) {
    quiesce(sim);
    stopRemoved(sim);
    if (settledLeader(sim) !== null) return t;
    sim.run({ kind: "tick", node: null });
  }
  throw new SafetyViolation(`Liveness: no settled leader ${maxTicks} ticks after healing`);
}

/**
 * Every accepted proposal was committed at its (index, term), or superseded:
 * another entry was committed at its index, or its term ended before the
 * index was ever filled (the engine rejects such waiters on term change).
 */
export function checkProposals(sim: Sim, lead: Status): number {
  let committed = 0;
  for (const p of sim.proposals) {
    const e = sim.inv.log.appliedAt(p.index);
    if (e !== undefined && e.term === p.term) {
      check(
        e.data === p.data,
        () => `Proposal ${p.data} at ${p.index}@${p.term} committed as "${e.data}"`,
      );
      committed++;
      continue;
    }
    check(
      e !== undefined || p.term < lead.term,
      () =>
        `Liveness: proposal ${p.data} at ${p.index}@${p.term} is neither ` +
        `committed nor superseded (leader ${lead.id} term ${lead.term} commit ${lead.commit})`,
    );
  }
  return committed;
}
