/**
 * A recording WatchSink for hub and engine tests.
 * @module
 */
import type { WatchEnd, WatchSink } from "../../src/engine/watch_hub.ts";
import type { KvChange } from "../../src/kv/types.ts";

/** One received change as `index:type:key`, easy to compare. */
export const show = (index: number, c: KvChange) =>
  `${index}:${c.type}:${c.type === "put" ? c.record.key : c.key}`;

export class RecordingSink implements WatchSink {
  readonly got: string[] = [];
  ended: WatchEnd | null = null;
  keepalives = 0;
  /** Calls to `changes` still accepted; then it reports overflow. */
  room = Infinity;
  onKeepalive: () => void = () => {};

  changes(index: number, changes: readonly KvChange[]): boolean {
    if (this.ended) throw new Error("changes after end");
    for (const c of changes) this.got.push(show(index, c));
    return --this.room >= 0;
  }
  keepalive(): void {
    this.keepalives++;
    this.onKeepalive();
  }
  end(why: WatchEnd): void {
    if (this.ended) throw new Error("ended twice");
    this.ended = why;
  }
}
