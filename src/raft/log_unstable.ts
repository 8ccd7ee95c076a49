/**
 * The part of the log not yet durable (etcd `unstable`): an incoming
 * snapshot and/or entries after the last stable index.
 * @module
 */
import type { Entry, Snapshot } from "./types.ts";

/**
 * Invariants:
 * - `entries[i].index === offset + i`;
 * - if `snapshot` is set, `offset === snapshot.meta.index + 1` or later;
 * - `offset <= offsetInProgress <= offset + entries.length`: entries below
 *   `offsetInProgress` were handed out in a Ready whose advance() is pending;
 * - everything below `offset` is in Storage (or covered by `snapshot`).
 */
export class Unstable {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  offset: number;
  snapshotInProgress = false;
  offsetInProgress: number;

  constructor(offset: number) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  /** First index if a snapshot is pending (its index + 1), else null. */
  maybeFirstIndex(): number | null {
    return this.snapshot ? this.snapshot.meta.index + 1 : null;
  }

  /** Last index held here (an entry or the snapshot), else null. */
  maybeLastIndex(): number | null {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot ? this.snapshot.meta.index : null;
  }

  /** Term of index `i` if held here, else null. */
  maybeTerm(i: number): number | null {
    if (i < this.offset) {
      const s = this.snapshot;
      return s && s.meta.index === i ? s.meta.term : null;
    }
    return this.entries[i - this.offset]?.term ?? null;
  }

  /** Entries not yet handed out in a Ready. */
  nextEntries(): Entry[] {
    const inProgress = this.offsetInProgress - this.offset;
    return inProgress >= this.entries.length ? [] : this.entries.slice(inProgress);
  }

  /** The snapshot if not yet handed out in a Ready. */
  nextSnapshot(): Snapshot | null {
    return this.snapshotInProgress ? null : this.snapshot;
  }

  /** Marks everything currently held as handed out (in a Ready). */
  acceptInProgress(): void {
    this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot) this.snapshotInProgress = true;
  }

  /**
   * Entries up to `(index, term)` are durable: drop them. Ignored when the
   * entry was since replaced (term differs) or is not held here.
   */
  stableTo(index: number, term: number): void {
    if (index < this.offset || this.maybeTerm(index) !== term) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  /** The snapshot at `index` is durable: drop it. */
  stableSnapTo(index: number): void {
    if (this.snapshot && this.snapshot.meta.index === index) {
      this.snapshot = null;
      this.snapshotInProgress = false;
    }
  }

  /** Replaces everything with `snap` (§7 InstallSnapshot). */
  restore(snap: Snapshot): void {
    this.offset = snap.meta.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = snap;
    this.snapshotInProgress = false;
  }

  /**
   * Appends `ents`, first truncating everything at and after
   * `ents[0].index` (a conflicting suffix, §5.3). Caller guarantees
   * `ents[0].index <= lastIndex + 1`.
   */
  truncateAndAppend(ents: readonly Entry[]): void {
    const from = ents[0]?.index;
    if (from === undefined) return;
    if (from === this.offset + this.entries.length) {
      this.entries = this.entries.concat(ents);
    } else if (from <= this.offset) {
      // Replaces (part of) the stable log too: the Ready carrying `ents`
      // overwrites storage from `from` on.
      this.entries = ents.slice();
      this.offset = from;
      this.offsetInProgress = from;
    } else {
      this.entries = this.entries.slice(0, from - this.offset).concat(ents);
      this.offsetInProgress = Math.min(this.offsetInProgress, from);
    }
  }

  /** Entries in `[lo, hi)`; caller guarantees `offset <= lo <= hi <= last + 1`. */
  slice(lo: number, hi: number): Entry[] {
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
