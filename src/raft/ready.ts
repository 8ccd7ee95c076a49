/**
 * The hand-off between the pure core and the node (etcd raft `Ready`).
 * @module
 */
import type { Message } from "./messages.ts";
import type { Entry, HardState, ReadState, Snapshot, SoftState } from "./types.ts";

/**
 * Everything the node must do, in this order:
 * 1. install `snapshot` (if any), then persist `entries` (appending; an entry
 *    at index i replaces i and everything after it) and `hardState` (if any);
 * 2. send `messages` (may go out before step 1 finishes: leader traffic);
 * 3. after step 1 is durable, send `persistedMessages` (votes, append acks);
 * 4. apply `committedEntries` in order, answer `readStates` once applied;
 * 5. call `advance(rd)`.
 * Only one Ready is in flight: call `ready()` again only after `advance()`.
 */
export interface Ready {
  /** Set when leader or role changed since the last Ready. */
  readonly softState: SoftState | null;
  /** Set when term, vote or commit changed; must be persisted. */
  readonly hardState: HardState | null;
  /** Unstable entries to persist. */
  readonly entries: readonly Entry[];
  /** Snapshot to install before `entries` (a follower catching up, §7). */
  readonly snapshot: Snapshot | null;
  /** Committed entries to apply, in index order. Never beyond persisted ones. */
  readonly committedEntries: readonly Entry[];
  /** Messages that may be sent at once (leader: append, heartbeat, snap). */
  readonly messages: readonly Message[];
  /** Messages to send only once `entries`/`hardState` are durable. */
  readonly persistedMessages: readonly Message[];
  /** Linearizable reads that are ready once `index` is applied (§6.4). */
  readonly readStates: readonly ReadState[];
  /** False when only messages/committed entries changed (no fsync needed). */
  readonly mustSync: boolean;
}
