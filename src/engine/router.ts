/**
 * Router: region id -> Region (TiKV's RaftRouter). One region, id 1, today;
 * every message batch names its region so more can be added later.
 * @module
 */
import type { Context } from "@opentelemetry/api";
import type { KvRecord } from "../kv/types.ts";
import type { PeerReceiver } from "../transport/peer_routes.ts";
import type { SnapshotHeader } from "../transport/snapshot_stream.ts";
import type { MessageBatch } from "../transport/wire.ts";
import type { ForwardFrame } from "../transport/forward_wire.ts";
import type { Region } from "./region.ts";

export class Router implements PeerReceiver {
  #regions = new Map<number, Region>();

  register(regionId: number, region: Region): void {
    this.#regions.set(regionId, region);
  }

  get(regionId: number): Region | undefined {
    return this.#regions.get(regionId);
  }

  receiveMessages(batch: MessageBatch, ctx: Context): void {
    this.#regions.get(batch.region)?.receiveMessages(batch, ctx);
  }

  receiveForwards(frame: ForwardFrame): void {
    this.#regions.get(frame.region)?.receiveForwards(frame);
  }

  receiveSnapshot(header: SnapshotHeader, records: KvRecord[]): void {
    this.#regions.get(header.region)?.receiveSnapshot(header, records);
  }

  tick(): void {
    for (const r of this.#regions.values()) r.tick();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#regions.values()].map((r) => r.stop()));
  }
}
