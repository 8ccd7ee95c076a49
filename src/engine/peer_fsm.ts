/**
 * PeerFsm (TiKV's batch loop for one region): the only driver of the core.
 * Steps, ticks and proposals go into the RawNode as they arrive; the loop
 * takes ONE Ready at a time, persists it in one raft-engine commit, sends one
 * batch per peer, hands committed entries to the ApplyFsm and advances.
 * Whatever arrives while a Ready persists joins the next one: the batching.
 * @module
 */
import { type Context, context, type Link, type Span, trace } from "@opentelemetry/api";
import type { RawNode } from "../raft/raw_node.ts";
import type { Ready } from "../raft/ready.ts";
import type { Message } from "../raft/messages.ts";
import type { Entry, SoftState } from "../raft/types.ts";
import { decodeConfChange } from "../raft/conf_change.ts";
import type { Transport } from "../transport/transport.ts";
import { failpoints } from "../failpoints/registry.ts";
import type { NodeMetrics } from "../telemetry/node_metrics.ts";
import { ATTR, REGION_ID, SPAN, TRACER_NAME } from "../telemetry/names.ts";
import type { ApplyFsm } from "./apply_fsm.ts";
import type { PeerStorage } from "./peer_storage.ts";
import { applyConfChange } from "./membership.ts";
import type { Membership } from "../storage/stores.ts";

const tracer = trace.getTracer(TRACER_NAME);

export interface PeerFsmHooks {
  /** Role or leader changed (after the Ready that reported it). */
  softState(prev: SoftState, next: SoftState): void;
  /** A ReadIndex round came back. */
  readState(context: string, index: number): void;
  /** Membership as handed out (for the address book); applied later by ApplyFsm. */
  membership(m: Membership): void;
  /** The log may be compacted up to the durable applied index. */
  maybeCompact(): Promise<void>;
  /** Installs a snapshot the core accepted, before it is persisted. */
  installSnapshot(rd: Ready): Promise<void>;
}

export class PeerFsm {
  #running = false;
  #stopped = false;
  #soft: SoftState;
  /** Request spans whose entries are in the next Ready (batch links). */
  #batchSpans: Span[] = [];
  /** Trace context of messages received since the last Ready (followers). */
  #recvCtx: Context | undefined;
  #idle: (() => void)[] = [];
  #handedMembership: Membership;

  constructor(
    readonly node: RawNode,
    readonly storage: PeerStorage,
    readonly apply: ApplyFsm,
    readonly transport: Transport,
    readonly metrics: NodeMetrics,
    readonly hooks: PeerFsmHooks,
  ) {
    const st = node.status();
    this.#soft = { lead: st.lead, role: st.role };
    this.#handedMembership = apply.membership;
  }

  get soft(): SoftState {
    return this.#soft;
  }

  /** Steps peer messages; `ctx` is the server span they arrived in. */
  stepMessages(messages: readonly Message[], ctx?: Context): void {
    for (const m of messages) this.node.step(m);
    if (ctx && !this.#recvCtx) this.#recvCtx = ctx;
    this.kick();
  }

  /** Remembers a request span so the batch spans can link to it. */
  addToBatch(span: Span | undefined): void {
    if (span) this.#batchSpans.push(span);
  }

  kick(): void {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    queueMicrotask(() => this.#loop());
  }

  /** Stops taking Readies; resolves when the one in flight is done. */
  stop(): Promise<void> {
    this.#stopped = true;
    if (!this.#running) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  async #loop(): Promise<void> {
    try {
      while (!this.#stopped && this.node.hasReady()) await this.#handleReady();
    } catch (e) {
      // A failed durable write leaves memory and disk out of step: stop, like
      // TiKV panicking on an engine error. The supervisor restarts us from disk.
      console.error(
        JSON.stringify({ level: "fatal", msg: `Ready loop failed: ${e}` }),
      );
      Deno.exit(70);
    } finally {
      this.#running = false;
      for (const r of this.#idle.splice(0)) r();
    }
  }

  async #handleReady(): Promise<void> {
    const rd = this.node.ready();
    const { ctx, links } = this.#takeBatch();
    if (rd.messages.length > 0) this.transport.send(rd.messages, ctx);
    // Committed entries are already durable (the core hands out only stable
    // ones), so they apply while this Ready's new entries persist (etcd does).
    if (rd.committedEntries.length > 0) {
      this.#commit(rd.committedEntries, ctx, links);
    }
    for (const rs of rd.readStates) this.hooks.readState(rs.context, rs.index);
    if (rd.snapshot) await this.hooks.installSnapshot(rd);
    await this.#persist(rd, ctx, links);
    if (failpoints.enabled) {
      await failpoints.eval("peer.after_persist_before_send");
    }
    if (rd.persistedMessages.length > 0) {
      this.transport.send(rd.persistedMessages, ctx);
    }
    this.node.advance(rd);
    if (rd.softState) this.#changeSoftState(rd.softState);
    await this.hooks.maybeCompact();
  }

  #takeBatch(): { ctx: Context | undefined; links: Link[] } {
    const spans = this.#batchSpans;
    this.#batchSpans = [];
    const first = spans[0];
    const ctx = first ? trace.setSpan(context.active(), first) : this.#recvCtx;
    this.#recvCtx = undefined;
    return {
      ctx,
      links: spans.slice(1).map((s) => ({ context: s.spanContext() })),
    };
  }

  async #persist(
    rd: Ready,
    ctx: Context | undefined,
    links: Link[],
  ): Promise<void> {
    if (rd.entries.length === 0) return await this.storage.persist(rd);
    const bytes = rd.entries.reduce((n, e) => n + e.data.length, 0);
    const span = tracer.startSpan(SPAN.append, {
      attributes: {
        [ATTR.entries]: rd.entries.length,
        [ATTR.bytes]: bytes,
        [ATTR.region]: REGION_ID,
        [ATTR.term]: this.node.status().term,
      },
      links,
    }, ctx ?? context.active());
    try {
      await this.storage.persist(rd);
    } finally {
      span.end();
    }
  }

  #commit(
    entries: readonly Entry[],
    ctx: Context | undefined,
    links: Link[],
  ): void {
    const last = entries[entries.length - 1]!;
    tracer.startSpan(SPAN.commit, {
      attributes: { [ATTR.entries]: entries.length, [ATTR.index]: last.index },
      links,
    }, ctx ?? context.active()).end();
    for (const e of entries) {
      if (e.type !== "conf") continue;
      this.#handedMembership = applyConfChange(
        this.#handedMembership,
        decodeConfChange(e.data),
      );
      this.hooks.membership(this.#handedMembership);
    }
    this.apply.enqueue(entries, ctx);
  }

  #changeSoftState(next: SoftState): void {
    const prev = this.#soft;
    this.#soft = next;
    this.hooks.softState(prev, next);
  }
}
