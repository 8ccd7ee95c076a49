/**
 * A FakeEngine: the Engine interface over the real KvStateMachine, with no
 * Raft underneath. Every write is applied at once at the next index. Tests
 * switch it to follower, make it fail, and dump its state.
 * @module
 */
import { MembershipError, NotLeaderError, NotMemberError } from "../../src/engine/errors.ts";
import type {
  ClusterStatus,
  Consistency,
  Engine,
  ReadView,
  WriteResult,
} from "../../src/engine/types.ts";
import { KvStateMachine } from "../../src/kv/state_machine.ts";
import type { KeyRange, KvCommand } from "../../src/kv/types.ts";
import {
  type Watch,
  WatchHub,
  type WatchOptions,
  type WatchSink,
} from "../../src/engine/watch_hub.ts";

/** Options of {@link FakeEngine}. */
export interface FakeEngineOptions {
  readonly id?: string;
  /** Who leads; null = no leader known. @default this node */
  readonly leader?: { id: string; url: string } | null;
  /** Watch history limits and heartbeat of the real WatchHub inside. */
  readonly watch?: WatchOptions;
}

/** See the module doc. */
export class FakeEngine implements Engine {
  readonly id: string;
  readonly sm = new KvStateMachine();
  /** Applied index: the index of the last write. */
  index = 0;
  leaderInfo: { id: string; url: string } | null;
  isReady = true;
  /** Thrown, in order, by the next engine calls instead of serving them. */
  failures: Error[] = [];
  /** Every command that reached the state machine. */
  readonly commands: KvCommand[] = [];
  /** The consistency of every snapshot asked for. */
  readonly reads: Consistency[] = [];
  members: { id: string; url: string; role: "voter" | "learner" }[];
  /** A real hub, fed by the state machine as the ApplyFsm feeds it. */
  readonly watches: WatchHub;

  constructor(opts: FakeEngineOptions = {}) {
    this.id = opts.id ?? "n1";
    this.watches = new WatchHub(0, opts.watch);
    this.sm.onChange = (c) => this.watches.record(c);
    this.leaderInfo = opts.leader === undefined
      ? { id: this.id, url: `http://${this.id}.test` }
      : opts.leader;
    this.members = [{ id: this.id, url: `http://${this.id}.test`, role: "voter" }];
  }

  get isLeader(): boolean {
    return this.leaderInfo?.id === this.id;
  }

  #check(): void {
    const f = this.failures.shift();
    if (f) throw f;
  }

  #notLeader(): NotLeaderError {
    return new NotLeaderError(
      this.leaderInfo?.id ?? null,
      this.leaderInfo?.url ?? null,
    );
  }

  asyncWrite(cmd: KvCommand): Promise<WriteResult> {
    try {
      this.#check();
      if (!this.isLeader) throw this.#notLeader();
    } catch (err) {
      return Promise.reject(err);
    }
    this.commands.push(cmd);
    const index = ++this.index;
    const result = this.sm.apply(index, cmd);
    this.watches.applied(index);
    return Promise.resolve({ result, index });
  }

  watch(range: KeyRange, fromIndex: number | null, sink: WatchSink): Watch {
    this.#check();
    return this.watches.watch(range, fromIndex, sink);
  }

  asyncSnapshot(consistency: Consistency): Promise<ReadView> {
    try {
      this.#check();
      if (consistency === "lease" && !this.isLeader) throw this.#notLeader();
    } catch (err) {
      return Promise.reject(err);
    }
    this.reads.push(consistency);
    const sm = this.sm;
    return Promise.resolve({
      index: this.index,
      get: (key) => sm.get(key),
      range: (range, opts) => sm.range(range, opts),
    });
  }

  leader(): { id: string; url: string } | null {
    return this.leaderInfo;
  }

  status(): ClusterStatus {
    return {
      clusterId: "c1",
      leader: this.leaderInfo?.id ?? null,
      term: 3,
      members: this.members.map((m) => ({ ...m })),
      self: {
        id: this.id,
        state: this.isLeader ? "leader" : "follower",
        commitIndex: this.index,
        appliedIndex: this.index,
        lastIndex: this.index,
        snapshotIndex: 0,
      },
    };
  }

  /** Runs a membership change as the leader would: checks, then one entry. */
  async #change(check: () => void): Promise<number> {
    this.#check();
    if (!this.isLeader) throw this.#notLeader();
    check();
    return await Promise.resolve(++this.index);
  }

  addMember(m: { id: string; url: string; learner: boolean }): Promise<number> {
    return this.#change(() => {
      const cur = this.members.find((x) => x.id === m.id);
      if (cur && cur.url !== m.url) throw new MembershipError(`"${m.id}" exists`);
      const same = this.members.find((x) => x.id !== m.id && x.url === m.url);
      if (same) throw new MembershipError(`URL "${m.url}" is member "${same.id}"'s`);
      if (!cur) this.members.push({ id: m.id, url: m.url, role: m.learner ? "learner" : "voter" });
    });
  }

  removeMember(id: string): Promise<number> {
    return this.#change(() => {
      if (!this.members.some((x) => x.id === id)) throw new NotMemberError(id);
      this.members = this.members.filter((x) => x.id !== id);
    });
  }

  async transferLeader(id: string): Promise<void> {
    await this.#change(() => {
      const m = this.members.find((x) => x.id === id);
      if (!m) throw new NotMemberError(id);
      const to = m.role === "voter" ? m : undefined;
      if (!to) throw new MembershipError(`"${id}" is not a voter`);
      this.leaderInfo = { id: to.id, url: to.url };
    });
    this.index--; // a transfer writes no entry
  }

  ready(): boolean {
    return this.isReady;
  }

  /** What `unreadyReason()` answers while not ready. */
  unready = "no leader known";

  unreadyReason(): string | null {
    return this.isReady ? null : this.unready;
  }

  /** The whole state as text, to compare before and after a request. */
  dump(): string {
    return JSON.stringify({ index: this.index, records: [...this.sm.entries()] });
  }
}
