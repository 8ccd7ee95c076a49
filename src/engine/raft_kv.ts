/**
 * RaftKv: the engine the routes see (TiKV's `async_write` /
 * `async_snapshot`). It proposes commands, serves the three read
 * consistencies, and reports status. All Raft work happens in PeerFsm.
 * @module
 */
import type { KeyRange, KvCommand } from "../kv/types.ts";
import { encodeCommand } from "../kv/codec.ts";
import type { KvStateMachine } from "../kv/state_machine.ts";
import { ATTR, REGION_ID, SPAN } from "../telemetry/names.ts";
import { failSpan, startChildSpan } from "../telemetry/spans.ts";
import type { ClusterStatus, Consistency, Engine, ReadView, WriteResult } from "./types.ts";
import { MembershipError, NotLeaderError, TimeoutError, UnavailableError } from "./errors.ts";
import type { Region } from "./region.ts";
import { clusterStatus } from "./status.ts";
import type { Watch, WatchHub, WatchSink } from "./watch_hub.ts";

const OK = { outcome: "ok" } as const;

export class RaftKv implements Engine {
  #closed = false;

  constructor(
    readonly region: Region,
    readonly sm: KvStateMachine,
    readonly clusterId: string,
    readonly watches: WatchHub,
  ) {}

  get id(): string {
    return this.region.id;
  }

  async asyncWrite(
    cmd: KvCommand,
    opts?: { signal?: AbortSignal },
  ): Promise<WriteResult> {
    const r = this.region;
    this.#checkOpen();
    await this.#requireLeader(opts?.signal);
    const span = startChildSpan(SPAN.propose);
    span?.setAttributes({
      [ATTR.node]: r.id,
      [ATTR.op]: cmd.type,
      [ATTR.region]: REGION_ID,
      [ATTR.term]: r.term,
    });
    try {
      const res = await r.propose(encodeCommand(cmd), span);
      span?.setAttribute(ATTR.index, res.index);
      return res;
    } catch (e) {
      failSpan(span, e);
      throw e;
    } finally {
      span?.end();
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
      reads.inc({ outcome: e instanceof Error ? e.name : "error" });
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
    const type = m.learner ? "addLearner" : "addVoter";
    return await this.region.changeMembership({ type, nodeId: m.id, context: m.url });
  }

  async removeMember(id: string): Promise<number> {
    this.#checkOpen();
    await this.#requireLeader();
    const m = this.region.members;
    if (![...m.voters, ...m.learners].some((x) => x.id === id)) {
      throw new MembershipError(`"${id}" is not a member`);
    }
    if (m.voters.length === 1 && m.voters[0]!.id === id) {
      throw new MembershipError("Cannot remove the last voter");
    }
    return await this.region.changeMembership({ type: "remove", nodeId: id, context: "" });
  }

  async transferLeader(id: string): Promise<void> {
    this.#checkOpen();
    await this.#requireLeader();
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
    return !this.#closed && this.region.leader() !== null &&
      this.region.caughtUp();
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
  }

  /** Throws NotLeaderError naming the leader, after waiting a while for one. */
  async #requireLeader(signal?: AbortSignal): Promise<void> {
    if (this.region.isLeader()) return;
    if (!this.region.leader()) await this.#waitLeader(signal);
    if (this.region.isLeader()) return;
    const l = this.region.leader();
    throw new NotLeaderError(l?.id ?? null, l?.url ?? null);
  }

  async #waitLeader(signal?: AbortSignal): Promise<void> {
    try {
      await this.region.waitForLeader(signal);
    } catch (e) {
      if (e instanceof TimeoutError) throw new NotLeaderError(null, null);
      throw e;
    }
  }
}
