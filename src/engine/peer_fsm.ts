/**
 * PeerFsm (TiKV's batch loop for one region): the only driver of the core.
 * Steps, ticks and proposals go into the RawNode as they arrive; the loop
 * takes ONE Ready at a time, persists it in one raft-engine commit, sends one
 * batch per peer, hands committed entries to the ApplyFsm and advances.
 * Whatever arrives while a Ready persists joins the next one: the batching.
 * @module
 */
import { type Context, context, ROOT_CONTEXT, type Span, trace } from "@opentelemetry/api";
import type { RawNode } from "../raft/raw_node.ts";
import type { Ready } from "../raft/ready.ts";
import type { Message } from "../raft/messages.ts";
import type { Entry, SoftState } from "../raft/types.ts";
import { tryDecodeConfChange } from "../raft/conf_change.ts";
import type { Transport } from "../transport/transport.ts";
import { failpoints } from "../failpoints/registry.ts";
import type { NodeMetrics } from "../telemetry/node_metrics.ts";
import { ATTR, SPAN, TRACER_NAME } from "../telemetry/names.ts";
import { type BatchTrace, EntryTraces } from "../telemetry/entry_traces.ts";
import type { ApplyFsm } from "./apply_fsm.ts";
import type { PeerStorage } from "./peer_storage.ts";
import { RaftWriteQueue } from "./raft_write_queue.ts";
import { ReplicateTimer } from "./replicate_timer.ts";
import { applyConfChange } from "./membership.ts";
import { fatalExit } from "./errors.ts";
import type { Membership } from "../storage/stores.ts";

const tracer = trace.getTracer(TRACER_NAME);

/**
 * A failed durable write leaves memory and disk out of step: stop at once,
 * like TiKV panicking on an engine error; a restart recovers from disk.
 */
function fatal(e: unknown): never {
  fatalExit("Raft engine", e);
}

export interface PeerFsmHooks {
  /** Role or leader changed (after the Ready that reported it). */
  softState(prev: SoftState, next: SoftState): void;
  /** A ReadIndex round came back. */
  readState(context: string, index: number): void;
  /** Membership as handed out (for the address book); applied later by ApplyFsm. */
  membership(m: Membership): void;
  /** The log may be compacted up to the durable applied index; `busy`: writes are queued. */
  maybeCompact(busy: boolean): Promise<void>;
  /** Installs a snapshot the core accepted, before it is persisted. */
  installSnapshot(rd: Ready): Promise<void>;
}

export class PeerFsm {
  #running = false;
  #compactWanted = false;
  /** The compaction in flight, if any (one at a time). */
  #compaction: Promise<void> | undefined;
  #stopped = false;
  #soft: SoftState;
  /** Entry index -> the request traces it serves (batch span parents and links). */
  #traces = new EntryTraces();
  /** The loop runs in the root context, whoever kicked it (never in a request's trace). */
  #loopInRoot = () => void context.with(ROOT_CONTEXT, () => this.#loop());
  #idle: (() => void)[] = [];
  #handedMembership: Membership;
  #replicate: ReplicateTimer;

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
    this.#replicate = new ReplicateTimer(metrics.replicateLatency.bind({}));
    this.writes = new RaftWriteQueue((w) => storage.write(w).catch(fatal), async () => {
      if (failpoints.enabled) await failpoints.eval("peer.after_persist_before_send");
    });
  }

  /** The raft-engine writes behind the loop. */
  readonly writes: RaftWriteQueue;

  get soft(): SoftState {
    return this.#soft;
  }

  /** Steps peer messages; `ctx` is the server span they arrived in. */
  stepMessages(messages: readonly Message[], ctx?: Context): void {
    for (const m of messages) {
      if (ctx && m.type === "app" && m.entries.length > 0) {
        this.#traces.addContext(m.entries[0]!.index, m.entries[m.entries.length - 1]!.index, ctx);
      }
      this.#replicate.received(m);
      this.node.step(m);
    }
    this.kick();
  }

  /** Remembers that entry `index` serves the request in `span` (batch spans). */
  addToBatch(span: Span | undefined, index: number): void {
    if (span) this.#traces.addSpan(index, span);
  }

  kick(): void {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    queueMicrotask(this.#loopInRoot);
  }

  /** Stops taking Readies; resolves when the one in flight is done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#running) await new Promise<void>((r) => this.#idle.push(r));
    await this.writes.drain();
    await this.#compaction;
  }

  async #loop(): Promise<void> {
    try {
      while (!this.#stopped && this.node.hasReady()) await this.#handleReady();
      if (this.#compactWanted && !this.#stopped && !this.#compaction) {
        this.#compactWanted = false;
        // Not awaited: Readies go on while the raft engine drops old entries
        // (its commits stay in order with the writes queued after them).
        this.#compaction = this.hooks.maybeCompact(!this.writes.idle).catch(fatal)
          .finally(() => this.#compaction = undefined);
      }
    } catch (e) {
      fatal(e);
    } finally {
      this.#running = false;
      for (const r of this.#idle.splice(0)) r();
    }
  }

  async #handleReady(): Promise<void> {
    const rd = this.node.ready();
    if (rd.messages.length > 0) {
      this.#replicate.sent(rd.messages);
      this.transport.send(rd.messages, this.#sendTrace(rd.messages));
    }
    // The write goes to the raft engine first: a follower's ack and the
    // leader's self-ack wait for it. Committed entries are durable on a
    // quorum, so they apply while it is in flight (etcd does the same).
    if (!rd.snapshot) this.#queueWrite(rd, this.#entriesTrace(rd.entries));
    if (rd.committedEntries.length > 0) this.#commit(rd.committedEntries);
    for (const rs of rd.readStates) this.hooks.readState(rs.context, rs.index);
    if (rd.snapshot) await this.#installSnapshot(rd);
    if (rd.softState) this.#changeSoftState(rd.softState);
  }

  /** Compacts the log (§7) once the loop is idle (a busy node: a whole step at a time). */
  compactSoon(): void {
    this.#compactWanted = true;
    this.kick();
  }

  /**
   * Mirrors `rd` and queues its durable write; the loop goes on at once.
   * Acks and the self-ack wait for durability (§5.3).
   */
  #queueWrite(rd: Ready, t: BatchTrace | undefined): void {
    this.storage.mirror(rd);
    const self = this.node.advanceAsync(rd);
    this.writes.push({
      trace: t,
      entries: rd.entries,
      hardState: rd.hardState,
      sync: rd.mustSync,
      durable: () => {
        if (rd.persistedMessages.length > 0) {
          this.transport.send(rd.persistedMessages, t);
        }
        this.node.stepDurable(self);
        this.#compactWanted = true;
        this.kick();
      },
    });
  }

  /** A snapshot replaces the state: everything queued first, then it, in order. */
  async #installSnapshot(rd: Ready): Promise<void> {
    await this.writes.drain();
    await this.hooks.installSnapshot(rd).catch((e) => fatalExit("Kv engine (snapshot install)", e));
    // Later conf changes apply on top of the snapshot's membership.
    this.#handedMembership = this.apply.membership;
    await this.storage.persistSnapshot(rd);
    if (rd.persistedMessages.length > 0) {
      this.transport.send(rd.persistedMessages);
    }
    this.node.advance(rd);
  }

  /** The requests served by the entries these messages carry; none for heartbeats. */
  #sendTrace(messages: readonly Message[]): BatchTrace | undefined {
    if (this.#traces.size === 0) return undefined;
    let lo = Infinity, hi = 0;
    for (const m of messages) {
      if (m.type !== "app" || m.entries.length === 0) continue;
      lo = Math.min(lo, m.entries[0]!.index);
      hi = Math.max(hi, m.entries[m.entries.length - 1]!.index);
    }
    return this.#traces.lookup(lo, hi);
  }

  #entriesTrace(entries: readonly Entry[]): BatchTrace | undefined {
    if (entries.length === 0) return undefined;
    return this.#traces.lookup(entries[0]!.index, entries[entries.length - 1]!.index);
  }

  #commit(entries: readonly Entry[]): void {
    const last = entries[entries.length - 1]!;
    const t = this.#entriesTrace(entries);
    this.#traces.prune(last.index);
    if (t) {
      tracer.startSpan(SPAN.commit, {
        attributes: { [ATTR.entries]: entries.length, [ATTR.index]: last.index },
        links: [...t.links],
      }, t.ctx).end();
    }
    for (const e of entries) {
      if (e.type !== "conf") continue;
      // Undecodable (forged) data is a no-op, as in the core and the ApplyFsm.
      const cc = tryDecodeConfChange(e.data);
      if (!cc) continue;
      this.#handedMembership = applyConfChange(this.#handedMembership, cc);
      this.hooks.membership(this.#handedMembership);
    }
    this.apply.enqueue(entries, t);
  }

  #changeSoftState(next: SoftState): void {
    const prev = this.#soft;
    this.#soft = next;
    // A new leader may overwrite uncommitted entries: their traces are void.
    if (prev.lead !== next.lead) this.#traces.clear();
    if (prev.role !== next.role) this.#replicate.reset();
    this.hooks.softState(prev, next);
  }
}
