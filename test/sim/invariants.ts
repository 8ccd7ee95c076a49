/**
 * The safety properties of Raft (paper Figure 3), checked incrementally as
 * the cluster reports what happens, plus per-node monotonicity and ReadIndex
 * linearizability (thesis §6.4). Every check throws a {@link SafetyViolation}.
 *
 * - Election Safety: at most one leader per term, over the whole history.
 * - Leader Append-Only: a leader never overwrites or deletes its entries.
 * - Log Matching: each (index, term) names one entry and one predecessor
 *   term, so by induction two logs agreeing on (index, term) agree before it.
 *   Checked on every log write (the entries of each Ready).
 * - Leader Completeness: a leader of term T holds every entry committed in
 *   a term before T (the paper's wording). Not every entry committed so far:
 *   a candidate can win term T from votes granted before a later term began
 *   and arrive late (sim seed 628079), and such a leader can commit nothing.
 * - State Machine Safety: all nodes apply the same entry at each index and
 *   reach the same state hash (snapshots included).
 * - Monotonic: commit and applied never go back per node, the durable hard
 *   state never goes back, a vote never changes within a term.
 * - ReadIndex: a read's index covers every commit known when it was issued.
 * @module
 */
import {
  type Entry,
  type HardState,
  type NodeId,
  NONE,
  type ReadState,
  type Ready,
  type Snapshot,
} from "../../src/raft/mod.ts";
import type { SimNode } from "./cluster.ts";
import type { ClusterObserver } from "./observer.ts";
import { EntryRegistry } from "./entry_registry.ts";
import { check } from "./violation.ts";

/** Per node: what was last seen, to check it never goes back. */
interface NodeTrack {
  commit: number;
  applied: number;
  /** The latest hard state the core asked to persist (its vote memory). */
  hs: HardState;
  durable: HardState;
  /** Term of the node's last Ready as leader, and its last index then. */
  leaderTerm: number;
  leaderLast: number;
}

/** Counters that show a schedule exercised something. */
export interface SimStats {
  leaders: number;
  applied: number;
  reads: number;
  snapshots: number;
  /** Conf changes committed (first application anywhere). */
  confChanges: number;
}

export class Invariants implements ClusterObserver {
  readonly stats: SimStats = { leaders: 0, applied: 0, reads: 0, snapshots: 0, confChanges: 0 };
  /** The highest commit index any node ever reported: all of it committed. */
  commitHigh = 0;
  /**
   * The term in which each index became committed: the term of the first
   * leader that reported a commit index covering it (followers only learn
   * commit indexes from leaders).
   */
  #commitTerm: number[] = [];
  #commitTermHigh = 0;
  readonly log = new EntryRegistry();
  #leaders = new Map<number, NodeId>();
  #nodes = new Map<NodeId, NodeTrack>();
  #reads = new Map<string, { node: NodeId; required: number }>();

  #track(n: SimNode): NodeTrack {
    let t = this.#nodes.get(n.id);
    if (t === undefined) {
      const hs = n.storage.initialState().hardState;
      t = {
        commit: hs.commit,
        applied: n.sm.index,
        hs,
        durable: hs,
        leaderTerm: 0,
        leaderLast: 0,
      };
      this.#nodes.set(n.id, t);
    }
    return t;
  }

  /** Checks the nodes an event touched: leaders per term, commit, applied. */
  afterEvent(touched: readonly SimNode[]): void {
    for (const n of touched) {
      if (n.raw === null) continue;
      const st = n.raw.status();
      const t = this.#track(n);
      if (st.role === "leader") {
        this.#leader(n.id, st.term);
        for (let i = this.#commitTermHigh + 1; i <= st.commit; i++) this.#commitTerm[i] = st.term;
        this.#commitTermHigh = Math.max(this.#commitTermHigh, st.commit);
      }
      check(st.commit >= t.commit, () => `${n.id} commit went back ${t.commit} -> ${st.commit}`);
      check(st.applied <= st.commit, () => `${n.id} applied ${st.applied} > commit ${st.commit}`);
      check(
        st.lastIndex >= st.commit,
        () => `${n.id} commit ${st.commit} beyond last index ${st.lastIndex}`,
      );
      t.commit = st.commit;
      if (st.commit > this.commitHigh) this.commitHigh = st.commit;
    }
  }

  #leader(id: NodeId, term: number): void {
    const prev = this.#leaders.get(term);
    check(
      prev === undefined || prev === id,
      () => `Election Safety: ${prev} and ${id} both leaders in term ${term}`,
    );
    if (prev === undefined) {
      this.#leaders.set(term, id);
      this.stats.leaders++;
    }
  }

  onReady(n: SimNode, rd: Ready): void {
    const t = this.#track(n);
    this.log.recordWrite(n, rd);
    if (rd.hardState !== null) this.#hardState(n.id, t.hs, rd.hardState);
    if (rd.hardState !== null) t.hs = rd.hardState;
    const st = n.raw?.status();
    if (st?.role !== "leader") return;
    if (t.leaderTerm === st.term) {
      const first = rd.entries[0]?.index ?? Infinity;
      check(
        first > t.leaderLast && rd.snapshot === null,
        () =>
          `Leader Append-Only: ${n.id} (term ${st.term}, last ${t.leaderLast}) ` +
          `rewrote its log from ${Math.min(first, rd.snapshot?.meta.index ?? first)}`,
      );
    } else {
      this.#leaderComplete(n, rd, st.term);
    }
    t.leaderTerm = st.term;
    t.leaderLast = st.lastIndex;
  }

  /** §5.4: a new leader's log holds every entry committed in an earlier term. */
  #leaderComplete(n: SimNode, rd: Ready, term: number): void {
    const last = rd.entries.at(-1)?.index ?? n.storage.lastIndex();
    const before = (i: number) => (this.#commitTerm[i] ?? 0) < term;
    let high = 0;
    for (let i = this.#commitTermHigh; i > 0 && high === 0; i--) if (before(i)) high = i;
    check(
      last >= high,
      () =>
        `Leader Completeness: ${n.id} leads term ${term} with last index ${last}` +
        ` < ${high}, committed in an earlier term`,
    );
    const missing = this.log.firstMissingCommitted(n, rd, before);
    check(
      missing === null,
      () => `Leader Completeness: ${n.id} leads term ${term} without committed ${missing}`,
    );
  }

  #hardState(id: NodeId, prev: HardState, hs: HardState): void {
    check(hs.term >= prev.term, () => `${id} term went back ${prev.term} -> ${hs.term}`);
    check(
      hs.term > prev.term || hs.commit >= prev.commit,
      () => `${id} hard state commit went back ${prev.commit} -> ${hs.commit}`,
    );
    check(
      hs.term > prev.term || prev.vote === NONE || hs.vote === prev.vote,
      () => `${id} voted for ${prev.vote} then ${hs.vote} in term ${hs.term}`,
    );
  }

  onPersist(n: SimNode, hs: HardState): void {
    const t = this.#track(n);
    check(
      hs.term >= t.durable.term && hs.commit >= t.durable.commit,
      () =>
        `${n.id} durable hard state went back ` +
        `${JSON.stringify(t.durable)} -> ${JSON.stringify(hs)}`,
    );
    t.durable = hs;
  }

  onRestore(n: SimNode, snap: Snapshot): void {
    const t = this.#track(n);
    check(
      snap.meta.index > t.applied,
      () => `${n.id} installed snapshot ${snap.meta.index} over applied ${t.applied}`,
    );
    this.log.recordState(n);
    t.applied = n.sm.index;
    this.stats.snapshots++;
  }

  onApply(n: SimNode, e: Entry): void {
    const first = this.log.appliedAt(e.index) === undefined;
    if (first && e.type === "conf") this.stats.confChanges++;
    this.log.recordApply(n, e);
    this.#track(n).applied = e.index;
    if (e.index > this.commitHigh) this.commitHigh = e.index;
    this.stats.applied++;
  }

  /** Call when a client issues a read at `node`, before the core sees it. */
  onReadIssued(node: NodeId, context: string): void {
    this.#reads.set(context, { node, required: this.commitHigh });
  }

  onReadState(n: SimNode, rs: ReadState): void {
    const r = this.#reads.get(rs.context);
    check(
      r !== undefined && r.node === n.id,
      () => `${n.id} got read state ${rs.context} it never issued`,
    );
    check(
      rs.index >= r.required,
      () =>
        `ReadIndex: read ${rs.context} at ${n.id} got index ${rs.index} but ` +
        `${r.required} was committed when it was issued`,
    );
  }

  onReadServed(n: SimNode, rs: ReadState): void {
    check(n.sm.index >= rs.index, () => `${n.id} served read too early`);
    this.stats.reads++;
  }

  onCrash(n: SimNode): void {
    const t = this.#track(n);
    t.hs = t.durable;
    t.commit = t.durable.commit;
    t.leaderTerm = 0;
  }

  onRestart(n: SimNode): void {
    const t = this.#track(n);
    const st = n.raw?.status();
    check(
      st !== undefined && st.applied === n.sm.index,
      () => `${n.id} restarted with applied ${st?.applied}, durable ${n.sm.index}`,
    );
    check(
      st.commit >= t.durable.commit,
      () => `${n.id} restarted with commit ${st.commit} < durable ${t.durable.commit}`,
    );
    t.commit = st.commit;
  }
}
