/**
 * One RawNode over MemoryStorage, driven by hand: step messages in, drain
 * Readies (persisting them), inspect what it sent. For the paper tests.
 */
import {
  type Entry,
  type HardState,
  MemoryStorage,
  type Message,
  type NodeId,
  RawNode,
  type ReadState,
  type Ready,
} from "../../../src/raft/mod.ts";
import { type NetOptions, testConfig } from "./network.ts";

export interface PeerInit extends NetOptions {
  /** Initial log (entries from index 1 unless a snapshot is given). */
  entries?: Entry[];
  hardState?: HardState;
  snapshotIndex?: number;
  snapshotTerm?: number;
  applied?: number;
}

/** A RawNode plus its storage, with helpers for hand-driven tests. */
export class Peer {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  raw: RawNode;
  applied: Entry[] = [];
  readStates: ReadState[] = [];
  readies: Ready[] = [];

  constructor(id: NodeId, voters: NodeId[], init: PeerInit = {}) {
    this.id = id;
    const confState = { voters, learners: init.learners ?? [] };
    this.storage = new MemoryStorage({
      snapshot: {
        index: init.snapshotIndex ?? 0,
        term: init.snapshotTerm ?? 0,
        confState,
      },
      entries: init.entries ?? [],
      ...(init.hardState ? { hardState: init.hardState } : {}),
    });
    this.raw = new RawNode({ ...testConfig(id, init), applied: init.applied ?? 0 }, this.storage);
  }

  step(...msgs: Message[]): this {
    for (const m of msgs) this.raw.step(m);
    return this;
  }

  tick(n = 1): this {
    for (let i = 0; i < n; i++) this.raw.tick();
    return this;
  }

  /** Handles Readies until there are none; returns every message sent. */
  drain(): Message[] {
    const out: Message[] = [];
    while (this.raw.hasReady()) {
      const rd = this.raw.ready();
      if (rd.snapshot) this.storage.applySnapshot(rd.snapshot);
      this.storage.append(rd.entries);
      if (rd.hardState) this.storage.setHardState(rd.hardState);
      out.push(...rd.messages, ...rd.persistedMessages);
      this.applied.push(...rd.committedEntries);
      this.readStates.push(...rd.readStates);
      this.readies.push(rd);
      this.raw.advance(rd);
    }
    return out;
  }

  status() {
    return this.raw.status();
  }

  /** The whole log (storage only: call after drain()). */
  log(): Entry[] {
    const first = this.storage.firstIndex();
    const last = this.storage.lastIndex();
    return last < first ? [] : this.storage.entries(first, last + 1, Infinity);
  }
}

/**
 * Makes `p` leader of `term`-ish by campaigning and feeding it grants from
 * `voters` (no pre-vote in paper tests unless enabled). Returns the
 * messages sent after becoming leader.
 */
export function makeLeader(p: Peer, grantFrom: NodeId[]): Message[] {
  p.raw.campaign();
  let msgs = p.drain();
  for (let round = 0; round < 2 && p.status().role !== "leader"; round++) {
    const reqs = msgs.filter((m) => m.type === "vote" || m.type === "preVote");
    for (const m of reqs) {
      if (!grantFrom.includes(m.to)) continue;
      p.raw.step({
        type: m.type === "vote" ? "voteResp" : "preVoteResp",
        from: m.to,
        to: p.id,
        term: m.term,
        reject: false,
      });
    }
    msgs = p.drain();
  }
  if (p.status().role !== "leader") throw new Error(`${p.id} did not win`);
  return msgs;
}
