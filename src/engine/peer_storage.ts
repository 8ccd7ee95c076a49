/**
 * PeerStorage (TiKV's name): the raft engine on Deno KV with the core's
 * MemoryStorage mirrored in front of it. Every Ready is one durable write,
 * then the same change is mirrored into memory for the core to read.
 * @module
 */
import type { MemoryStorage } from "../raft/memory_storage.ts";
import type { Ready } from "../raft/ready.ts";
import type { ConfState, HardState } from "../raft/types.ts";
import type { RaftEngine } from "../storage/stores.ts";
import type { NodeMetrics } from "../telemetry/node_metrics.ts";

export class PeerStorage {
  /** A commit-only hard state not yet written (see `persist`). */
  #deferred: HardState | null = null;

  constructor(
    readonly engine: RaftEngine,
    readonly mem: MemoryStorage,
    readonly metrics: NodeMetrics,
  ) {}

  /** Persists the snapshot, entries and hard state of `rd` (§5.3: before acking). */
  async persist(rd: Ready): Promise<void> {
    if (!rd.mustSync && !rd.snapshot && rd.entries.length === 0) {
      // Only the commit index moved: it is recoverable from the quorum, so
      // it rides along with the next synced write instead of costing an fsync.
      if (rd.hardState) {
        this.#deferred = rd.hardState;
        this.mem.setHardState(rd.hardState);
      }
      return;
    }
    const hardState = rd.hardState ?? this.#deferred;
    this.#deferred = null;
    const started = performance.now();
    await this.engine.write({
      snapshot: rd.snapshot?.meta ?? null,
      entries: rd.entries,
      hardState,
    });
    this.metrics.persistLatency.observe((performance.now() - started) / 1000);
    this.metrics.kvCommits.inc({ engine: "raft" });
    if (rd.entries.length > 0) {
      this.metrics.batchSize.observe(rd.entries.length);
    }
    if (rd.snapshot) this.mem.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) this.mem.append(rd.entries);
    if (rd.hardState) this.mem.setHardState(rd.hardState);
  }

  get snapshotIndex(): number {
    return this.mem.firstIndex() - 1;
  }

  /** Drops the log up to `index` (§7); the state machine already holds it durably. */
  async compact(index: number, confState: ConfState): Promise<void> {
    if (index <= this.snapshotIndex) return;
    const snap = this.mem.createSnapshot(index, confState, "");
    this.mem.compact(index);
    await this.engine.compact(snap.meta);
  }
}
