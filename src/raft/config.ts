/**
 * Configuration of one Raft peer, validated eagerly (raft-rs `config.rs`).
 * @module
 */
import type { NodeId } from "./types.ts";
import type { Rand } from "./rand.ts";

/** Settings of a {@link RawNode}. Time is counted in ticks, never in ms. */
export interface RaftConfig {
  /** This node's id: `[a-z0-9-]{1,32}`. */
  id: NodeId;
  /**
   * Election timeout base (§5.2): a follower campaigns after a randomized
   * timeout in `[electionTick, 2 * electionTick)` without leader contact.
   * Must exceed `heartbeatTick`. @default 10
   */
  electionTick: number;
  /** A leader sends heartbeats every `heartbeatTick` ticks. @default 1 */
  heartbeatTick: number;
  /** Last applied index when (re)starting; 0 for a new node. @default 0 */
  applied: number;
  /**
   * Max entry data per MsgApp, counted in UTF-16 code units of `data`
   * (bytes for ASCII/base64 payloads). At least one entry is always sent.
   * @default 1 MiB
   */
  maxSizePerMsg: number;
  /** Bounded in-flight MsgApp window per follower in replicate state. @default 256 */
  maxInflightMsgs: number;
  /** Pre-vote phase (thesis §9.6) before bumping the term. @default true */
  preVote: boolean;
  /**
   * Check-quorum (thesis §6.2): a leader that does not hear from a quorum
   * within an election timeout steps down, and followers that heard from a
   * leader within `electionTick` ignore vote requests (leader stickiness).
   * @default true
   */
  checkQuorum: boolean;
  /** Randomness for election timeouts. */
  rand: Rand;
}

const ID_PATTERN = /^[a-z0-9-]{1,32}$/;

/** The defaults listed on {@link RaftConfig}. */
export function defaultRaftConfig(id: NodeId, rand: Rand): RaftConfig {
  return {
    id,
    electionTick: 10,
    heartbeatTick: 1,
    applied: 0,
    maxSizePerMsg: 1024 * 1024,
    maxInflightMsgs: 256,
    preVote: true,
    checkQuorum: true,
    rand,
  };
}

function requireInt(name: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min) {
    throw new RangeError(
      `Cannot use config: "${name}" must be an integer >= ${min}, got ${v}`,
    );
  }
}

/** Throws RangeError describing the first invalid field of `c`. */
export function validateConfig(c: RaftConfig): void {
  if (!ID_PATTERN.test(c.id)) {
    throw new RangeError(`Cannot use config: invalid node id "${c.id}"`);
  }
  requireInt("heartbeatTick", c.heartbeatTick, 1);
  requireInt("electionTick", c.electionTick, 2);
  if (c.electionTick <= c.heartbeatTick) {
    throw new RangeError(
      `Cannot use config: "electionTick" (${c.electionTick}) must exceed "heartbeatTick" (${c.heartbeatTick})`,
    );
  }
  requireInt("applied", c.applied, 0);
  requireInt("maxSizePerMsg", c.maxSizePerMsg, 1);
  requireInt("maxInflightMsgs", c.maxInflightMsgs, 1);
  if (typeof c.rand?.intn !== "function") {
    throw new RangeError(`Cannot use config: "rand" must implement intn()`);
  }
}
