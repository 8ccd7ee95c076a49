/**
 * Snapshots streamed from the leader wait here, in memory, until the core
 * accepts one (§7): only then is the kv engine replaced, so a snapshot the
 * core rejects never touches disk.
 * @module
 */
import type { KvRecord } from "../kv/types.ts";
import type { Membership } from "../storage/stores.ts";
import type { SnapshotHeader } from "../transport/snapshot_stream.ts";

export interface StagedSnapshot {
  readonly records: KvRecord[];
  readonly membership: Membership;
}

/** Snapshots held at most (the oldest staged goes first). */
const MAX_STAGED = 4;

export class SnapshotStage {
  #staged = new Map<string, StagedSnapshot & { readonly index: number }>();

  /** Stages `records`; returns the token the core's MsgSnap carries as data. */
  stage(h: SnapshotHeader, records: KvRecord[]): string {
    const token = `staged-${h.meta.index}-${h.meta.term}`;
    this.#staged.delete(token);
    this.#staged.set(token, { records, membership: h.membership, index: h.meta.index });
    // Bounded: snapshots the core drops (stale, or forged on an open peer
    // port) would otherwise stay until the next install. A leader sends one
    // at a time; the one the core accepted is installed in the same turn of
    // the loop, long before MAX_STAGED newer ones could arrive.
    for (const old of this.#staged.keys()) {
      if (this.#staged.size <= MAX_STAGED) break;
      this.#staged.delete(old);
    }
    return token;
  }

  /**
   * The snapshot the core accepted. Staging never evicts one the loop has
   * not installed yet; taking one drops it and the older ones (superseded).
   * Not the newer ones: the core may have accepted one of them while the
   * loop waited for earlier writes before installing this one, and the
   * next Ready carries it.
   */
  take(token: string): StagedSnapshot {
    const staged = this.#staged.get(token);
    if (!staged) throw new Error(`No staged snapshot for "${token}"`);
    for (const [t, s] of this.#staged) if (s.index <= staged.index) this.#staged.delete(t);
    return { records: staged.records, membership: staged.membership };
  }
}
