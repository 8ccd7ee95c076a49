/**
 * PeerStorage (TiKV's name): the raft engine on Deno KV with the core's
 * MemoryStorage mirrored in front of it. A Ready is mirrored into memory at
 * once (the core reads only memory) and written durably behind the loop.
 * @module
 */
import type { MemoryStorage } from "../raft/memory_storage.ts";
import type { Ready } from "../raft/ready.ts";
import type { ConfState } from "../raft/types.ts";
import type { RaftEngine, RaftWrite } from "../storage/stores.ts";
import type { NodeMetrics } from "../telemetry/node_metrics.ts";

export class PeerStorage {
  /**
   * The last log index handed to the raft engine (written, or in a write
   * every later engine call queues behind). Mirrored entries still waiting
   * in the RaftWriteQueue are above it.
   */
  #engineLast: number;

  constructor(
    readonly engine: RaftEngine,
    readonly mem: MemoryStorage,
    readonly metrics: NodeMetrics,
  ) {
    this.#engineLast = mem.lastIndex();
  }

  /**
   * Mirrors `rd` into the core's MemoryStorage at once; the durable write
   * follows through the RaftWriteQueue (see `write`).
   */
  mirror(rd: Ready): void {
    if (rd.entries.length > 0) this.mem.append(rd.entries);
    if (rd.hardState) this.mem.setHardState(rd.hardState);
  }

  /** One durable raft-engine commit (a merged batch of Readies). */
  async write(w: RaftWrite): Promise<void> {
    const started = performance.now();
    const done = this.engine.write(w);
    this.#engineLast = w.entries.at(-1)?.index ?? w.snapshot?.index ?? this.#engineLast;
    await done;
    this.metrics.persistLatency.observe((performance.now() - started) / 1000);
    this.metrics.kvCommits.inc({ engine: "raft" });
    if (w.entries.length > 0) this.metrics.batchSize.observe(w.entries.length);
  }

  /** Installs a snapshot Ready durably, then mirrors it (§7). */
  async persistSnapshot(rd: Ready): Promise<void> {
    await this.write({ snapshot: rd.snapshot!.meta, entries: rd.entries, hardState: rd.hardState });
    this.mem.applySnapshot(rd.snapshot!);
    this.mirror(rd);
  }

  get snapshotIndex(): number {
    return this.mem.firstIndex() - 1;
  }

  /** The highest index {@link compact} may drop to. */
  get compactableIndex(): number {
    return this.#engineLast;
  }

  /**
   * Drops the log up to `index` (§7); the state machine already holds it
   * durably. Never past what the raft engine was handed: on a slow raft
   * disk the node applies entries (committed by the followers) whose own
   * write is still queued, and a compaction ahead of that write would leave
   * the engine unable to take it.
   */
  async compact(index: number, confState: ConfState): Promise<void> {
    if (index > this.#engineLast) {
      throw new RangeError(
        `Cannot compact to ${index}: the raft engine holds up to ${this.#engineLast}`,
      );
    }
    if (index <= this.snapshotIndex) return;
    const snap = this.mem.createSnapshot(index, confState, "");
    this.mem.compact(index);
    await this.engine.compact(snap.meta);
  }
}
