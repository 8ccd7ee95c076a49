/**
 * The one error the simulator's checks throw.
 * @module
 */

/** A Raft safety or liveness property was broken. */
export class SafetyViolation extends Error {
  override name = "SafetyViolation";
}

/** Throws a {@link SafetyViolation} with `what()` unless `ok`. */
export function check(ok: boolean, what: () => string): asserts ok {
  if (!ok) throw new SafetyViolation(what());
}

/**
 * A violation matching a known core bug listed in `test/sim/FINDINGS.md`;
 * `id` names the finding. The CI batch tolerates it (and lists the seeds);
 * a single-seed replay fails on it.
 */
export class KnownIssue extends SafetyViolation {
  override name = "KnownIssue";
  constructor(readonly id: string, message: string) {
    super(`${id}: ${message}`);
  }
}
