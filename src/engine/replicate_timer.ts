/**
 * Replication latency on the leader (API.md §6 "replicate latencies"): from
 * an append with entries going out to a follower until the follower
 * acknowledges its last entry, i.e. the network both ways plus the
 * follower's durable write. Appends in flight per follower are few (the
 * core's window), so a short queue per follower is all it keeps.
 * @module
 */
import type { Message } from "../raft/messages.ts";
import type { NodeId } from "../raft/types.ts";

/** Sends remembered per follower; older ones go first (a lost ack). */
const MAX_IN_FLIGHT = 64;

interface Sent {
  /** The last index the append carried. */
  readonly index: number;
  readonly at: number;
}

export class ReplicateTimer {
  #inFlight = new Map<NodeId, Sent[]>();

  constructor(
    private readonly observe: (seconds: number) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Appends with entries are going out. */
  sent(messages: readonly Message[]): void {
    let at = -1;
    for (const m of messages) {
      if (m.type !== "app" || m.entries.length === 0) continue;
      if (at < 0) at = this.now();
      let q = this.#inFlight.get(m.to);
      if (!q) this.#inFlight.set(m.to, q = []);
      if (q.length === MAX_IN_FLIGHT) q.shift();
      q.push({ index: m.entries[m.entries.length - 1]!.index, at });
    }
  }

  /** A message arrived: an accepting append answer ends the sends it covers. */
  received(m: Message): void {
    if (m.type !== "appResp") return;
    const q = this.#inFlight.get(m.from);
    if (!q || q.length === 0) return;
    // A reject means the follower's log differs: what was sent is resent.
    if (m.reject) return void this.#inFlight.delete(m.from);
    let done = 0;
    while (done < q.length && q[done]!.index <= m.index) done++;
    if (done === 0) return;
    this.observe((this.now() - q[done - 1]!.at) / 1000);
    q.splice(0, done);
  }

  /** Leadership changed: nothing in flight is ours to time any more. */
  reset(): void {
    this.#inFlight.clear();
  }
}
