/**
 * The Raft log as the core sees it (etcd `raftLog`): durable entries in
 * {@link Storage} followed by {@link Unstable} ones.
 * @module
 */
import type { Storage } from "./storage.ts";
import type { Entry, Snapshot } from "./types.ts";
import { Unstable } from "./log_unstable.ts";
import { CompactedError, isLogRangeError, UnavailableError } from "./errors.ts";
import { limitSize } from "./entries.ts";

/** A position in the log: index and the term of the entry there. */
export interface EntryId {
  readonly index: number;
  readonly term: number;
}

/**
 * Invariants: `applied <= applying <= committed <= lastIndex()`, and
 * `firstIndex() - 1 <= committed`. Entries up to `committed` are never
 * truncated (§5.4, Leader Completeness).
 */
export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  /** Highest index known to be committed (§5.3). */
  committed: number;
  /** Highest index handed out in a Ready's committedEntries. */
  applying: number;
  /** Highest index the application has applied (advance() confirmed). */
  applied: number;

  constructor(storage: Storage) {
    this.storage = storage;
    this.unstable = new Unstable(storage.lastIndex() + 1);
    const first = storage.firstIndex();
    this.committed = first - 1;
    this.applying = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** The last entry's id (used by votes: §5.4.1). */
  lastEntryId(): EntryId {
    const index = this.lastIndex();
    return { index, term: this.term(index) };
  }

  /**
   * Term of entry `i`, valid in `[firstIndex() - 1, lastIndex()]`. Throws
   * CompactedError below that range and UnavailableError above it.
   */
  term(i: number): number {
    if (i < this.firstIndex() - 1) throw new CompactedError();
    if (i > this.lastIndex()) throw new UnavailableError();
    return this.unstable.maybeTerm(i) ?? this.storage.term(i);
  }

  /** Like term() but 0 for indexes out of range (etcd zeroTermOnOutOfBounds). */
  termOrZero(i: number): number {
    // Bounds first: this is on the append path, and building an Error (with
    // its stack) per out-of-range probe cost a follower ~7% of its CPU.
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return 0;
    try {
      return this.term(i);
    } catch (e) {
      if (isLogRangeError(e)) return 0;
      throw e;
    }
  }

  /** True when the entry at `i` has term `t` (§5.3 consistency check). */
  matchTerm(i: number, t: number): boolean {
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return false;
    try {
      return this.term(i) === t;
    } catch (e) {
      if (isLogRangeError(e)) return false;
      throw e;
    }
  }

  /**
   * §5.4.1: a log ending at `(index, term)` is at least as up-to-date as
   * ours if its last term is higher, or equal with an index at least ours.
   */
  isUpToDate(index: number, term: number): boolean {
    const last = this.lastEntryId();
    return term > last.term || (term === last.term && index >= last.index);
  }

  /**
   * Index of the first entry of `ents` that is absent or has another term
   * here, or 0 when all of them match (so none need appending).
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * Fast back-off (etcd `findConflictByTerm`): the largest index <= `index`
   * whose term is <= `term`, with that term. Every entry after it up to
   * `index` has a term > `term`, so it cannot match the other log. If an
   * index's term is unknown (compacted) it is returned with term 0.
   */
  findConflictByTerm(index: number, term: number): EntryId {
    for (let i = Math.min(index, this.lastIndex()); i > 0; i--) {
      let t: number;
      try {
        t = this.term(i);
      } catch (e) {
        if (isLogRangeError(e)) return { index: i, term: 0 };
        throw e;
      }
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  /**
   * AppendEntries receiver (§5.3, Figure 2): if our entry at `prev` matches,
   * append the conflicting/new part of `ents`, commit up to
   * `min(commit, last new index)` and return the last new index; else null.
   * Returns null without change if `ents` would overwrite a committed entry
   * (only a faulty peer sends that).
   */
  maybeAppend(prev: EntryId, commit: number, ents: readonly Entry[]): number | null {
    if (!this.matchTerm(prev.index, prev.term)) return null;
    const lastNew = prev.index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) return null;
      this.append(ents.slice(ci - prev.index - 1));
    }
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  /** Appends `ents` (truncating any conflicting suffix); returns lastIndex. */
  append(ents: readonly Entry[]): number {
    const head = ents[0];
    if (head === undefined) return this.lastIndex();
    if (head.index - 1 < this.committed) {
      throw new RangeError(
        `Cannot append at ${head.index}: entries up to ${this.committed} are committed`,
      );
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /** Entries from `i` to the end, at most `maxSize` (see limitSize). */
  entries(i: number, maxSize: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSize);
  }

  /**
   * Entries in `[lo, hi)`, limited by `maxSize` but at least one. Throws
   * CompactedError if `lo < firstIndex()`, UnavailableError if past the end.
   */
  slice(lo: number, hi: number, maxSize: number): Entry[] {
    if (lo < this.firstIndex()) throw new CompactedError();
    if (hi > this.lastIndex() + 1) throw new UnavailableError();
    if (lo >= hi) return [];
    const off = this.unstable.offset;
    if (lo >= off) return limitSize(this.unstable.slice(lo, hi), maxSize);
    const stored = this.storage.entries(lo, Math.min(hi, off), maxSize);
    if (hi <= off || stored.length < Math.min(hi, off) - lo) return stored;
    return limitSize(stored.concat(this.unstable.slice(off, hi)), maxSize);
  }

  /** Raises `committed` to `i`. Invariant: `i <= lastIndex()`. */
  commitTo(i: number): void {
    if (i <= this.committed) return;
    if (i > this.lastIndex()) {
      throw new RangeError(
        `Cannot commit ${i}: last index is ${this.lastIndex()}`,
      );
    }
    this.committed = i;
  }

  /**
   * Commits `index` if its entry has term `term` (§5.4.2: a leader only
   * commits by counting replicas of an entry from its own term).
   */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.termOrZero(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  /** Unstable entries not yet handed out in a Ready. */
  nextUnstableEnts(): Entry[] {
    return this.unstable.nextEntries();
  }

  hasNextUnstableEnts(): boolean {
    return this.unstable.nextEntries().length > 0;
  }

  nextUnstableSnapshot(): Snapshot | null {
    return this.unstable.nextSnapshot();
  }

  /** True while an incoming snapshot is not yet durable (then: no applying). */
  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== null;
  }

  /**
   * Committed entries to hand to the application: after `applying`, up to
   * `min(committed, last stable index)` — never an entry not yet durable
   * here — and none while a snapshot is pending.
   */
  nextCommittedEnts(): Entry[] {
    const [lo, hi] = this.#committedRange();
    return lo < hi ? this.slice(lo, hi, Infinity) : [];
  }

  hasNextCommittedEnts(): boolean {
    const [lo, hi] = this.#committedRange();
    return lo < hi;
  }

  #committedRange(): [number, number] {
    if (this.hasPendingSnapshot()) return [0, 0];
    const hi = Math.min(this.committed, this.unstable.offset - 1) + 1;
    return [Math.max(this.applying + 1, this.firstIndex()), hi];
  }

  /** Entries up to `i` were handed out for applying. */
  acceptApplying(i: number): void {
    this.applying = Math.max(this.applying, i);
  }

  /** The application applied up to `i`. Invariant: `i <= committed`. */
  appliedTo(i: number): void {
    if (i <= this.applied) return;
    if (i > this.committed) {
      throw new RangeError(`Cannot apply ${i}: committed is ${this.committed}`);
    }
    this.applied = i;
    this.applying = Math.max(this.applying, i);
  }

  /** Marks the unstable entries/snapshot as handed out in a Ready. */
  acceptUnstable(): void {
    this.unstable.acceptInProgress();
  }

  stableTo(id: EntryId): void {
    this.unstable.stableTo(id.index, id.term);
  }

  /** The snapshot at `index` is durable and installed: it counts as applied. */
  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
    if (index > this.applied && index <= this.committed) {
      this.applied = index;
      this.applying = Math.max(this.applying, index);
    }
  }

  /** Resets the log to `snap` (§7): committed jumps to its index. */
  restore(snap: Snapshot): void {
    this.committed = snap.meta.index;
    this.unstable.restore(snap);
  }

  /** The latest snapshot: a pending one, else storage's (may throw). */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }
}
