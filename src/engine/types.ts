/**
 * The engine's face towards the routes (TiKV's RaftKv `async_write` /
 * `async_snapshot`). Routes see only this interface; tests pass fakes.
 * @module
 */
import type { KeyRange, KvCommand, KvRecord, KvResult } from "../kv/types.ts";
import type { Watch, WatchSink } from "./watch_hub.ts";

export type Consistency = "linearizable" | "lease" | "stale";

/** Everything a route needs to know about the cluster (API.md §6). */
export interface ClusterStatus {
  readonly clusterId: string;
  readonly leader: string | null;
  readonly term: number;
  readonly members: readonly {
    readonly id: string;
    readonly url: string;
    readonly role: "voter" | "learner";
    readonly matchIndex?: number;
    readonly lastContactMs?: number | null;
  }[];
  readonly self: {
    readonly id: string;
    readonly state: "leader" | "follower" | "candidate";
    readonly commitIndex: number;
    readonly appliedIndex: number;
    readonly lastIndex: number;
    readonly snapshotIndex: number;
  };
}

/** A read view at an applied index (TiKV's `async_snapshot` result). */
export interface ReadView {
  /** The applied index at which every answer of this view holds. */
  readonly index: number;
  get(key: string): KvRecord | null;
  /** Records of `range` in key order (or reverse), at most `limit`. */
  range(
    range: KeyRange,
    opts: { readonly limit: number; readonly reverse: boolean },
  ): KvRecord[];
}

export interface WriteResult {
  readonly result: KvResult;
  /** Log index of the entry that carried the command (= applied index). */
  readonly index: number;
}

export interface Engine {
  /** This node's id. */
  readonly id: string;
  /**
   * Propose `cmd` and resolve once applied. Rejects with NotLeaderError (the
   * route forwards), LeadershipChangedError / TimeoutError (outcome unknown),
   * UnavailableError (shutting down).
   */
  asyncWrite(
    cmd: KvCommand,
    opts?: { signal?: AbortSignal },
  ): Promise<WriteResult>;
  /**
   * A consistent view for reads. Linearizable waits for ReadIndex (forwarded
   * to the leader by the engine when this node is a follower); lease needs
   * this node to be the leader with a valid lease (else NotLeaderError).
   */
  asyncSnapshot(
    consistency: Consistency,
    opts?: { signal?: AbortSignal },
  ): Promise<ReadView>;
  /**
   * Streams the changes in `range` this node applies to `sink` (API.md §5):
   * first the held ones with modIndex >= `fromIndex` (null: none, live
   * only). Throws CompactedError when that history is gone,
   * UnavailableError when shutting down.
   */
  watch(range: KeyRange, fromIndex: number | null, sink: WatchSink): Watch;
  /** Leader id and URL as this node knows them. */
  leader(): { id: string; url: string } | null;
  status(): ClusterStatus;
  /** True when a leader is known and applied has reached the known commit. */
  ready(): boolean;
  /** Why it is not ready (shutting down, removed, no leader, behind), or null. */
  unreadyReason(): string | null;
  /**
   * Adds a voter or learner through the log (§4.1); resolves with the
   * entry's index once applied. Rejects like asyncWrite.
   */
  addMember(m: { id: string; url: string; learner: boolean }): Promise<number>;
  /** Removes a member through the log; resolves once applied. */
  removeMember(id: string): Promise<number>;
  /** Moves leadership to voter `id` (thesis §3.10); resolves when it leads. */
  transferLeader(id: string): Promise<void>;
}
