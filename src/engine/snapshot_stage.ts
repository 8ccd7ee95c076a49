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

export class SnapshotStage {
  #staged = new Map<string, StagedSnapshot>();

  /** Stages `records`; returns the token the core's MsgSnap carries as data. */
  stage(h: SnapshotHeader, records: KvRecord[]): string {
    const token = `staged-${h.meta.index}-${h.meta.term}`;
    this.#staged.set(token, { records, membership: h.membership });
    return token;
  }

  /**
   * The snapshot the core accepted. Staging never evicts one the loop has
   * not installed yet; taking one drops the rest (superseded or rejected).
   */
  take(token: string): StagedSnapshot {
    const staged = this.#staged.get(token);
    if (!staged) throw new Error(`No staged snapshot for "${token}"`);
    this.#staged.clear();
    return staged;
  }
}
