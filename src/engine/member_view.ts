/**
 * The membership a node acts on (its address book), and who is out of it:
 * peers a membership change removed (their streams are refused with 410,
 * etcd's "member removed") and whether this node itself was removed. A
 * removed node seldom hears of its own removal (the leader stops
 * replicating to it once the change applies), so a member's 410 tells it.
 * @module
 */
import type { Membership } from "../storage/stores.ts";

export class MemberView {
  #members: Membership;
  /** Ids a membership change removed (while this process runs); re-adding clears one. */
  readonly #removedPeers = new Set<string>();
  #toldRemoved = false;

  constructor(readonly self: string, members: Membership) {
    this.#members = members;
    this.#inMembers = this.has(self);
  }

  get members(): Membership {
    return this.#members;
  }

  /** True when `id` is a voter or a learner. */
  has(id: string): boolean {
    const m = this.#members;
    return m.voters.some((v) => v.id === id) || m.learners.some((l) => l.id === id);
  }

  /** Whether this node is in its membership (kept: requests read it). */
  #inMembers: boolean;

  /** This node is not a member any more: its membership says so, or a member told it. */
  get removed(): boolean {
    return this.#toldRemoved || !this.#inMembers;
  }

  /**
   * The membership in force: ids that left are refused from now on, ids in
   * it are not, and this node, if in it again, serves again.
   */
  set(m: Membership): void {
    const next = new Set([...m.voters, ...m.learners].map((x) => x.id));
    for (const x of [...this.#members.voters, ...this.#members.learners]) {
      if (!next.has(x.id)) this.#removedPeers.add(x.id);
    }
    for (const id of next) this.#removedPeers.delete(id);
    if (next.has(this.self)) this.#toldRemoved = false;
    this.#members = m;
    this.#inMembers = next.has(this.self);
  }

  /** A member refused this node's stream as removed; true the first time. */
  toldRemoved(): boolean {
    if (this.#toldRemoved) return false;
    return this.#toldRemoved = true;
  }

  /** A member told this node it was removed (and no leader replicated to it since). */
  get told(): boolean {
    return this.#toldRemoved;
  }

  /** A leader replicates here: a 410 seen earlier no longer holds; true if one did. */
  replicatedTo(): boolean {
    if (!this.#toldRemoved) return false;
    this.#toldRemoved = false;
    return true;
  }

  /** True for a peer a membership change removed. */
  isRemovedPeer(id: string): boolean {
    return this.#removedPeers.has(id);
  }
}
