/**
 * Random schedules: many seeds, each a few thousand events of ticks,
 * proposals, reads, message faults, partitions, crashes, compactions,
 * membership changes and leader transfers, with every invariant checked
 * after every event and liveness checked once the faults heal.
 *
 * Replay one seed: `SEED=n deno test --allow-env test/sim/random_test.ts`
 * (`EVENTS=n` overrides the schedule length, `SEEDS=n` / `SEED_FROM=n` the
 * CI range).
 * @module
 */
import assert from "node:assert/strict";
import { type RunResult, runSchedule } from "./run.ts";

function envInt(name: string): number | undefined {
  const perm = Deno.permissions.querySync({ name: "env", variable: name });
  if (perm.state !== "granted") return undefined;
  const raw = Deno.env.get(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`Cannot use ${name}="${raw}": not a whole number`);
  }
  return n;
}

const EVENTS = envInt("EVENTS") ?? 2500;
const SEED = envInt("SEED");
const SEEDS = envInt("SEEDS") ?? 2000;
const SEED_FROM = envInt("SEED_FROM") ?? 1;
const BATCH = 100;
/**
 * Seeds outside the CI range that once failed: 7373, a candidate that
 * learned its own demotion from a vote reply and still won (fixed in
 * membership.ts switchToConfig); 502816, a learner that took a removed
 * node's higher term and ignored the leader forever (no pre-vote, no
 * check-quorum; fixed in raft.ts #onLowerTerm); 628079, a leader of term 4
 * elected by late votes after term 5 committed an entry (legal: the checker
 * asked more than Leader Completeness, fixed in invariants.ts); 637856, a
 * voter starved by a candidate with a shorter log whose vote requests kept
 * resetting its election timer (no pre-vote; fixed in raft.ts); 1042128, a
 * stale candidate kept a term behind by a disruptive node, as voters did
 * not answer its stale requests (fixed in raft.ts #onLowerTerm); 1042272,
 * a removed node still leading an old term (the harness took it for the
 * leader; fixed in liveness.ts); 2006720, no pre-vote: a stale voter
 * campaigning in step with the only node able to win, which settles after
 * 268 ticks (the window without pre-vote is 400, run.ts settleTicksFor).
 */
const REGRESSION_SEEDS = [7373, 502816, 628079, 637856, 1042128, 1042272, 2006720];

function sum(rs: readonly RunResult[], f: (r: RunResult) => number): number {
  return rs.reduce((a, r) => a + f(r), 0);
}

if (SEED !== undefined) {
  Deno.test(`random schedule ${SEED} (${EVENTS} events) keeps Raft safe and live`, () => {
    runSchedule(SEED, EVENTS);
  });
} else {
  Deno.test(`${SEEDS} random schedules of ${EVENTS} events keep Raft safe and live`, async (t) => {
    const results: RunResult[] = [];
    for (let from = SEED_FROM; from < SEED_FROM + SEEDS; from += BATCH) {
      const to = Math.min(from + BATCH, SEED_FROM + SEEDS) - 1;
      await t.step(`seeds ${from}..${to}`, () => {
        for (let seed = from; seed <= to; seed++) {
          results.push(runSchedule(seed, EVENTS, { tolerateKnownIssues: true }));
        }
      });
    }
    await t.step(`regression seeds ${REGRESSION_SEEDS.join(", ")}`, () => {
      for (const seed of REGRESSION_SEEDS) results.push(runSchedule(seed, EVENTS));
    });
    const known = results.filter((r) => r.knownIssue !== null);
    if (known.length > 0) {
      const seeds = known.map((r) => `${r.seed} (${r.knownIssue})`).join(", ");
      await t.step(`KNOWN ISSUES (test/sim/FINDINGS.md) hit by seeds ${seeds}`, () => {});
    }
    await t.step("the schedules exercised every feature", () => {
      assert.ok(sum(results, (r) => r.committed) > SEEDS, "commits");
      assert.ok(sum(results, (r) => r.stats.snapshots) > 0, "snapshots installed");
      assert.ok(sum(results, (r) => r.stats.reads) > 0, "reads served");
      assert.ok(sum(results, (r) => r.stats.confChanges) > 0, "conf changes");
      assert.ok(sum(results, (r) => r.dropped) > 0, "proposals dropped");
      assert.ok(sum(results, (r) => r.stats.leaders) > SEEDS, "elections");
    });
  });
}
