/**
 * One random schedule from a seed: the cluster shape and options come from
 * the seed too, so `SEED=n` alone replays a failure.
 * @module
 */
import { checkProposals, healAll, settledLeader, stabilize } from "./liveness.ts";
import { Schedule } from "./schedule.ts";
import { Sim, type SimOptions } from "./sim.ts";
import type { SimStats } from "./invariants.ts";

/** Ticks allowed for a leader to settle the healed cluster (10 election timeouts). */
export const SETTLE_TICKS = 200;

export interface RunResult {
  readonly stats: SimStats;
  readonly proposals: number;
  readonly committed: number;
  readonly dropped: number;
  readonly settleTicks: number;
}

/** The cluster options a seed stands for. */
export function optionsFor(seed: number): SimOptions {
  return {
    seed,
    nodes: seed % 2 === 0 ? 3 : 5,
    preVote: (seed >> 1) % 4 !== 0,
    checkQuorum: (seed >> 3) % 4 !== 0,
    liveSnapshots: (seed >> 2) % 2 === 1,
    maxSizePerMsg: [1, 16, 256][(seed >> 5) % 3] as number,
    maxInflightMsgs: [1, 4, 64][(seed >> 4) % 3] as number,
  };
}

/** A failed simulation: what broke, and the last events that led there. */
export class SimFailure extends Error {
  override name = "SimFailure";
  constructor(header: string, cause: unknown, trace: string) {
    const what = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`${header}\n${what}\nlast events:\n${trace}`, { cause });
  }
}

/** Runs `events` random events from `seed`, then heals and checks liveness. */
export function runSchedule(
  seed: number,
  events: number,
  overrides: Partial<SimOptions> = {},
): RunResult {
  const sim = new Sim({ ...optionsFor(seed), ...overrides, seed });
  const schedule = new Schedule(sim.scheduleRand(), {
    confChanges: true,
    crashes: true,
  });
  try {
    for (let i = 0; i < events; i++) sim.run(schedule.next(sim.view()));
    healAll(sim);
    const settleTicks = stabilize(sim, SETTLE_TICKS);
    const lead = settledLeader(sim);
    const committed = lead === null ? 0 : checkProposals(sim, lead);
    return {
      stats: sim.inv.stats,
      proposals: sim.proposals.length,
      committed,
      dropped: sim.dropped,
      settleTicks,
    };
  } catch (e) {
    const replay = `SEED=${seed} deno test --allow-env test/sim/random_test.ts`;
    const header = `seed ${seed} failed (replay: ${replay})`;
    throw new SimFailure(header, e, sim.trace.tail(60));
  }
}
