/**
 * One peer's outgoing stream (etcd's rafthttp stream): a WebSocket to the
 * peer's `/raft/v1/stream` (our own client, `stream_socket.ts`: Nagle off),
 * one frame per Ready and peer, sent at once without waiting for the
 * previous one. Frames are pipelined and ordered by
 * the one TCP connection, so the follower's disk and the network overlap
 * (a POST per batch kept one batch in flight per follower), and a frame
 * costs no HTTP request on either side. Replies travel on the peer's own
 * stream back to us. Sends never block the caller: while the stream is
 * down, messages are dropped (Raft retries) and the connection is retried
 * with backoff.
 * @module
 */
import { type Span, trace } from "@opentelemetry/api";
import type { Message } from "../raft/messages.ts";
import { failpoints } from "../failpoints/registry.ts";
import type { NodeMetrics } from "../telemetry/node_metrics.ts";
import { ATTR, REGION_ID, SPAN, TRACER_NAME } from "../telemetry/names.ts";
import { type BatchTrace, mergeTraces } from "../telemetry/entry_traces.ts";
import { Logger } from "../telemetry/logger.ts";
import { encodeBatch, traceparentOf } from "./wire.ts";
import type { ForwardFrame, ForwardReply, ForwardRequest } from "./forward_wire.ts";
import type { ForwardItems } from "./transport.ts";
import { StreamSocket } from "./stream_socket.ts";

/** What a 401 from a peer (or to one) asks the operator to check. */
export const CLUSTER_TOKEN_HINT = "check --cluster-token on both nodes";

const tracer = trace.getTracer(TRACER_NAME);
const MAX_BACKOFF_MS = 1000;
/** Frames held while the first connection opens (then sent in order). */
const MAX_CONNECTING = 256;
/**
 * Bytes the socket may hold unsent. A peer that stopped reading (SIGSTOP,
 * a silent partition) fills it; past it frames are dropped and the stream
 * is reopened, as a timed-out POST was.
 */
const MAX_BUFFERED = 8 * 1024 * 1024;
/** A connection attempt that has not opened by then is given up (and retried). */
const CONNECT_TIMEOUT_MS = 2000;
/**
 * Sending for this long on a stream while nothing arrives from the peer
 * reopens the stream. A leader hears acks within a tick; followers rarely
 * send to each other, so their streams reopen at most once per election.
 */
const SILENT_MS = 3000;

export interface PeerStreamOptions {
  /** This node (names the sender of forward frames). */
  readonly selfId: string;
  readonly peer: string;
  /** The peer's base URL (http or https); the stream is ws(s) on the same host. */
  readonly url: string;
  /** Sent when the stream opens; a function is read at each connect. */
  readonly headers: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>);
  readonly metrics: NodeMetrics;
  readonly log?: Logger | undefined;
  /** The clock (tests); performance.now by default. */
  readonly now?: (() => number) | undefined;
  /** The peer refused the stream as from a removed node (HTTP 410). */
  readonly onRemoved?: (() => void) | undefined;
}

export class PeerStream {
  #ws: StreamSocket | null = null;
  #open = false;
  /** Messages queued this turn (sent as one frame). */
  #queue: Message[] = [];
  #trace: BatchTrace | undefined;
  /** Forwarded writes and outcomes queued this turn (a second frame). */
  #forwards: ForwardRequest[] = [];
  #replies: ForwardReply[] = [];
  #scheduled = false;
  /** Frames waiting for the connection to open. */
  #connecting: string[] = [];
  /** Serialises frames held by a `transport.send` delay failpoint. */
  #delayed: Promise<void> = Promise.resolve();
  #failures = 0;
  #backoff = 0;
  #backoffUntil = 0;
  #closed = false;
  #connectStarted = 0;
  #openedAt = 0;
  #lastHeard: number;
  readonly #log: Logger;
  readonly #labels: { peer: string };

  readonly #now: () => number;

  constructor(readonly opts: PeerStreamOptions) {
    this.#now = opts.now ?? (() => performance.now());
    this.#lastHeard = this.#now();
    this.#log = opts.log ?? Logger.silent();
    this.#labels = { peer: opts.peer };
  }

  enqueue(messages: readonly Message[], batch: BatchTrace | undefined): void {
    if (this.#closed) return;
    const { peer } = this.opts;
    if (failpoints.enabled) {
      if (failpoints.shouldDrop("transport.send", peer)) return;
      if (failpoints.get("transport.send")) {
        return this.#sendDelayed(() => this.#sendMessages(messages, batch));
      }
    }
    for (const m of messages) this.#queue.push(m);
    if (batch) this.#trace = this.#trace ? mergeTraces(this.#trace, batch) : batch;
    this.#schedule();
  }

  /** Queues forwarded writes or their outcomes; they go out with this turn's frames. */
  forward(items: ForwardItems): void {
    if (this.#closed) return;
    if (failpoints.enabled) {
      if (failpoints.shouldDrop("transport.send", this.opts.peer)) return;
      if (failpoints.get("transport.send")) {
        return this.#sendDelayed(() =>
          this.#sendForwards(items.forwards ?? [], items.replies ?? [])
        );
      }
    }
    for (const f of items.forwards ?? []) this.#forwards.push(f);
    for (const r of items.replies ?? []) this.#replies.push(r);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(this.#flush);
  }

  /**
   * Sends what this turn of the event loop queued as one frame (and one for
   * forwards): the acks of several Readies written in one commit reach the
   * leader as one frame, hence one Ready there, not one each.
   */
  readonly #flush = () => {
    this.#scheduled = false;
    const [messages, t, forwards, replies] = [
      this.#queue,
      this.#trace,
      this.#forwards,
      this.#replies,
    ];
    this.#queue = [];
    this.#trace = undefined;
    this.#forwards = [];
    this.#replies = [];
    if (messages.length > 0) this.#sendMessages(messages, t);
    if (forwards.length > 0 || replies.length > 0) this.#sendForwards(forwards, replies);
  };

  close(): void {
    this.#closed = true;
    this.#queue = [];
    this.#forwards = [];
    this.#replies = [];
    this.#connecting = [];
    this.#ws?.close();
    this.#ws = null;
  }

  /** A slow link: frames wait for the failpoint, still in order. */
  #sendDelayed(send: () => void): void {
    this.#delayed = this.#delayed
      .then(() => failpoints.eval("transport.send"))
      .then(send, () => {});
  }

  #sendMessages(messages: readonly Message[], batch: BatchTrace | undefined): void {
    // A replicate span only for frames that serve traced requests; the
    // follower's spans become its children through the frame's traceparent.
    const span = batch && this.#span(messages.length, batch);
    const tp = span ? traceparentOf(span.spanContext()) : undefined;
    const frame = encodeBatch({ region: REGION_ID, messages, traceparent: tp });
    span?.setAttribute(ATTR.bytes, frame.length);
    span?.end();
    this.opts.metrics.peerMessagesSent.inc(this.#labels, messages.length);
    this.#send(frame);
  }

  #sendForwards(forwards: readonly ForwardRequest[], replies: readonly ForwardReply[]): void {
    const frame = (f: readonly ForwardRequest[], r: readonly ForwardReply[]): ForwardFrame => ({
      region: REGION_ID,
      from: this.opts.selfId,
      ...(f.length > 0 ? { forwards: f } : {}),
      ...(r.length > 0 ? { replies: r } : {}),
    });
    try {
      return this.#send(JSON.stringify(frame(forwards, replies)));
    } catch (e) {
      // Past V8's maximum string length (big answers): item by item, and an
      // item that cannot go alone fails (its outcome unknown to the client).
      // An exception here would end the process: this runs in a microtask.
      this.#log.warn("forward frame too large; sending item by item", { error: String(e) });
    }
    for (const f of forwards) this.#sendOne(() => frame([f], []));
    for (const r of replies) {
      this.#sendOne(() => frame([], [r]), () =>
        frame([], [{
          id: r.id,
          error: { name: "LeadershipChangedError", message: "Answer too large to forward" },
        }]));
    }
  }

  #sendOne(make: () => ForwardFrame, instead?: () => ForwardFrame): void {
    try {
      this.#send(JSON.stringify(make()));
    } catch {
      if (instead) this.#send(JSON.stringify(instead()));
    }
  }

  /** Something arrived from the peer (on its own stream): the path works. */
  heard(): void {
    this.#lastHeard = this.#now();
  }

  #send(frame: string): void {
    if (this.#closed) return;
    const ws = this.#ws;
    if (this.#open && ws) {
      if (ws.bufferedAmount > MAX_BUFFERED) return this.#stalled(ws);
      if (!this.#silent()) return ws.send(frame);
      // A partition that dropped packets without a reset leaves TCP backing
      // off for minutes after it heals; a new connection works at once.
      this.#log.debug("peer silent; reopening the stream", { peer: this.opts.peer });
      this.#ws = null;
      this.#open = false;
      this.#lastHeard = this.#now();
      ws.close();
    } else if (ws && this.#now() - this.#connectStarted > CONNECT_TIMEOUT_MS) {
      this.#lost(ws, "connect timed out");
      ws.close();
    }
    if (this.#connecting.length < MAX_CONNECTING) this.#connecting.push(frame);
    this.#connect();
  }

  /** Open a while, sending, and nothing heard from the peer for as long. */
  #silent(): boolean {
    const now = this.#now();
    return now - this.#lastHeard > SILENT_MS && now - this.#openedAt > SILENT_MS;
  }

  #span(count: number, batch: BatchTrace): Span {
    return tracer.startSpan(SPAN.replicate, {
      attributes: {
        [ATTR.peer]: this.opts.peer,
        [ATTR.messages]: count,
        [ATTR.region]: REGION_ID,
      },
      links: [...batch.links],
    }, batch.ctx);
  }

  #connect(): void {
    if (this.#ws || this.#closed) return;
    if (this.#now() < this.#backoffUntil) {
      this.#connecting = [];
      return;
    }
    // Under the member URL as given (a path prefix, e.g. behind a proxy, stays).
    let url: URL;
    try {
      url = new URL(`${this.opts.url.replace(/\/+$/, "")}/raft/v1/stream`);
    } catch {
      // A member URL that is no URL (a forged conf change): unreachable, never
      // an exception here (this runs in a microtask: it would end the process).
      this.#connecting = [];
      return this.#unreachable(`member URL ${JSON.stringify(this.opts.url)} is not a URL`);
    }
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const { headers } = this.opts;
    const ws = new StreamSocket(url, typeof headers === "function" ? headers() : headers);
    this.#ws = ws;
    this.#connectStarted = this.#now();
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      this.#open = true;
      this.#openedAt = this.#now();
      this.#backoff = 0;
      this.#reachable();
      for (const f of this.#connecting) ws.send(f);
      this.#connecting = [];
    };
    // A close without open is a failed connect; onerror always precedes it.
    ws.onerror = (e) => {
      if (/\bHTTP 410\b/.test(e.message)) this.opts.onRemoved?.();
      this.#lost(ws, e.message || "stream error");
    };
    ws.onclose = (e) => this.#lost(ws, `stream closed (${e.code})`);
  }

  /** The peer stopped reading: drop this frame and reopen the stream. */
  #stalled(ws: StreamSocket): void {
    this.#lost(ws, `peer not reading (${ws.bufferedAmount} bytes unsent)`);
    ws.close();
  }

  #lost(ws: StreamSocket, reason: string): void {
    if (this.#ws !== ws) return;
    this.#ws = null;
    this.#open = false;
    this.#connecting = [];
    if (this.#closed) return;
    this.opts.metrics.peerSendErrors.inc(this.#labels);
    this.#backoff = Math.min(MAX_BACKOFF_MS, Math.max(50, this.#backoff * 2));
    this.#backoffUntil = this.#now() + this.#backoff;
    this.#unreachable(reason);
  }

  /**
   * Logs the first failure at warn, and a failure for another reason (a
   * restart, then a refusal), the rest at debug: no flood, and the reason
   * an operator must act on is never hidden behind the first one.
   */
  #unreachable(error: string): void {
    const fields = { peer: this.opts.peer, error, backoffMs: this.#backoff };
    const reason = error.replace(/\d+ bytes/, "N bytes");
    const changed = reason !== this.#lastReason;
    this.#lastReason = reason;
    if (this.#failures++ === 0 || changed) {
      const hint = /\bHTTP 401\b/.test(error) ? { hint: CLUSTER_TOKEN_HINT } : {};
      this.#log.warn("peer unreachable", { ...fields, ...hint, failures: this.#failures });
    } else this.#log.debug("peer still unreachable", { ...fields, failures: this.#failures });
  }

  #lastReason = "";

  #reachable(): void {
    if (this.#failures === 0) return;
    this.#log.info("peer reachable again", { peer: this.opts.peer, failures: this.#failures });
    this.#failures = 0;
    this.#lastReason = "";
  }
}
