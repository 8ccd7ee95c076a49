/**
 * Peer RPC over HTTP: one PeerStream (a WebSocket) per peer for messages,
 * and snapshots streamed in their own POST requests (§7).
 * @module
 */
import { context, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import type { BatchTrace } from "../telemetry/entry_traces.ts";
import { failSpan } from "../telemetry/spans.ts";
import { type Logger, LogThrottle } from "../telemetry/logger.ts";
import type { Message, MsgSnap } from "../raft/messages.ts";
import type { NodeMetrics } from "../telemetry/node_metrics.ts";
import { ATTR, REGION_ID, SPAN, TRACER_NAME } from "../telemetry/names.ts";
import { PeerStream } from "./peer_stream.ts";
import { CLUSTER_ID_HEADER, FROM_HEADER, MEMBERS_HEADER, TO_HEADER } from "./peer_routes.ts";
import { memberIds } from "./member_ids.ts";
import { encodeSnapshot } from "./snapshot_stream.ts";
import {
  batchByPeer,
  type ForwardItems,
  type SnapshotData,
  type SnapshotSource,
  type Transport,
} from "./transport.ts";
import { failpoints } from "../failpoints/registry.ts";

const tracer = trace.getTracer(TRACER_NAME);

export interface HttpTransportOptions {
  readonly selfId: string;
  readonly clusterToken: string | undefined;
  /**
   * Presented when a stream opens, so a joining node can adopt it; read at
   * each connect (a joiner's own id changes when it adopts the cluster's).
   */
  readonly clusterId?: (() => string) | undefined;
  readonly metrics: NodeMetrics;
  readonly snapshotSource: SnapshotSource;
  /** Told when a snapshot stream to `peer` failed, so the core retries. */
  readonly onSnapshotFailed: (peer: string) => void;
  readonly log?: Logger | undefined;
  /** A member refused our stream: this node was removed from the cluster. */
  readonly onRemoved?: (() => void) | undefined;
}

export class HttpTransport implements Transport {
  #clients = new Map<string, PeerStream>();
  #urls = new Map<string, string>();
  /** A send to a peer without a URL is logged once a minute per peer. */
  #noUrlLogged = new LogThrottle();
  #sendingSnapshot = new Set<string>();
  #headers: Record<string, string>;

  constructor(readonly opts: HttpTransportOptions) {
    this.#headers = {
      [FROM_HEADER]: opts.selfId,
      ...(opts.clusterToken ? { authorization: `Bearer ${opts.clusterToken}` } : {}),
    };
  }

  /** The membership's ids (self included), presented with the cluster id. */
  #members = "";

  setPeers(peers: ReadonlyMap<string, string>): void {
    this.#members = memberIds(peers.keys());
    // A member that left: its stream closes and its address is forgotten.
    for (const id of this.#urls.keys()) {
      if (peers.has(id)) continue;
      this.#clients.get(id)?.close();
      this.#clients.delete(id);
      this.#urls.delete(id);
    }
    for (const [id, url] of peers) {
      if (id === this.opts.selfId || this.#urls.get(id) === url) continue;
      this.#clients.get(id)?.close();
      this.#clients.delete(id);
      this.#urls.set(id, url);
    }
  }

  send(messages: readonly Message[], trace?: BatchTrace): void {
    const byPeer = batchByPeer(messages, (m) => this.#sendSnapshot(m));
    for (const [peer, list] of byPeer) this.#client(peer)?.enqueue(list, trace);
  }

  /** A frame from `peer` arrived on its stream to us (see PeerStream.heard). */
  heardFrom(peer: string): void {
    this.#clients.get(peer)?.heard();
  }

  forward(to: string, items: ForwardItems): void {
    this.#client(to)?.forward(items);
  }

  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }

  #peerHeaders(): Record<string, string> {
    const id = this.opts.clusterId?.();
    return id
      ? { ...this.#headers, [CLUSTER_ID_HEADER]: id, [MEMBERS_HEADER]: this.#members }
      : this.#headers;
  }

  /**
   * Messages to a peer this node has no URL for are dropped. A node added
   * to a cluster but started without `--peers` ends up here (it hears the
   * leader and cannot answer): say so, once a minute.
   */
  #noUrl(peer: string): undefined {
    if (!this.#noUrlLogged.allow(peer)) return;
    this.opts.log?.warn(
      "no URL for peer; messages to it are dropped (a joining node needs --peers naming the members)",
      { peer },
    );
  }

  #client(peer: string): PeerStream | undefined {
    let c = this.#clients.get(peer);
    if (c) return c;
    const url = this.#urls.get(peer);
    if (!url) return this.#noUrl(peer);
    c = new PeerStream({
      selfId: this.opts.selfId,
      peer,
      url,
      headers: () => ({ ...this.#peerHeaders(), [TO_HEADER]: peer }),
      metrics: this.opts.metrics,
      log: this.opts.log,
      onRemoved: this.opts.onRemoved,
    });
    this.#clients.set(peer, c);
    return c;
  }

  /** One snapshot stream per peer at a time; the state is taken now. */
  #sendSnapshot(m: MsgSnap): void {
    const url = this.#urls.get(m.to);
    if (!url || this.#sendingSnapshot.has(m.to)) return;
    if (failpoints.enabled && failpoints.shouldDrop("transport.send", m.to)) {
      return this.opts.onSnapshotFailed(m.to);
    }
    const snap = this.opts.snapshotSource(m);
    const body = encodeSnapshot({
      region: REGION_ID,
      from: m.from,
      to: m.to,
      term: m.term,
    }, snap);
    this.#sendingSnapshot.add(m.to);
    void this.#stream(url, m.to, snap, body)
      .finally(() => this.#sendingSnapshot.delete(m.to));
  }

  /** POSTs one snapshot in its own trace (`raftkv.snapshot.send`); logs the outcome. */
  async #stream(url: string, peer: string, snap: SnapshotData, body: BodyInit): Promise<void> {
    const span = tracer.startSpan(SPAN.snapshotSend, {
      attributes: {
        [ATTR.peer]: peer,
        [ATTR.index]: snap.meta.index,
        [ATTR.entries]: snap.records.length,
      },
    }, ROOT_CONTEXT);
    const fields = { peer, index: snap.meta.index, records: snap.records.length };
    try {
      const res = await context.with(
        trace.setSpan(ROOT_CONTEXT, span),
        () =>
          fetch(`${url}/raft/v1/snapshot`, {
            method: "POST",
            headers: { ...this.#peerHeaders(), "content-type": "application/x-ndjson" },
            body,
          }),
      );
      await res.body?.cancel();
      if (res.status !== 204) throw new Error(`Snapshot refused: ${res.status}`);
      this.opts.metrics.snapshotsSent.inc();
      this.opts.log?.info("snapshot sent", fields);
    } catch (e) {
      failSpan(span, e);
      this.opts.log?.warn("snapshot send failed", { ...fields, error: e });
      this.opts.onSnapshotFailed(peer);
    } finally {
      span.end();
    }
  }
}
