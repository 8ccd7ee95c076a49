/**
 * Global memory of every log write and every application, so each new write
 * or application is checked against all of history in O(1).
 * @module
 */
import type { Entry, Ready } from "../../src/raft/mod.ts";
import type { SimNode } from "./cluster.ts";
import { check } from "./violation.ts";

/** What an (index, term) pair names: its data and the term before it. */
interface Written {
  readonly prevTerm: number;
  readonly type: Entry["type"];
  readonly data: string;
}

export class EntryRegistry {
  #written = new Map<string, Written>();
  /** The committed entry applied at each index, by whichever node was first. */
  #applied: Entry[] = [];
  /** The state machine hash after each index. */
  #hashes: number[] = [];
  maxApplied = 0;

  /** The committed entry at `index`, if any node applied it. */
  appliedAt(index: number): Entry | undefined {
    return this.#applied[index];
  }

  /** Log Matching: checks a Ready's entries against every earlier write. */
  recordWrite(n: SimNode, rd: Ready): void {
    const first = rd.entries[0];
    if (first === undefined) return;
    const prevIndex = first.index - 1;
    const snap = rd.snapshot?.meta;
    let prevTerm = snap !== undefined && snap.index === prevIndex
      ? snap.term
      : storedTerm(n, prevIndex);
    check(
      snap !== undefined || prevIndex <= n.storage.lastIndex(),
      () => `${n.id} writes entry ${first.index} after last ${n.storage.lastIndex()}`,
    );
    let index = first.index;
    for (const e of rd.entries) {
      check(e.index === index++, () => `${n.id} writes a non-contiguous batch`);
      if (prevTerm !== undefined) this.#written1(n, e, prevTerm);
      prevTerm = e.term;
    }
  }

  #written1(n: SimNode, e: Entry, prevTerm: number): void {
    const key = `${e.index}/${e.term}`;
    const w = this.#written.get(key);
    if (w === undefined) {
      this.#written.set(key, { prevTerm, type: e.type, data: e.data });
      return;
    }
    check(
      w.prevTerm === prevTerm && w.type === e.type && w.data === e.data,
      () =>
        `Log Matching: ${n.id} writes ${key} "${e.data}" after term ${prevTerm};` +
        ` elsewhere it is "${w.data}" after term ${w.prevTerm}`,
    );
  }

  /** State Machine Safety: same entry and same state at every index. */
  recordApply(n: SimNode, e: Entry): void {
    const prev = this.#applied[e.index];
    if (prev === undefined) {
      this.#applied[e.index] = e;
      if (e.index > this.maxApplied) this.maxApplied = e.index;
    } else {
      check(
        prev.term === e.term && prev.type === e.type && prev.data === e.data,
        () =>
          `State Machine Safety: ${n.id} applies ${e.index}@${e.term} ` +
          `"${e.data}", another node applied ${prev.index}@${prev.term} "${prev.data}"`,
      );
    }
    this.recordState(n);
  }

  /** Checks the node's state hash against every node's at that index. */
  recordState(n: SimNode): void {
    const i = n.sm.index;
    const h = this.#hashes[i];
    if (h === undefined) this.#hashes[i] = n.sm.hash;
    check(
      h === undefined || h === n.sm.hash,
      () => `State Machine Safety: ${n.id} state at ${i} differs from another node's`,
    );
  }

  /**
   * Leader Completeness helper: the first applied (hence committed) entry
   * among the `wanted` indexes missing from the log `n` holds once `rd` is
   * written, or null.
   */
  firstMissingCommitted(n: SimNode, rd: Ready, wanted: (i: number) => boolean): string | null {
    const base = rd.snapshot?.meta.index ?? n.storage.firstIndex() - 1;
    for (let i = base + 1; i <= this.maxApplied; i++) {
      const e = this.#applied[i];
      if (e === undefined || !wanted(i)) continue;
      const term = termAfter(n, rd, i);
      if (term !== e.term) return `${i}@${e.term} (has term ${term})`;
    }
    return null;
  }
}

/** Term of entry `i` in `n`'s log once `rd` is written. */
function termAfter(n: SimNode, rd: Ready, i: number): number | undefined {
  const first = rd.entries[0]?.index ?? Infinity;
  if (i >= first) return rd.entries[i - first]?.term;
  return storedTerm(n, i);
}

/** Term of a durable entry, or undefined when compacted or beyond the log. */
function storedTerm(n: SimNode, i: number): number | undefined {
  const s = n.storage;
  if (i < s.firstIndex() - 1 || i > s.lastIndex()) return undefined;
  return s.term(i);
}
