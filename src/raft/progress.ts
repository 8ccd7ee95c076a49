/**
 * The leader's view of one follower (etcd `tracker/progress.go`). Every
 * state transition lives here:
 *
 * ```
 *            +------- reject / unreachable -------+
 *            v                                    |
 *   probe --(ack)--> replicate ------------------+
 *     |  ^
 *     |  +--(snapshot acked / failed / timed out)--+
 *     +--(next below firstIndex)--> snapshot ------+
 * ```
 * @module
 */
import { Inflights } from "./inflights.ts";

/**
 * - `probe`: the leader does not know the follower's last index; at most one
 *   MsgApp per heartbeat interval until an answer comes back.
 * - `replicate`: entries stream optimistically, bounded by {@link Inflights}.
 * - `snapshot`: a MsgSnap was sent; MsgApp is paused until it is acked.
 */
export type ProgressState = "probe" | "replicate" | "snapshot";

/** Invariant: `match < next`. */
export class Progress {
  /** Highest index known to be replicated on the follower (§5.3 matchIndex). */
  match = 0;
  /** Index of the next entry to send (§5.3 nextIndex). */
  next: number;
  state: ProgressState = "probe";
  /** Index of the snapshot sent in state `snapshot`, else 0. */
  pendingSnapshot = 0;
  /** Ticks spent in state `snapshot` (a lost MsgSnap is retried). */
  snapshotTicks = 0;
  /** Highest commit index sent in a MsgApp (what the follower may know). */
  sentCommit = 0;
  /**
   * Heard from the follower within the last election timeout (check-quorum,
   * thesis §6.2). A new leader or member starts active: it gets one election
   * timeout to be heard from.
   */
  recentActive = true;
  /** Leader ticks since the follower was last heard from. */
  idleTicks = 0;
  /** Probe: a probe is in flight. Replicate: the window is full. */
  msgAppFlowPaused = false;
  isLearner: boolean;
  readonly inflights: Inflights;

  constructor(next: number, maxInflight: number, isLearner: boolean) {
    this.next = next;
    this.isLearner = isLearner;
    this.inflights = new Inflights(maxInflight);
  }

  #resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.snapshotTicks = 0;
    this.state = state;
    this.inflights.reset();
  }

  /**
   * Back to probing from `match + 1` (or after a snapshot that was sent,
   * which the follower will most likely have installed).
   */
  becomeProbe(): void {
    const snap = this.state === "snapshot" ? this.pendingSnapshot : 0;
    this.#resetState("probe");
    this.next = Math.max(this.match + 1, snap + 1);
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
  }

  /**
   * The follower's log ends at `last`, below what it acknowledged: it lost
   * its log (a wiped data dir) or this is a stale reject. Lowering match is
   * safe (the commit index never moves back); probe again from `last + 1`.
   */
  regress(last: number): void {
    this.match = Math.max(0, last);
    this.#resetState("probe");
    this.next = this.match + 1;
    this.sentCommit = Math.min(this.sentCommit, this.match);
  }

  /** The follower's log matches up to `match`: stream from `match + 1`. */
  becomeReplicate(): void {
    this.#resetState("replicate");
    this.next = this.match + 1;
  }

  /** A snapshot at `index` was sent: pause appends until it is acked. */
  becomeSnapshot(index: number): void {
    this.#resetState("snapshot");
    this.pendingSnapshot = index;
    this.next = index + 1;
  }

  /**
   * Records a MsgApp of `entries` entries ending at `lastIndex` just sent.
   * Replicate: advance `next` optimistically and fill the window. Probe:
   * every MsgApp is a probe; pause until an answer arrives.
   */
  sentEntries(entries: number, lastIndex: number, commit: number): void {
    this.sentCommit = commit;
    if (this.state === "replicate") {
      if (entries > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
      this.msgAppFlowPaused = this.inflights.full();
    } else if (this.state === "probe") {
      this.msgAppFlowPaused = true;
    }
  }

  /**
   * The follower acknowledged up to `n`. Returns true if `match` grew.
   * Stale (reordered, duplicated) acks change nothing.
   */
  maybeUpdate(n: number): boolean {
    const updated = this.match < n;
    if (updated) {
      this.match = n;
      this.msgAppFlowPaused = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * The follower rejected a MsgApp whose previous index was `rejected`,
   * hinting that its log may match up to `matchHint`. Returns false for a
   * stale rejection (nothing changes).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === "replicate") {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * True if sending `commit` may advance the follower's commit index: it is
   * above what was sent, and what was sent does not already reach next - 1.
   */
  canBumpCommit(commit: number): boolean {
    return commit > this.sentCommit && this.sentCommit < this.next - 1;
  }

  /** The follower answered: it is active again. */
  markActive(): void {
    this.recentActive = true;
    this.idleTicks = 0;
  }

  /** One leader tick without an answer; inactive after `timeout` of them. */
  tickIdle(timeout: number): void {
    if (++this.idleTicks >= timeout) this.recentActive = false;
  }

  /** True when no MsgApp may be sent now. */
  isPaused(): boolean {
    return this.state === "snapshot" || this.msgAppFlowPaused;
  }
}
