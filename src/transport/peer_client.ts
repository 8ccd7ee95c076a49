/**
 * One peer's outgoing pipe: messages queue while a POST is in flight and go
 * out together in the next one, so a busy leader sends one batch per
 * follower per round trip. Failures back off without ever blocking the
 * caller: messages queued during a backoff are dropped (Raft retries).
 * @module
 */
import { type Context, context, SpanStatusCode, trace } from "@opentelemetry/api";
import type { Message } from "../raft/messages.ts";
import { failpoints } from "../failpoints/registry.ts";
import type { NodeMetrics } from "../telemetry/node_metrics.ts";
import { ATTR, REGION_ID, SPAN, TRACER_NAME } from "../telemetry/names.ts";
import { encodeBatch } from "./wire.ts";

const tracer = trace.getTracer(TRACER_NAME);
const MAX_BACKOFF_MS = 1000;
const SEND_TIMEOUT_MS = 5000;

export interface PeerClientOptions {
  readonly peer: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly metrics: NodeMetrics;
}

export class PeerClient {
  #queue: Message[] = [];
  #ctx: Context | undefined;
  #inflight = false;
  #backoff = 0;
  #backoffUntil = 0;
  #closed = false;

  constructor(readonly opts: PeerClientOptions) {}

  enqueue(messages: readonly Message[], ctx: Context | undefined): void {
    if (this.#closed) return;
    if (performance.now() < this.#backoffUntil) return;
    for (const m of messages) this.#queue.push(m);
    this.#ctx ??= ctx;
    this.#pump();
  }

  close(): void {
    this.#closed = true;
    this.#queue = [];
  }

  #pump(): void {
    if (this.#inflight || this.#queue.length === 0 || this.#closed) return;
    const batch = this.#queue;
    const ctx = this.#ctx ?? context.active();
    this.#queue = [];
    this.#ctx = undefined;
    this.#inflight = true;
    context.with(ctx, () => this.#post(batch)).finally(() => {
      this.#inflight = false;
      this.#pump();
    });
  }

  async #post(batch: Message[]): Promise<void> {
    const { peer, url, metrics } = this.opts;
    if (failpoints.enabled) {
      if (failpoints.shouldDrop("transport.send", peer)) return;
      await failpoints.eval("transport.send").catch(() => {});
    }
    const span = tracer.startSpan(SPAN.replicate, {
      attributes: {
        [ATTR.peer]: peer,
        [ATTR.messages]: batch.length,
        [ATTR.region]: REGION_ID,
      },
    });
    const started = performance.now();
    try {
      const spanCtx = trace.setSpan(context.active(), span);
      await context.with(spanCtx, () => this.#fetch(url, batch));
      metrics.replicateLatency.observe((performance.now() - started) / 1000, {
        peer,
      });
      this.#backoff = 0;
    } catch (e) {
      metrics.peerSendErrors.inc({ peer });
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(e) });
      this.#backoff = Math.min(MAX_BACKOFF_MS, Math.max(50, this.#backoff * 2));
      this.#backoffUntil = performance.now() + this.#backoff;
    } finally {
      span.end();
    }
  }

  async #fetch(url: string, batch: Message[]): Promise<void> {
    const res = await fetch(`${url}/raft/v1/messages`, {
      method: "POST",
      headers: { ...this.opts.headers, "content-type": "application/json" },
      body: encodeBatch({ region: REGION_ID, messages: batch }),
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (res.status !== 204) throw new Error(`Peer answered ${res.status}`);
  }
}
