/**
 * The nemesis: a seeded schedule of faults planned up front, then executed
 * against a live cluster. Faults run one at a time, each healed before the
 * next: SIGKILL + restart (one node, the leader, or all), SIGSTOP/SIGCONT of
 * the leader, partitions through the `transport.send` failpoint (a node
 * drops what it sends to the listed peers; cutting a link sets it on both
 * ends), one-way partitions, slow disks (`storage.raft.commit` or
 * `storage.data.commit` delay), crashes at a failpoint (the node kills
 * itself the next time it gets there), and leadership transfers (the old
 * leader must stop serving lease reads).
 * @module
 */

import type { Rng } from "./rng.ts";

export const FAULT_KINDS = [
  "kill",
  "kill-leader",
  "kill-all",
  "pause-leader",
  "partition-minority",
  "partition-leader",
  "partition-link",
  "one-way",
  "slow-disk",
  "crash-point",
  "transfer-leader",
] as const;
export type FaultKind = typeof FAULT_KINDS[number];

export interface PlannedFault {
  /** Start, ms after the workload starts. */
  readonly at: number;
  readonly duration: number;
  readonly kind: FaultKind;
  /** Seeded choice of nodes (index into the cluster, modulo its size). */
  readonly pick: number;
  /** Seeded fault parameter (delay ms for slow disks). */
  readonly param: number;
}

const DURATIONS: Readonly<Record<FaultKind, readonly [number, number]>> = {
  "kill": [500, 3000],
  "kill-leader": [500, 3000],
  "kill-all": [300, 1500],
  "pause-leader": [1000, 3500],
  "partition-minority": [1500, 4000],
  "partition-leader": [1500, 4000],
  "partition-link": [1500, 4000],
  "one-way": [1500, 3500],
  "slow-disk": [1500, 4000],
  "crash-point": [500, 2500],
  "transfer-leader": [300, 1500],
};

/** Where a `crash-point` fault makes a node kill itself (failpoint "crash"). */
export const CRASH_POINTS = [
  "peer.after_persist_before_send",
  "storage.raft.commit",
  "storage.data.commit",
  "apply.before",
] as const;

/**
 * Faults from 1 s in until 1.5 s before the end, with 0.3–1.5 s of calm
 * between them. When `kill-all` is allowed it happens at least once (the
 * durability check needs it).
 */
export function planNemesis(
  rng: Rng,
  timeMs: number,
  kinds: readonly FaultKind[],
): PlannedFault[] {
  const plan: PlannedFault[] = [];
  if (kinds.length === 0) return plan;
  let at = rng.int(800, 1500);
  while (at < timeMs - 1500) {
    const kind = rng.pick(kinds);
    const [lo, hi] = DURATIONS[kind];
    const duration = Math.min(rng.int(lo, hi), timeMs - 1000 - at);
    const param = rng.int(50, 300);
    plan.push({ at, duration, kind, pick: rng.int(0, 1 << 30), param });
    at += duration + rng.int(300, 1500);
  }
  const middle = plan[Math.floor(plan.length / 2)];
  if (middle && kinds.includes("kill-all") && !plan.some(isKillAll)) {
    const duration = Math.min(middle.duration, DURATIONS["kill-all"][1]);
    plan[plan.indexOf(middle)] = { ...middle, kind: "kill-all", duration };
  }
  return plan;
}

function isKillAll(f: PlannedFault): boolean {
  return f.kind === "kill-all";
}

/** One line per planned fault, for reports. */
export function formatPlan(plan: readonly PlannedFault[]): string {
  return plan.map((f) =>
    `  +${(f.at / 1000).toFixed(2)}s ${f.kind} for ${f.duration} ms ` +
    `(pick ${f.pick % 1000}, param ${f.param})`
  ).join("\n");
}

/** Which peers each node must stop sending to. */
export type Blocks = ReadonlyMap<string, readonly string[]>;

/** Cuts every link between `side` and the rest, both ways. */
export function isolate(side: readonly string[], all: readonly string[]): Blocks {
  const rest = all.filter((id) => !side.includes(id));
  const out = new Map<string, string[]>();
  for (const id of side) out.set(id, [...rest]);
  for (const id of rest) out.set(id, [...side]);
  return out;
}

/** Cuts the link between `a` and `b` only, both ways. */
export function cutLink(a: string, b: string): Blocks {
  return new Map([[a, [b]], [b, [a]]]);
}

/** `a` can hear everyone but nobody hears `a`. */
export function mute(a: string, all: readonly string[]): Blocks {
  return new Map([[a, all.filter((id) => id !== a)]]);
}
