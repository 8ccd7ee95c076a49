/**
 * In-process transport for engine tests (hashicorp's InmemTransport): a hub
 * delivers message batches between nodes on a later microtask, can cut
 * links, and streams snapshots without HTTP.
 * @module
 */
import { context } from "@opentelemetry/api";
import type { Message } from "../raft/messages.ts";
import { REGION_ID } from "../telemetry/names.ts";
import type { PeerReceiver } from "./peer_routes.ts";
import {
  batchByPeer,
  type ForwardItems,
  type SnapshotSource,
  type Transport,
} from "./transport.ts";

export class MemoryHub {
  readonly receivers = new Map<string, PeerReceiver>();
  /** Links that drop everything: "from->to". */
  readonly cut = new Set<string>();

  /** Cuts every link between `a` and the others, both ways. */
  isolate(a: string): void {
    for (const b of this.receivers.keys()) {
      if (b !== a) this.cut.add(`${a}->${b}`).add(`${b}->${a}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  deliverForwards(from: string, to: string, items: ForwardItems): void {
    if (this.cut.has(`${from}->${to}`)) return;
    queueMicrotask(() => {
      if (this.cut.has(`${from}->${to}`)) return;
      this.receivers.get(to)?.receiveForwards({
        region: REGION_ID,
        from,
        ...structuredClone(items),
      });
    });
  }

  deliver(from: string, to: string, messages: Message[]): void {
    if (this.cut.has(`${from}->${to}`)) return;
    queueMicrotask(() => {
      if (this.cut.has(`${from}->${to}`)) return;
      this.receivers.get(to)?.receiveMessages({ region: REGION_ID, messages }, context.active());
    });
  }
}

export class MemoryTransport implements Transport {
  constructor(
    readonly hub: MemoryHub,
    readonly selfId: string,
    readonly snapshotSource: SnapshotSource,
    readonly onSnapshotFailed: (peer: string) => void,
  ) {}

  send(messages: readonly Message[]): void {
    const byPeer = batchByPeer(messages, (m) => this.#snapshot(m));
    for (const [to, list] of byPeer) this.hub.deliver(this.selfId, to, list);
  }

  forward(to: string, items: ForwardItems): void {
    this.hub.deliverForwards(this.selfId, to, items);
  }

  setPeers(): void {}

  close(): void {}

  #snapshot(m: Extract<Message, { type: "snap" }>): void {
    const to = this.hub.receivers.get(m.to);
    if (!to || this.hub.cut.has(`${this.selfId}->${m.to}`)) return this.onSnapshotFailed(m.to);
    const snap = this.snapshotSource(m);
    queueMicrotask(() =>
      to.receiveSnapshot({
        region: REGION_ID,
        from: m.from,
        to: m.to,
        term: m.term,
        meta: {
          ...snap.meta,
          confState: {
            voters: [...snap.meta.confState.voters],
            learners: [...snap.meta.confState.learners],
          },
        },
        membership: {
          voters: snap.membership.voters.map((x) => ({ ...x })),
          learners: snap.membership.learners.map((x) => ({ ...x })),
        },
      }, [...snap.records])
    );
  }
}
