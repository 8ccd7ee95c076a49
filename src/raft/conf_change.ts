/**
 * Single-server membership changes (thesis §4.1) carried by `conf` entries:
 * encoding to and from entry data, and applying one to a ConfState.
 * @module
 */
import type { ConfChange, ConfState } from "./types.ts";

const TYPES: ReadonlySet<string> = new Set(["addVoter", "addLearner", "remove"]);
const ID_PATTERN = /^[a-z0-9-]{1,32}$/;

/** True when `cc` names a valid change type and node id. */
export function isValidConfChange(cc: ConfChange): boolean {
  return TYPES.has(cc.type) && ID_PATTERN.test(cc.nodeId) &&
    typeof cc.context === "string";
}

/** Encodes `cc` as the data of a `conf` entry. */
export function encodeConfChange(cc: ConfChange): string {
  return JSON.stringify({
    type: cc.type,
    nodeId: cc.nodeId,
    context: cc.context,
  });
}

/** Decodes the data of a `conf` entry. Throws TypeError if malformed. */
export function decodeConfChange(data: string): ConfChange {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch (e) {
    throw new TypeError("Cannot decode conf change: invalid JSON", {
      cause: e,
    });
  }
  const o = (typeof v === "object" && v !== null ? v : {}) as Record<
    string,
    unknown
  >;
  const cc = { type: o.type, nodeId: o.nodeId, context: o.context };
  if (
    typeof cc.type !== "string" || typeof cc.nodeId !== "string" ||
    typeof cc.context !== "string" || !isValidConfChange(cc as ConfChange)
  ) {
    throw new TypeError(`Cannot decode conf change "${data.slice(0, 64)}"`);
  }
  return cc as ConfChange;
}

/** Decodes like {@link decodeConfChange} but returns null if malformed. */
export function tryDecodeConfChange(data: string): ConfChange | null {
  try {
    return decodeConfChange(data);
  } catch {
    return null;
  }
}

/**
 * The membership after `cc`. Idempotent: re-applying a change (after a
 * restart replays committed entries) yields the same ConfState.
 * - `addVoter`: adds a voter (promotes a learner);
 * - `addLearner`: adds a learner (demotes a voter);
 * - `remove`: removes the node from both sets.
 * Returns `cs` unchanged if the change would leave no voter.
 */
export function applyConfChange(cs: ConfState, cc: ConfChange): ConfState {
  const voters = cs.voters.filter((id) => id !== cc.nodeId);
  const learners = cs.learners.filter((id) => id !== cc.nodeId);
  if (cc.type === "addVoter") voters.push(cc.nodeId);
  if (cc.type === "addLearner") learners.push(cc.nodeId);
  if (voters.length === 0) return cs;
  return { voters: voters.sort(), learners: learners.sort() };
}
