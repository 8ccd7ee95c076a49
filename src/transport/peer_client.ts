/**
 * One peer's outgoing pipe: messages queue while a POST is in flight and go
 * out together in the next one, so a busy leader sends one batch per
 * follower per round trip. Failures back off without ever blocking the
 * caller: messages queued during a backoff are dropped (Raft retries).
 * @module
 */
import { context, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import type { Message } from "../raft/messages.ts";
import { failpoints } from "../failpoints/registry.ts";
import type { NodeMetrics } from "../telemetry/node_metrics.ts";
import { ATTR, REGION_ID, SPAN, TRACER_NAME } from "../telemetry/names.ts";
import { type BatchTrace, mergeTraces } from "../telemetry/entry_traces.ts";
import { Logger } from "../telemetry/logger.ts";
import { failSpan } from "../telemetry/spans.ts";
import { encodeBatch } from "./wire.ts";

const tracer = trace.getTracer(TRACER_NAME);
const MAX_BACKOFF_MS = 1000;
const SEND_TIMEOUT_MS = 5000;

export interface PeerClientOptions {
  readonly peer: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly metrics: NodeMetrics;
  readonly log?: Logger | undefined;
}

export class PeerClient {
  #queue: Message[] = [];
  /** The requests the queued messages serve (undefined: background traffic). */
  #trace: BatchTrace | undefined;
  /** Consecutive failed POSTs (logged once when the peer goes down and back). */
  #failures = 0;
  #inflight = false;
  #backoff = 0;
  #backoffUntil = 0;
  #closed = false;

  readonly #log: Logger;

  constructor(readonly opts: PeerClientOptions) {
    this.#log = opts.log ?? Logger.silent();
  }

  enqueue(messages: readonly Message[], batch: BatchTrace | undefined): void {
    if (this.#closed) return;
    if (performance.now() < this.#backoffUntil) return;
    for (const m of messages) this.#queue.push(m);
    if (batch) this.#trace = this.#trace ? mergeTraces(this.#trace, batch) : batch;
    this.#pump();
  }

  close(): void {
    this.#closed = true;
    this.#queue = [];
  }

  #pump(): void {
    if (this.#inflight || this.#queue.length === 0 || this.#closed) return;
    const batch = this.#queue;
    const t = this.#trace;
    this.#queue = [];
    this.#trace = undefined;
    this.#inflight = true;
    // Background traffic runs in the root context: it must not join whatever
    // trace happened to kick the ready loop.
    context.with(t?.ctx ?? ROOT_CONTEXT, () => this.#post(batch, t)).finally(() => {
      this.#inflight = false;
      this.#pump();
    });
  }

  async #post(batch: Message[], t: BatchTrace | undefined): Promise<void> {
    const { peer, url, metrics } = this.opts;
    if (failpoints.enabled) {
      if (failpoints.shouldDrop("transport.send", peer)) return;
      await failpoints.eval("transport.send").catch(() => {});
    }
    // A replicate span only for batches that serve traced requests.
    const span = t && tracer.startSpan(SPAN.replicate, {
      attributes: { [ATTR.peer]: peer, [ATTR.messages]: batch.length, [ATTR.region]: REGION_ID },
      links: [...t.links],
    }, t.ctx);
    const started = performance.now();
    try {
      await (span
        ? context.with(trace.setSpan(t.ctx, span), () => this.#fetch(url, batch))
        : this.#fetch(url, batch));
      metrics.replicateLatency.observe((performance.now() - started) / 1000, {
        peer,
      });
      this.#backoff = 0;
      this.#reachable();
    } catch (e) {
      metrics.peerSendErrors.inc({ peer });
      failSpan(span, e);
      this.#backoff = Math.min(MAX_BACKOFF_MS, Math.max(50, this.#backoff * 2));
      this.#backoffUntil = performance.now() + this.#backoff;
      this.#unreachable(e);
    } finally {
      span?.end();
    }
  }

  /** Logs the first failure at warn, the following ones at debug (no flood). */
  #unreachable(e: unknown): void {
    const fields = { peer: this.opts.peer, error: e, backoffMs: this.#backoff };
    if (this.#failures++ === 0) this.#log.warn("peer unreachable", fields);
    else this.#log.debug("peer still unreachable", { ...fields, failures: this.#failures });
  }

  #reachable(): void {
    if (this.#failures === 0) return;
    this.#log.info("peer reachable again", { peer: this.opts.peer, failures: this.#failures });
    this.#failures = 0;
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
