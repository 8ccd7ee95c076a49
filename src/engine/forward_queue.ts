/**
 * A follower's writes waiting at the leader (forwarded on the peer stream,
 * see `transport/forward_wire.ts`). Each waits for the leader's reply; a
 * reply that never comes (leader crashed, stream cut) leaves the outcome
 * unknown, so the waiter fails with LeadershipChangedError when this node
 * sees the leader change, or TimeoutError at its deadline (swept per tick:
 * no timer per request).
 * @module
 */
import type { KvResult } from "../kv/types.ts";
import type { ForwardFailure, ForwardReply } from "../transport/forward_wire.ts";
import {
  LeadershipChangedError,
  NoSpaceError,
  NotLeaderError,
  TimeoutError,
  UnavailableError,
} from "./errors.ts";
import type { WriteResult } from "./types.ts";

interface Waiter {
  readonly deadline: number;
  readonly leader: string;
  resolve(r: WriteResult): void;
  reject(e: Error): void;
}

export class ForwardQueue {
  #waiters = new Map<number, Waiter>();
  #next = 1;

  get size(): number {
    return this.#waiters.size;
  }

  /** A new request id and the promise its reply settles. */
  add(leader: string, deadline: number): { id: number; done: Promise<WriteResult> } {
    const id = this.#next++;
    const done = new Promise<WriteResult>((resolve, reject) => {
      this.#waiters.set(id, { deadline, leader, resolve, reject });
    });
    return { id, done };
  }

  /**
   * Settles the waiter a reply names (unknown ids: already timed out), if
   * the reply comes `from` the leader the write went to: ids count from 1,
   * and no other node may say how a write ended.
   */
  settle(r: ForwardReply, from: string): void {
    const w = this.#waiters.get(r.id);
    if (!w || w.leader !== from) return;
    this.#waiters.delete(r.id);
    if (r.error) w.reject(toError(r.error));
    else w.resolve({ index: r.index!, result: (r.result ?? null) as KvResult });
  }

  /** The leader is now `leader`: writes sent to another one have an unknown outcome. */
  leaderChanged(leader: string | null): void {
    for (const [id, w] of this.#waiters) {
      if (w.leader === leader) continue;
      this.#waiters.delete(id);
      w.reject(new LeadershipChangedError());
    }
  }

  sweep(now: number): void {
    for (const [id, w] of this.#waiters) {
      if (w.deadline > now) continue;
      this.#waiters.delete(id);
      w.reject(new TimeoutError("Write"));
    }
  }

  rejectAll(e: Error): void {
    const ws = [...this.#waiters.values()];
    this.#waiters.clear();
    for (const w of ws) w.reject(e);
  }
}

/** The leader's failure as the engine error it was; unknown kinds keep the outcome unknown. */
function toError(f: ForwardFailure): Error {
  switch (f.name) {
    case "NoSpaceError": {
      // Refused before it was proposed: nothing changed (a 507, not unknown).
      const [quota, live, adding] = (f.space ?? []) as number[];
      const ok = [quota, live, adding].every(Number.isSafeInteger);
      return ok ? new NoSpaceError(quota!, live!, adding!) : new LeadershipChangedError();
    }
    case "NotLeaderError":
      return new NotLeaderError(f.leaderId ?? null, f.leaderUrl ?? null);
    case "UnavailableError":
      return new UnavailableError(f.message);
    case "TimeoutError":
      return new TimeoutError("Write");
    default:
      return new LeadershipChangedError();
  }
}

/** An engine error as a reply's failure. */
export function toFailure(e: unknown): ForwardFailure {
  if (e instanceof NotLeaderError) {
    return { name: e.name, message: e.message, leaderId: e.leaderId, leaderUrl: e.leaderUrl };
  }
  if (e instanceof NoSpaceError) {
    return { name: e.name, message: e.message, space: [e.quota, e.live, e.adding] };
  }
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: "Error", message: String(e) };
}
