/**
 * RaftKv: the engine the routes see (TiKV's `async_write` /
 * `async_snapshot`). It proposes commands, serves the three read
 * consistencies, and reports status. All Raft work happens in PeerFsm.
 * @module
 */
import type { KeyRange, KvCommand, TxnOp } from "../kv/types.ts";
import { context } from "@opentelemetry/api";
import { decodeCommand, encodeCommand } from "../kv/codec.ts";
import type { ForwardRequest } from "../transport/forward_wire.ts";
import { contextOf, traceparentOf } from "../transport/wire.ts";
import { toFailure } from "./forward_queue.ts";
import type { KvStateMachine } from "../kv/state_machine.ts";
import { ATTR, REGION_ID, SPAN } from "../telemetry/names.ts";
import { failSpan, startChildSpan } from "../telemetry/spans.ts";
import type { ClusterStatus, Consistency, Engine, ReadView, WriteResult } from "./types.ts";
import {
  MembershipError,
  NoSpaceError,
  NotLeaderError,
  NotMemberError,
  TimeoutError,
  UnavailableError,
} from "./errors.ts";
import type { Region } from "./region.ts";
import { clusterStatus } from "./status.ts";
import type { Watch, WatchHub, WatchSink } from "./watch_hub.ts";
import { checkQuorumAfter } from "./reconfig_check.ts";

const OK = { outcome: "ok" } as const;

/** How far behind the commit index a learner may be and still be promoted. */
const PROMOTE_LAG = 1000;

/** True for a txn with `get` ops: its answer carries values. */
function readsValues(cmd: KvCommand): boolean {
  return cmd.type === "txn" && [...cmd.success, ...cmd.failure].some((op) => op.op === "get");
}

/** The `method` label of `raftkv_forwarded_requests_total` for a forwarded command. */
const METHOD_OF: Record<KvCommand["type"], string> = {
  put: "PUT",
  delete: "DELETE",
  deleteRange: "DELETE",
  txn: "POST",
};

export class RaftKv implements Engine {
  #closed = false;
  /** Bound on the live keys and values, in code units (0: none); `--quota-bytes`. */
  quotaBytes = 0;

  constructor(
    readonly region: Region,
    readonly sm: KvStateMachine,
    /** Set again when a joining node adopts its cluster's id (`cluster_id.ts`). */
    public clusterId: string,
    readonly watches: WatchHub,
    /** Followers send writes to the leader on the peer stream (`main.ts`). */
    readonly forwardWrites = false,
  ) {
    region.serveForwards = (from, reqs) => this.#serveForwards(from, reqs);
  }

  get id(): string {
    return this.region.id;
  }

  /**
   * Proposes `cmd` and resolves once it is applied. On a follower the write
   * goes to the leader on the peer stream when `forwardWrites` is on (else
   * NotLeaderError, and the routes forward the HTTP request); `local` (a
   * write another node forwarded) never travels on.
   */
  async asyncWrite(
    cmd: KvCommand,
    opts?: { signal?: AbortSignal; local?: boolean },
  ): Promise<WriteResult> {
    const r = this.region;
    this.#checkOpen();
    this.#checkQuota(cmd);
    const lead = await this.#leadership(opts?.signal);
    if (lead !== "self") {
      // Forwarding is the common follower path: no error (and stack) per write.
      // A txn that reads answers with values (up to its ops x 1 MiB): it
      // goes over HTTP, not as one item of a peer frame.
      const stream = this.forwardWrites && !opts?.local && !readsValues(cmd);
      if (lead && stream) return await this.#forward(cmd, lead.id);
      throw new NotLeaderError(lead?.id ?? null, lead?.url ?? null);
    }
    const span = startChildSpan(SPAN.propose);
    span?.setAttributes({
      [ATTR.node]: r.id,
      [ATTR.op]: cmd.type,
      [ATTR.region]: REGION_ID,
      [ATTR.term]: r.term,
    });
    try {
      const res = await r.propose(encodeCommand(cmd), span, cmd.type === "put" ? cmd : undefined);
      span?.setAttribute(ATTR.index, res.index);
      return res;
    } catch (e) {
      failSpan(span, e);
      throw e;
    } finally {
      span?.end();
    }
  }

  /** A follower's write, sent to `leader` in a `raftkv.forward` span. */
  async #forward(cmd: KvCommand, leader: string): Promise<WriteResult> {
    const span = startChildSpan(SPAN.forward);
    span?.setAttributes({ [ATTR.node]: this.id, [ATTR.leader]: leader, [ATTR.op]: cmd.type });
    this.region.metrics.forwarded.inc({ method: METHOD_OF[cmd.type] });
    try {
      const tp = span ? traceparentOf(span.spanContext()) : undefined;
      return await this.region.forwardWrite(leader, encodeCommand(cmd), tp);
    } catch (e) {
      failSpan(span, e);
      throw e;
    } finally {
      span?.end();
    }
  }

  /** Proposes writes `from` forwarded here and sends back each outcome. */
  #serveForwards(from: string, reqs: readonly ForwardRequest[]): void {
    for (const f of reqs) {
      let cmd: KvCommand;
      try {
        cmd = decodeCommand(f.data);
      } catch (e) {
        // Nothing was proposed: the follower may say so.
        const error = { name: "UnavailableError", message: `Bad forwarded write: ${e}` };
        this.region.transport.forward(from, { replies: [{ id: f.id, error }] });
        continue;
      }
      context.with(contextOf(f.traceparent), () => this.asyncWrite(cmd, { local: true })).then(
        (w) => ({ id: f.id, index: w.index, result: w.result }),
        (e) => ({ id: f.id, error: toFailure(e) }),
      ).then((reply) => this.region.transport.forward(from, { replies: [reply] }));
    }
  }

  async asyncSnapshot(
    consistency: Consistency,
    opts?: { signal?: AbortSignal },
  ): Promise<ReadView> {
    this.#checkOpen();
    if (consistency === "stale") return this.#view();
    if (consistency === "lease") {
      await this.#requireLeader(opts?.signal);
      await this.region.leaseRead();
      return this.#view();
    }
    const span = startChildSpan(SPAN.readIndex);
    span?.setAttributes({ [ATTR.node]: this.region.id, [ATTR.region]: REGION_ID });
    const reads = this.region.metrics.readIndex;
    try {
      if (!this.region.leader()) await this.#waitLeader(opts?.signal);
      await this.region.readIndex();
      reads.inc(OK);
      return this.#view();
    } catch (e) {
      reads.inc({ outcome: outcomeOf(e) });
      failSpan(span, e);
      throw e;
    } finally {
      span?.end();
    }
  }

  async addMember(m: { id: string; url: string; learner: boolean }): Promise<number> {
    this.#checkOpen();
    await this.#requireLeader();
    const known = [...this.region.members.voters, ...this.region.members.learners];
    const cur = known.find((x) => x.id === m.id);
    if (cur && cur.url !== m.url) {
      throw new MembershipError(`Member "${m.id}" exists with URL "${cur.url}"`);
    }
    const sameUrl = known.find((x) => x.id !== m.id && x.url === m.url);
    if (sameUrl) throw new MembershipError(`URL "${m.url}" is member "${sameUrl.id}"'s`);
    if (cur && !m.learner && this.region.members.learners.some((l) => l.id === m.id)) {
      this.#checkCaughtUp(m.id);
    }
    const voters = this.region.members.voters.map((v) => v.id);
    if (!m.learner && !voters.includes(m.id)) {
      checkQuorumAfter(`Adding voter "${m.id}"`, voters, [...voters, m.id], this.#reachable);
    } else if (m.learner && voters.includes(m.id)) {
      const rest = voters.filter((v) => v !== m.id);
      checkQuorumAfter(`Demoting voter "${m.id}"`, voters, rest, this.#reachable);
    }
    const type = m.learner ? "addLearner" : "addVoter";
    return await this.region.changeMembership({ type, nodeId: m.id, context: m.url });
  }

  /**
   * A learner becomes a voter only once it has most of the log (etcd's
   * "learner not in sync"): a voter that cannot ack shrinks the margin of
   * failures the cluster survives, or stalls it.
   */
  #checkCaughtUp(id: string): void {
    const st = this.region.status();
    const match = st.progress[id]?.match ?? 0;
    if (match === 0 || match + PROMOTE_LAG < st.commit) {
      throw new MembershipError(
        `Learner "${id}" is not caught up (it has ${match} of ${st.commit} entries); promote it later`,
      );
    }
  }

  /**
   * Heard from within an election timeout, and at least a second (with very
   * short ticks, jitter alone would refuse changes to a healthy cluster);
   * this node always.
   */
  readonly #reachable = (id: string): boolean => {
    const r = this.region;
    const seen = r.lastContact.get(id);
    const now = r.opts.now?.() ?? performance.now();
    const window = Math.max(r.opts.electionTicks * r.opts.tickMs, 1000);
    return id === r.id || (seen !== undefined && now - seen <= window);
  };

  async removeMember(id: string): Promise<number> {
    this.#checkOpen();
    await this.#requireLeader();
    if (!this.region.view.has(id)) throw new NotMemberError(id);
    const m = this.region.members;
    if (m.voters.length === 1 && m.voters[0]!.id === id) {
      throw new MembershipError("Cannot remove the last voter");
    }
    const voters = m.voters.map((v) => v.id);
    if (voters.includes(id)) {
      const rest = voters.filter((v) => v !== id);
      checkQuorumAfter(`Removing voter "${id}"`, voters, rest, this.#reachable);
    }
    return await this.region.changeMembership({ type: "remove", nodeId: id, context: "" });
  }

  async transferLeader(id: string): Promise<void> {
    this.#checkOpen();
    await this.#requireLeader();
    if (!this.region.view.has(id)) throw new NotMemberError(id);
    if (!this.region.members.voters.some((v) => v.id === id)) {
      throw new MembershipError(`"${id}" is not a voter`);
    }
    if (id === this.region.id) return;
    await this.region.transferLeadership(id);
  }

  watch(range: KeyRange, fromIndex: number | null, sink: WatchSink): Watch {
    this.#checkOpen();
    return this.watches.watch(range, fromIndex, sink);
  }

  leader(): { id: string; url: string } | null {
    return this.region.leader();
  }

  status(): ClusterStatus {
    return clusterStatus(this.region, this.clusterId);
  }

  ready(): boolean {
    return this.unreadyReason() === null;
  }

  unreadyReason(): string | null {
    if (this.#closed) return "the node is shutting down";
    if (this.region.view.removed) return "this node was removed from the cluster";
    if (this.region.leader() === null) return "no leader known";
    if (!this.region.caughtUp()) return "not caught up with the commit index yet";
    return null;
  }

  /**
   * On shutdown, after {@link close}: resolves once no write waits here for
   * its outcome (each committed or timed out, as without the shutdown), or
   * after `timeoutMs`; false then. Ticks must go on meanwhile.
   */
  async drainWrites(timeoutMs: number): Promise<boolean> {
    const end = performance.now() + timeoutMs;
    while (this.region.writesInFlight > 0) {
      if (performance.now() >= end) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  }

  /**
   * On shutdown (etcd does the same): a leader moves leadership to the
   * voter furthest along, so writes pause for one transfer, not for an
   * election timeout. Bounded by the transfer's own deadline; best effort.
   * Returns the new leader, or null.
   */
  async handOffLeadership(): Promise<string | null> {
    if (!this.region.isLeader()) return null;
    const st = this.region.status();
    const to = this.region.members.voters
      .filter((v) => v.id !== this.id && st.progress[v.id] !== undefined)
      .sort((a, b) => st.progress[b.id]!.match - st.progress[a.id]!.match)[0];
    if (!to) return null;
    try {
      await this.region.transferLeadership(to.id);
      return to.id;
    } catch {
      return null;
    }
  }

  /** Refuses new requests and ends every watch stream (so the server can drain). */
  close(): void {
    this.#closed = true;
    this.watches.close();
  }

  #view(): ReadView {
    const sm = this.sm;
    return {
      index: this.region.appliedIndex,
      get: (key) => sm.get(key),
      range: (range, opts) => sm.range(range, opts),
    };
  }

  #checkOpen(): void {
    if (this.#closed) throw new UnavailableError("Node is shutting down");
    if (this.region.view.removed) {
      throw new UnavailableError("This node was removed from the cluster");
    }
  }

  /** Throws NotLeaderError naming the leader, after waiting a while for one. */
  async #requireLeader(signal?: AbortSignal): Promise<void> {
    const lead = await this.#leadership(signal);
    if (lead !== "self") throw new NotLeaderError(lead?.id ?? null, lead?.url ?? null);
  }

  /** "self" when this node leads, else the leader (null if none), after waiting a while for one. */
  async #leadership(signal?: AbortSignal): Promise<"self" | { id: string; url: string } | null> {
    if (this.region.isLeader()) return "self";
    if (!this.region.leader()) await this.#waitLeader(signal);
    return this.region.isLeader() ? "self" : this.region.leader();
  }

  async #waitLeader(signal?: AbortSignal): Promise<void> {
    try {
      await this.region.waitForLeader(signal);
    } catch (e) {
      if (e instanceof TimeoutError) throw new NotLeaderError(null, null);
      throw e;
    }
  }

  /** Refuses writes that add data once the live data would pass the quota. */
  #checkQuota(cmd: KvCommand): void {
    const quota = this.quotaBytes;
    if (quota === 0) return;
    const live = this.sm.liveBytes;
    // Nearly every write fits even with nothing credited: no lookups then.
    if (live + growth(cmd, null) <= quota) return;
    const adding = growth(cmd, this.sm);
    if (adding > 0 && live + adding > quota) throw new NoSpaceError(quota, live, adding);
  }
}

/**
 * Code units a command may add to the live data: a put's key and value,
 * less (with `sm`) the record it replaces, so an overwrite with a smaller
 * value frees room; for a txn, the larger of its branches (one of them
 * runs), its deletes not counted.
 */
function growth(cmd: KvCommand, sm: KvStateMachine | null): number {
  if (cmd.type === "put") return putGrowth(cmd.key, cmd.value, sm);
  if (cmd.type !== "txn") return 0;
  return Math.max(branchGrowth(cmd.success, sm), branchGrowth(cmd.failure, sm));
}

function branchGrowth(ops: readonly TxnOp[], sm: KvStateMachine | null): number {
  let n = 0;
  for (const op of ops) if (op.op === "put") n += putGrowth(op.key, op.value, sm);
  return n;
}

function putGrowth(key: string, value: string, sm: KvStateMachine | null): number {
  const cur = sm?.get(key);
  return key.length + value.length - (cur ? cur.key.length + cur.value.length : 0);
}

/** A metric label for a failure: NotLeaderError -> not_leader, as API codes read. */
export function outcomeOf(e: unknown): string {
  const name = e instanceof Error ? e.name.replace(/Error$/, "") : "";
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase() || "error";
}
