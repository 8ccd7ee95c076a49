/**
 * The node's handle on the core (etcd `RawNode`): feed it ticks, messages
 * and proposals; take a {@link Ready}; persist, send and apply it; call
 * advance(). Not thread-safe, synchronous, and free of I/O.
 * @module
 */
import type { RaftConfig } from "./config.ts";
import type { Storage } from "./storage.ts";
import type { Message } from "./messages.ts";
import type { Ready } from "./ready.ts";
import type { ConfChange, HardState, NodeId, SoftState } from "./types.ts";
import { Raft } from "./raft.ts";
import { RaftError } from "./errors.ts";
import { hup } from "./election.ts";
import {
  flushPending,
  hasPendingFlush,
  propose,
  serveRead,
  transferLeader,
} from "./step_leader.ts";
import { encodeConfChange, isValidConfChange } from "./conf_change.ts";
import { getBasicStatus, getStatus } from "./status.ts";
import { applyConfEntry } from "./membership.ts";
import type { BasicStatus, Status } from "./status.ts";

export type { Status } from "./status.ts";

/** A Raft peer driven by the node. See `ready.ts` for the loop. */
export class RawNode {
  #r: Raft;
  #prevSoft: SoftState;
  #prevHard: HardState;
  /** Messages to self taken from the in-flight Ready; stepped in advance(). */
  #stepsOnAdvance: Message[] = [];
  #inFlight = false;

  /**
   * Starts as a follower. A restarted node resumes the term, vote and
   * commit of `storage`'s hard state; `config.applied` says what the state
   * machine already holds; membership is `storage.initialState().confState`.
   */
  constructor(config: RaftConfig, storage: Storage) {
    this.#r = new Raft(config, storage);
    this.#prevSoft = this.#r.softState();
    this.#prevHard = this.#r.hardState();
  }

  /** Advances logical time by one tick (elections, heartbeats, timeouts). */
  tick(): void {
    this.#r.tick();
  }

  /** Starts an election now (pre-vote first when enabled). */
  campaign(): void {
    hup(this.#r, this.#r.cfg.preVote ? "preElection" : "election");
  }

  /**
   * Steps a message from a peer. Messages addressed to another node or
   * claiming to come from this one are ignored; never throws on input a
   * peer could send.
   */
  step(m: Message): void {
    if (m.to !== this.#r.id || m.from === this.#r.id) return;
    this.#r.step(m);
  }

  /**
   * Proposes `data` (leader only). Returns where it will commit if it
   * does; it may still be lost if leadership changes. Throws
   * ProposalDroppedError.
   */
  propose(data: string): { index: number; term: number } {
    return propose(this.#r, "normal", data);
  }

  /**
   * Proposes a membership change. Throws ProposalDroppedError if not the
   * leader, a conf change is pending (not yet applied), or the leader has
   * not committed an entry of its term; TypeError if `cc` is malformed.
   */
  proposeConfChange(cc: ConfChange): { index: number; term: number } {
    if (!isValidConfChange(cc)) {
      throw new TypeError(`Cannot propose conf change for "${cc.nodeId}": malformed`);
    }
    return propose(this.#r, "conf", encodeConfChange(cc));
  }

  /**
   * Asks for a linearizable read index (thesis §6.4). The answer arrives as
   * a Ready.readStates entry with this `context`. Returns false if dropped
   * because no leader is known; a forwarded read may still be lost (the
   * caller times it out).
   */
  readIndex(context: string): boolean {
    const r = this.#r;
    if (r.role === "leader") {
      serveRead(r, { from: r.id, context });
      return true;
    }
    if (r.lead === "") return false;
    r.send({ type: "readIndex", from: r.id, to: r.lead, term: r.term, context });
    return true;
  }

  /** Leader only: hands leadership to voter `to` (thesis §3.10). */
  transferLeader(to: NodeId): void {
    transferLeader(this.#r, to);
  }

  /**
   * The node reports whether a MsgSnap to `to` was delivered; on failure
   * the leader probes again (and sends a new snapshot if still needed).
   */
  reportSnapshot(to: NodeId, status: "finish" | "failure"): void {
    const pr = this.#r.role === "leader" ? this.#r.trk.progress.get(to) : undefined;
    if (!pr || pr.state !== "snapshot") return;
    if (status === "failure") pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for the follower's ack (or the next heartbeat) before probing.
    pr.msgAppFlowPaused = true;
  }

  /** The node reports `to` unreachable: stop streaming, probe instead. */
  reportUnreachable(to: NodeId): void {
    const pr = this.#r.role === "leader" ? this.#r.trk.progress.get(to) : undefined;
    if (pr?.state === "replicate") pr.becomeProbe();
  }

  /** True if ready() has something to do. False while a Ready is in flight. */
  hasReady(): boolean {
    if (this.#inFlight) return false;
    const r = this.#r;
    if (hasPendingFlush(r)) return true;
    if (!softEqual(r.softState(), this.#prevSoft)) return true;
    if (!hardEqual(r.hardState(), this.#prevHard)) return true;
    return r.msgs.length > 0 || r.msgsAfterAppend.length > 0 ||
      r.readStates.length > 0 || r.raftLog.nextUnstableSnapshot() !== null ||
      r.raftLog.hasNextUnstableEnts() || r.raftLog.hasNextCommittedEnts();
  }

  /**
   * Everything to persist, send and apply since the last Ready. Only one
   * Ready may be in flight: call advance() before the next ready().
   */
  ready(): Ready {
    if (this.#inFlight) {
      throw new RaftError("Cannot take a Ready: the previous one is not advanced");
    }
    const r = this.#r;
    flushPending(r);
    const soft = r.softState();
    const hard = r.hardState();
    const entries = r.raftLog.nextUnstableEnts();
    const snapshot = r.raftLog.nextUnstableSnapshot();
    const rd: Ready = {
      softState: softEqual(soft, this.#prevSoft) ? null : soft,
      hardState: hardEqual(hard, this.#prevHard) ? null : hard,
      entries,
      snapshot,
      committedEntries: r.raftLog.nextCommittedEnts(),
      messages: r.msgs,
      persistedMessages: r.msgsAfterAppend.filter((m) => m.to !== r.id),
      readStates: r.readStates,
      mustSync: entries.length > 0 || snapshot !== null ||
        hard.term !== this.#prevHard.term || hard.vote !== this.#prevHard.vote,
    };
    this.#accept(rd, soft, hard);
    return rd;
  }

  #accept(rd: Ready, soft: SoftState, hard: HardState): void {
    const r = this.#r;
    this.#prevSoft = soft;
    this.#prevHard = hard;
    this.#stepsOnAdvance = r.msgsAfterAppend.filter((m) => m.to === r.id);
    r.msgs = [];
    r.msgsAfterAppend = [];
    r.readStates = [];
    r.raftLog.acceptUnstable();
    const last = rd.committedEntries.at(-1);
    if (last) r.raftLog.acceptApplying(last.index);
    this.#inFlight = true;
  }

  /**
   * `rd`'s snapshot, entries and hard state are durable and its committed
   * entries applied. Conf changes among them take effect now; the
   * leader's self-ack and the candidate's self-vote are counted now.
   */
  advance(rd: Ready): void {
    for (const m of this.advanceAsync(rd)) this.#r.step(m);
  }

  /**
   * Async storage writes (etcd's AsyncStorageWrites, simplified): the node
   * has mirrored `rd`'s snapshot, entries and hard state into storage but
   * they are not durable yet. Does everything `advance()` does except step
   * the messages to self (the leader's self-ack, a candidate's own vote):
   * they are returned, to be stepped once the write is durable, so this
   * node never counts its own unsynced log towards a quorum (§5.3).
   */
  advanceAsync(rd: Ready): Message[] {
    if (!this.#inFlight) throw new RaftError("Cannot advance: no Ready in flight");
    this.#inFlight = false;
    const r = this.#r;
    if (rd.snapshot) r.raftLog.stableSnapTo(rd.snapshot.meta.index);
    const last = rd.entries.at(-1);
    if (last) r.raftLog.stableTo(last);
    for (const e of rd.committedEntries) {
      if (e.type === "conf") applyConfEntry(r, e);
    }
    const lastApplied = rd.committedEntries.at(-1);
    if (lastApplied) r.raftLog.appliedTo(lastApplied.index);
    const steps = this.#stepsOnAdvance;
    this.#stepsOnAdvance = [];
    return steps;
  }

  /** Steps the self-addressed messages `advanceAsync` returned, once durable. */
  stepDurable(msgs: readonly Message[]): void {
    for (const m of msgs) {
      if (m.to === this.#r.id && m.from === this.#r.id) this.#r.step(m);
    }
  }

  /** Current state, for observers. */
  status(): Status {
    return getStatus(this.#r);
  }

  /** Term, commit index and leader readiness: what a request needs, cheaply. */
  basicStatus(): BasicStatus {
    return getBasicStatus(this.#r);
  }
}

function softEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.role === b.role;
}

function hardEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
