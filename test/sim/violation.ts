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
