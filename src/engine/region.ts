/**
 * One Raft group (TiKV's region; there is one, id 1, today): the PeerFsm
 * with its ApplyFsm, ProposalQueue and Reads (ReadIndex, lease), and the hooks
 * that tie them together. The ticker is the only owner of time.
 * @module
 */
import type { Context, Span } from "@opentelemetry/api";
import type { RawNode, Status } from "../raft/raw_node.ts";
import type { Ready } from "../raft/ready.ts";
import type { ConfChange, SoftState } from "../raft/types.ts";
import { ProposalDroppedError } from "../raft/errors.ts";
import type { KvCommand, KvRecord } from "../kv/types.ts";
import type { MessageBatch } from "../transport/wire.ts";
import type { ForwardFrame, ForwardRequest } from "../transport/forward_wire.ts";
import type { SnapshotHeader } from "../transport/snapshot_stream.ts";
import type { Transport } from "../transport/transport.ts";
import type { Membership } from "../storage/stores.ts";
import { type NodeMetrics, observeStatus } from "../telemetry/node_metrics.ts";
import type { ApplyFsm } from "./apply_fsm.ts";
import type { PeerStorage } from "./peer_storage.ts";
import { PeerFsm } from "./peer_fsm.ts";
import { SnapshotStage } from "./snapshot_stage.ts";
import { ProposalQueue } from "./proposal_queue.ts";
import { ForwardQueue } from "./forward_queue.ts";
import { compactionPoint } from "./compaction.ts";
import { Reads } from "./reads.ts";
import type { ReadIndexQueue } from "./read_index_queue.ts";
import { addressBook, addressBookOf, toConfState } from "./membership.ts";
import { LeadershipChangedError, NotLeaderError, UnavailableError } from "./errors.ts";
import type { WriteResult } from "./types.ts";
import { LeaderWaiters } from "./leader_waiters.ts";
import { MemberView } from "./member_view.ts";
import { Logger } from "../telemetry/logger.ts";
import { isContact } from "./status.ts";

export interface RegionOptions {
  readonly id: string;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly requestTimeoutMs: number;
  readonly leaseMs: number;
  readonly snapshotEntries: number;
  /** Code units of entry data the log may hold (compaction.ts LOG_UNITS_MAX by default). */
  readonly logUnitsMax?: number;
  readonly now?: () => number;
}

/** How much longer a follower waits for a forwarded write than the leader does. */
const FORWARD_GRACE_MS = 1000;

export class Region {
  readonly fsm: PeerFsm;
  readonly proposals = new ProposalQueue();
  /** This node's writes waiting at the leader (a follower forwards them). */
  readonly forwards = new ForwardQueue();
  /** Serves writes other nodes forwarded here (set by RaftKv). */
  serveForwards: (from: string, reqs: readonly ForwardRequest[]) => void = () => {};
  readonly readSvc: Reads;

  /** The ReadIndex queue (the ApplyFsm answers its waiters). */
  get reads(): ReadIndexQueue {
    return this.readSvc.queue;
  }
  readonly leaderWaiters = new LeaderWaiters();
  readonly lastContact = new Map<string, number>();
  /** The membership in force and who is out of it (see MemberView). */
  readonly view: MemberView;
  readonly #snapshots = new SnapshotStage();
  #ticks = 0;
  /** Waiters woken on the next tick (rare admin paths, never the hot path). */
  #tickWaiters: (() => void)[] = [];
  /** Set by stop(): no Ready is taken any more, so new requests could never finish. */
  #stopped = false;
  #now: () => number;

  constructor(
    readonly opts: RegionOptions,
    readonly node: RawNode,
    readonly storage: PeerStorage,
    readonly apply: ApplyFsm,
    readonly transport: Transport,
    readonly metrics: NodeMetrics,
    readonly log: Logger = Logger.silent(),
  ) {
    this.#now = opts.now ?? (() => performance.now());
    this.readSvc = new Reads(node, apply, {
      prefix: `${opts.id}-${crypto.randomUUID().slice(0, 8)}`,
      leaseMs: opts.leaseMs,
      requestTimeoutMs: opts.requestTimeoutMs,
      retryMs: opts.electionTicks * opts.tickMs,
      now: this.#now,
      kick: () => this.fsm.kick(),
    });
    this.view = new MemberView(opts.id, apply.membership);
    transport.setPeers(addressBook(apply.membership));
    this.fsm = new PeerFsm(node, storage, apply, transport, metrics, this.#hooks());
    this.proposals.onOutcome = (o) => metrics.proposals.inc({ outcome: o });
    this.#observeMetrics();
  }

  get id(): string {
    return this.opts.id;
  }

  get term(): number {
    return this.node.basicStatus().term;
  }

  get appliedIndex(): number {
    return this.apply.appliedIndex;
  }

  get members(): Membership {
    return this.view.members;
  }

  #setMembers(m: Membership): void {
    this.view.set(m);
    this.transport.setPeers(addressBook(m));
  }

  status(): Status {
    return this.node.status();
  }

  isLeader(): boolean {
    return this.fsm.soft.role === "leader";
  }

  leader(): { id: string; url: string } | null {
    const lead = this.fsm.soft.lead;
    if (!lead) return null;
    const url = addressBookOf(this.view.members).get(lead);
    return url ? { id: lead, url } : null;
  }

  /** True when this node has applied everything it knows to be committed. */
  caughtUp(): boolean {
    return this.apply.appliedIndex >= this.node.basicStatus().commit;
  }

  waitForLeader(signal?: AbortSignal): Promise<void> {
    if (this.#stopped) return Promise.reject(shuttingDown());
    if (this.fsm.soft.lead) return Promise.resolve();
    const deadline = this.#now() +
      2 * this.opts.electionTicks * this.opts.tickMs;
    return this.leaderWaiters.wait(deadline, signal);
  }

  /**
   * Proposes `data`; resolves when applied, with the state machine's result.
   * `cmd`: the command `data` encodes, when its apply may use it as is (a put).
   */
  propose(data: string, span: Span | undefined, cmd?: KvCommand): Promise<WriteResult> {
    if (this.#stopped) return Promise.reject(shuttingDown());
    let index: number, term: number;
    try {
      ({ index, term } = this.node.propose(data));
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      // A leader drops proposals while it hands leadership over (§3.10); a
      // NotLeaderError would name this node and the route forward to itself.
      const st = this.node.status();
      if (st.role === "leader" && st.leadTransferee) {
        return Promise.reject(new UnavailableError("Leadership transfer in progress"));
      }
      return Promise.reject(notLeader(this));
    }
    this.fsm.addToBatch(span, index);
    return this.#await(index, term, span, cmd) as Promise<WriteResult>;
  }

  /** Waits for the proposal at (index, term) to apply, within the request timeout. */
  #await(index: number, term: number, span?: Span, cmd?: KvCommand) {
    this.fsm.kick();
    const deadline = this.#now() + this.opts.requestTimeoutMs;
    return this.proposals.wait({ index, term, deadline, span, cmd });
  }

  /**
   * Hands a client write to the leader on the peer stream; settles with the
   * leader's reply. Waits a little past the leader's own deadline, so its
   * timeout reply normally arrives first.
   */
  forwardWrite(leader: string, data: string, traceparent?: string): Promise<WriteResult> {
    if (this.#stopped) return Promise.reject(shuttingDown());
    const deadline = this.#now() + this.opts.requestTimeoutMs + FORWARD_GRACE_MS;
    const { id, done } = this.forwards.add(leader, deadline);
    this.transport.forward(leader, { forwards: [{ id, data, traceparent }] });
    return done;
  }

  /** Proposes a membership change (§4.1); resolves with its index once applied. */
  async changeMembership(cc: ConfChange): Promise<number> {
    // A new leader may change membership only after committing in its term.
    const deadline = this.#now() + this.opts.requestTimeoutMs;
    while (this.isLeader() && !this.node.basicStatus().committedInTerm) {
      if (this.#now() >= deadline) throw new UnavailableError("Leader is not ready yet");
      await new Promise<void>((r) => this.#tickWaiters.push(r));
    }
    return await this.#proposeConf(cc);
  }

  #proposeConf(cc: ConfChange): Promise<number> {
    if (this.#stopped) return Promise.reject(shuttingDown());
    let index: number, term: number;
    try {
      ({ index, term } = this.node.proposeConfChange(cc));
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      if (!this.isLeader()) return Promise.reject(notLeader(this));
      return Promise.reject(new UnavailableError("Another membership change is in progress"));
    }
    return this.#await(index, term).then(() => index);
  }

  /** Hands leadership to `to` (thesis §3.10); resolves when it leads. */
  async transferLeadership(to: string, signal?: AbortSignal): Promise<void> {
    const deadline = this.#now() + 2 * this.opts.electionTicks * this.opts.tickMs;
    this.node.transferLeader(to);
    this.fsm.kick();
    while (this.fsm.soft.lead !== to || this.fsm.soft.role === "candidate") {
      if (this.#now() >= deadline) throw new UnavailableError(`Leadership did not move to "${to}"`);
      await this.leaderWaiters.wait(deadline, signal).catch(() => {});
    }
  }

  /** Resolves once a ReadIndex round confirmed an index and it is applied. */
  readIndex(): Promise<void> {
    return this.#stopped ? Promise.reject(shuttingDown()) : this.readSvc.readIndex();
  }

  /** Serves at the local commit index while the lease holds; else ReadIndex. */
  leaseRead(): Promise<void> {
    return this.#stopped ? Promise.reject(shuttingDown()) : this.readSvc.leaseRead();
  }

  tick(): void {
    for (const w of this.#tickWaiters.splice(0)) w();
    this.node.tick();
    this.#ticks++;
    const now = this.#now();
    this.proposals.sweep(now);
    this.forwards.sweep(now);
    this.leaderWaiters.sweep(now);
    this.readSvc.tick(this.isLeader() && this.#ticks % this.opts.heartbeatTicks === 0);
    this.#observeMetrics();
    if (this.#ticks % 10 === 0) this.fsm.compactSoon();
    this.fsm.kick();
  }

  receiveForwards(frame: ForwardFrame): void {
    if (frame.replies) { for (const r of frame.replies) this.forwards.settle(r, frame.from); }
    // Writes are taken from members only (a removed or unknown node's are dropped).
    if (frame.forwards && this.view.has(frame.from)) {
      this.serveForwards(frame.from, frame.forwards);
    }
  }

  receiveMessages(batch: MessageBatch, ctx: Context): void {
    const now = this.#now();
    // A leader replicating here says this node is a member (again): a 410
    // seen earlier (removed, then re-added) no longer holds.
    const v = this.view;
    if (v.told && batch.messages.some((m) => m.type === "app" || m.type === "heartbeat")) {
      v.replicatedTo();
      this.log.info("a leader replicates to this node again; serving");
    }
    for (const m of batch.messages) if (isContact(m)) this.lastContact.set(m.from, now);
    this.fsm.stepMessages(batch.messages, ctx);
  }

  /** Stages a streamed snapshot and offers it to the core (§7). */
  receiveSnapshot(h: SnapshotHeader, records: KvRecord[]): void {
    // The core drops a snapshot of an older term. Staging must not evict one
    // it accepted that the loop has not installed yet (a clear() here did:
    // #installSnapshot then threw, a fatal exit); installing clears instead.
    if (h.term < this.term) return;
    const token = this.#snapshots.stage(h, records);
    this.metrics.snapshotsReceived.inc();
    this.log.debug("snapshot received", {
      from: h.from,
      index: h.meta.index,
      records: records.length,
    });
    this.fsm.stepMessages([{
      type: "snap",
      from: h.from,
      to: h.to,
      term: h.term,
      snapshot: { meta: h.meta, data: token },
    }]);
  }

  /** Writes waiting here for their outcome: proposed, or forwarded to the leader. */
  get writesInFlight(): number {
    return this.proposals.size + this.forwards.size;
  }

  /**
   * Takes no new requests (they would hang: the loop no longer runs), lets
   * the Ready in flight finish, and rejects every waiter, including those
   * waiting for a leader (before, they waited for a tick that never came).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.fsm.stop();
    await this.apply.flush();
    const e = shuttingDown();
    // A proposal already in the log may still commit on the other nodes:
    // its outcome is unknown, never "nothing changed" (which 503 unavailable means).
    this.proposals.rejectAll(new LeadershipChangedError(), "shutdown");
    this.forwards.rejectAll(new LeadershipChangedError());
    this.readSvc.queue.rejectAll(e);
    this.leaderWaiters.rejectAll(e);
  }

  #hooks() {
    return {
      softState: (prev: SoftState, next: SoftState) => this.#softState(prev, next),
      readState: (ctx: string, index: number) =>
        this.readSvc.confirmed(ctx, index, this.isLeader() ? this.term : null),
      membership: (m: Membership) => {
        this.log.info("membership changed", {
          voters: m.voters.map((v) => v.id),
          learners: m.learners.map((l) => l.id),
        });
        this.#setMembers(m);
      },
      maybeCompact: (busy: boolean) => this.#maybeCompact(busy),
      installSnapshot: (rd: Ready) => this.#installSnapshot(rd),
    };
  }

  #softState(prev: SoftState, next: SoftState): void {
    if (prev.lead !== next.lead) {
      this.metrics.leaderChanges.inc();
      this.log.info(next.lead ? "leader changed" : "leader lost", {
        leader: next.lead || null,
        previous: prev.lead || null,
        role: next.role,
      });
    } else if (prev.role !== next.role) {
      this.log.debug("role changed", { role: next.role, previous: prev.role });
    }
    if (prev.role === "leader" && next.role !== "leader") {
      this.readSvc.lease.expire();
      this.proposals.rejectAll(
        new LeadershipChangedError(),
        "leadership_changed",
      );
    }
    if (next.lead !== prev.lead) this.forwards.leaderChanged(next.lead || null);
    if (next.lead && next.lead !== prev.lead) this.leaderWaiters.wake();
    this.#observeMetrics();
  }

  async #maybeCompact(busy: boolean): Promise<void> {
    const { snapshotIndex, mem, compactableIndex } = this.storage;
    const upTo = Math.min(this.apply.durableIndex, compactableIndex);
    const index = compactionPoint(mem, upTo, snapshotIndex, this.opts, busy);
    if (index === null) return;
    await this.storage.compact(index, toConfState(this.apply.membership));
    this.log.debug("log compacted", { index });
  }

  async #installSnapshot(rd: Ready): Promise<void> {
    const snap = rd.snapshot!;
    const staged = this.#snapshots.take(snap.data);
    this.#setMembers(staged.membership);
    await this.apply.install({ ...snap.meta, ...staged });
    this.log.info("snapshot installed", {
      index: snap.meta.index,
      snapshotTerm: snap.meta.term,
      records: staged.records.length,
    });
  }

  #observeMetrics(): void {
    observeStatus(this.metrics, this.node.status(), this.apply.appliedIndex);
    this.metrics.liveBytes.set(this.apply.sm.liveBytes);
  }
}

function shuttingDown(): UnavailableError {
  return new UnavailableError("Node is shutting down");
}

/** Turns a core ProposalDroppedError into the engine's NotLeaderError. */
export function notLeader(r: Region): NotLeaderError {
  const l = r.leader();
  return new NotLeaderError(l?.id ?? null, l?.url ?? null);
}
