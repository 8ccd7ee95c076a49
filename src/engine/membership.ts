/**
 * Membership as the node sees it: the core's ConfState plus each member's
 * URL, which travels in the conf-change entry's context.
 * @module
 */
import type { ConfChange, ConfState } from "../raft/types.ts";
import type { Member, Membership } from "../storage/stores.ts";

export function toConfState(m: Membership): ConfState {
  return {
    voters: m.voters.map((v) => v.id),
    learners: m.learners.map((l) => l.id),
  };
}

/** Applies one single-server change (§4.1); adding a learner as voter promotes it. */
export function applyConfChange(m: Membership, cc: ConfChange): Membership {
  const without = (list: readonly Member[]) => list.filter((x) => x.id !== cc.nodeId);
  const known = [...m.voters, ...m.learners].find((x) => x.id === cc.nodeId);
  const member = { id: cc.nodeId, url: cc.context || known?.url || "" };
  switch (cc.type) {
    case "addVoter":
      return {
        voters: [...without(m.voters), member],
        learners: without(m.learners),
      };
    case "addLearner":
      return {
        voters: without(m.voters),
        learners: [...without(m.learners), member],
      };
    case "remove":
      return { voters: without(m.voters), learners: without(m.learners) };
  }
}

/** id -> URL for every member. */
export function addressBook(m: Membership): Map<string, string> {
  return new Map([...m.voters, ...m.learners].map((x) => [x.id, x.url]));
}

const BOOKS = new WeakMap<Membership, ReadonlyMap<string, string>>();

/** The address book of `m`, built once per Membership (they are never mutated). */
export function addressBookOf(m: Membership): ReadonlyMap<string, string> {
  let book = BOOKS.get(m);
  if (!book) BOOKS.set(m, book = addressBook(m));
  return book;
}
