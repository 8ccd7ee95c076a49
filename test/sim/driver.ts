/**
 * Helpers for hand-written scenarios: drive a {@link Sim} through events
 * (so every invariant is still checked after each one) and read its state.
 * @module
 */
import type { NodeId, Status } from "../../src/raft/mod.ts";
import { checkProposals, healAll, quiesce, settledLeader, stabilize } from "./liveness.ts";
import { SETTLE_TICKS, SimFailure } from "./run.ts";
import { Sim, type SimOptions } from "./sim.ts";
import { SafetyViolation } from "./violation.ts";

/** The status of a running node; throws if it is down. */
export function statusOf(sim: Sim, id: NodeId): Status {
  const st = sim.cluster.status(id);
  if (st === null) throw new RangeError(`Node "${id}" is down`);
  return st;
}

/** The running leader of the highest term, if any. */
export function leaderOf(sim: Sim): Status | null {
  let best: Status | null = null;
  for (const n of sim.cluster.up()) {
    const st = n.raw?.status();
    if (st?.role === "leader" && (best === null || st.term > best.term)) {
      best = st;
    }
  }
  return best;
}

/** Ticks every running node once per round and lets messages settle. */
export function ticks(sim: Sim, rounds: number): void {
  for (let i = 0; i < rounds; i++) {
    sim.run({ kind: "tick", node: null });
    quiesce(sim);
  }
}

/** Ticks until `done()`; returns the ticks it took, throws past `max`. */
export function tickUntil(sim: Sim, done: () => boolean, max: number): number {
  for (let i = 0; i <= max; i++) {
    if (done()) return i;
    ticks(sim, 1);
  }
  throw new SafetyViolation(`Condition not reached within ${max} ticks`);
}

/** `id` campaigns now; returns its status once messages settle. */
export function campaign(sim: Sim, id: NodeId): Status {
  sim.run({ kind: "campaign", node: id });
  quiesce(sim);
  return statusOf(sim, id);
}

/** `id` campaigns until it leads, at most `tries` times. */
export function elect(sim: Sim, id: NodeId, tries = 3): Status {
  for (let i = 0; i < tries; i++) {
    const st = campaign(sim, id);
    if (st.role === "leader") return st;
  }
  throw new SafetyViolation(`${id} did not win an election in ${tries} campaigns`);
}

/** Proposes `count` entries at `id` and lets them replicate. */
export function propose(sim: Sim, id: NodeId, count = 1): void {
  for (let i = 0; i < count; i++) sim.run({ kind: "propose", node: id });
  quiesce(sim);
}

/**
 * Heals everything the scenario left, waits for a settled leader and checks
 * every proposal was committed or superseded. Returns the leader.
 */
export function settle(sim: Sim): Status {
  healAll(sim);
  stabilize(sim, SETTLE_TICKS);
  const lead = settledLeader(sim) as Status;
  checkProposals(sim, lead);
  return lead;
}

/**
 * Runs a scenario on a fresh simulation; a failure carries the last events.
 */
export function scenario(opts: SimOptions, body: (sim: Sim) => void): void {
  const sim = new Sim(opts);
  try {
    body(sim);
  } catch (e) {
    throw new SimFailure("scenario failed", e, sim.trace.tail(60));
  }
}
