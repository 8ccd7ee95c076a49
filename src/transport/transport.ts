/**
 * The peer transport seen by the engine: fire-and-forget sends that never
 * block the ready loop (responses travel as later messages).
 * @module
 */
import type { BatchTrace } from "../telemetry/entry_traces.ts";
import type { Message, MsgSnap } from "../raft/messages.ts";
import type { SnapshotMeta } from "../raft/types.ts";
import type { KvRecord } from "../kv/types.ts";
import type { Membership } from "../storage/stores.ts";
import type { ForwardReply, ForwardRequest } from "./forward_wire.ts";

/** What one `forward` call carries: requests to a leader, or replies to a follower. */
export interface ForwardItems {
  readonly forwards?: readonly ForwardRequest[];
  readonly replies?: readonly ForwardReply[];
}

export interface Transport {
  /**
   * Queues messages to their peers. `trace` is the requests they serve
   * (parent and links of the replicate spans); none for background traffic.
   */
  send(messages: readonly Message[], trace?: BatchTrace): void;
  /** Sends forwarded writes or their outcomes to `to` (on the peer stream). */
  forward(to: string, items: ForwardItems): void;
  /** The current address book: member id -> URL. */
  setPeers(peers: ReadonlyMap<string, string>): void;
  close(): void;
}

/** A full copy of the state machine, taken synchronously at `meta.index`. */
export interface SnapshotData {
  readonly meta: SnapshotMeta;
  readonly membership: Membership;
  readonly records: readonly KvRecord[];
}

/** Where the transport gets snapshots to stream to followers (§7). */
export type SnapshotSource = (msg: MsgSnap) => SnapshotData;

/**
 * Splits one Ready's messages into one batch per peer, in order; snapshots
 * go to `onSnap` (they are streamed on their own).
 */
export function batchByPeer(
  messages: readonly Message[],
  onSnap: (m: MsgSnap) => void,
): Map<string, Message[]> {
  const byPeer = new Map<string, Message[]>();
  for (const m of messages) {
    if (m.type === "snap") {
      onSnap(m);
      continue;
    }
    let list = byPeer.get(m.to);
    if (!list) byPeer.set(m.to, list = []);
    list.push(m);
  }
  return byPeer;
}
