/**
 * Test doubles of the engine harness: engines that freeze at a crash,
 * a hub that counts batches, a transport silenced at a crash.
 * @module
 */
import type { Message } from "../../src/raft/messages.ts";
import type { MemoryKvDataEngine, MemoryRaftEngine } from "../../src/storage/memory_engines.ts";
import type { DataWrite, KvDataEngine, RaftEngine, RaftWrite } from "../../src/storage/stores.ts";
import { MemoryHub, type MemoryTransport } from "../../src/transport/memory_transport.ts";
import type { ForwardItems, Transport } from "../../src/transport/transport.ts";

/** A promise that never settles: what a write to a crashed disk returns. */
const never = () => new Promise<never>(() => {});

/** The raft engine of one node incarnation; dead after its crash. */
export class FreezableRaftEngine implements RaftEngine {
  dead = false;
  constructor(readonly inner: MemoryRaftEngine) {}
  load(seed: Parameters<RaftEngine["load"]>[0]) {
    return this.inner.load(seed);
  }
  write(w: RaftWrite) {
    return this.dead ? never() : this.inner.write(w);
  }
  compact(meta: Parameters<RaftEngine["compact"]>[0]) {
    return this.dead ? never() : this.inner.compact(meta);
  }
  close() {}
}

/** The kv engine of one node incarnation; `frozen` stops its commits. */
export class FreezableDataEngine implements KvDataEngine {
  frozen = false;
  constructor(readonly inner: MemoryKvDataEngine) {}
  load() {
    return this.inner.load();
  }
  write(w: DataWrite) {
    return this.frozen ? never() : this.inner.write(w);
  }
  install(...args: Parameters<KvDataEngine["install"]>) {
    return this.frozen ? never() : this.inner.install(...args);
  }
  close() {}
}

/** Counts the message batches each link carries. */
export class CountingHub extends MemoryHub {
  readonly batches = new Map<string, number>();

  override deliver(from: string, to: string, messages: Message[]): void {
    const link = `${from}->${to}`;
    this.batches.set(link, (this.batches.get(link) ?? 0) + 1);
    super.deliver(from, to, messages);
  }
}

/** Drops every send once its node crashed. */
export class SilencedTransport implements Transport {
  dead = false;
  constructor(readonly inner: MemoryTransport) {}
  send(messages: readonly Message[]): void {
    if (!this.dead) this.inner.send(messages);
  }
  forward(to: string, items: ForwardItems): void {
    if (!this.dead) this.inner.forward(to, items);
  }
  setPeers(): void {}
  close(): void {}
}
