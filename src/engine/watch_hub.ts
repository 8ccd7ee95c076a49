/**
 * WatchHub (API.md §5): fans the changes of each applied entry out to the
 * watchers whose range they touch, and keeps the recent history (a
 * ChangeRing) so a watcher can start at a past index.
 *
 * The state machine reports each change (`record`) and the ApplyFsm then
 * reports the entry applied (`applied`), both synchronously on the apply
 * path; a watcher registers synchronously too, replaying the ring and then
 * joining the live set in the same turn. So between replay and live there
 * is no gap and no duplicate, and events come in modIndex order.
 * @module
 */
import { ChangeRing, type RingLimits } from "../kv/change_ring.ts";
import { compareKeys } from "../kv/key_order.ts";
import type { KeyRange, KvChange } from "../kv/types.ts";
import { CompactedError, UnavailableError } from "./errors.ts";

/** Why the node ended a watch (the client may resume with Last-Event-ID). */
export type WatchEnd = "shutdown" | "snapshot" | "overflow";

/** Where a watcher's changes go (the route's event stream). */
export interface WatchSink {
  /**
   * The changes entry `index` made in the watched range, in apply order.
   * Returns false when the consumer is too far behind: the hub then ends
   * the watch with "overflow" (bounded memory per watcher).
   */
  changes(index: number, changes: readonly KvChange[]): boolean;
  /** Nothing to send for a while; keeps proxies from closing the stream. */
  keepalive(): void;
  /** The node ended the watch; no call follows. Never called after cancel. */
  end(why: WatchEnd): void;
}

/** A registered watch. */
export interface Watch {
  /** The applied index when it started: live changes are those after it. */
  readonly index: number;
  /** Unregisters (the client went away). Idempotent. */
  cancel(): void;
}

/** Tuning of a {@link WatchHub}; defaults in {@link WATCH_DEFAULTS}. */
export interface WatchOptions extends Partial<RingLimits> {
  /** Interval of `keepalive` calls while any watcher exists. */
  readonly heartbeatMs?: number;
}

/** History of at least the last 10000 changes unless they exceed 32 MiB. */
export const WATCH_DEFAULTS = {
  maxChanges: 10_000,
  maxBytes: 32 * 1024 * 1024,
  heartbeatMs: 15_000,
} as const;

interface Watcher {
  readonly range: KeyRange;
  /** Changes with modIndex below this are not wanted. */
  readonly from: number;
  readonly sink: WatchSink;
}

/** See the module doc. */
/** Open watch streams a node serves at most. */
export const MAX_WATCHERS = 256;

export class WatchHub {
  readonly #ring: ChangeRing;
  readonly #watchers = new Set<Watcher>();
  readonly #heartbeatMs: number;
  /** Changes of the entry being applied, until `applied` closes it. */
  #pending: KvChange[] = [];
  #applied: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** `appliedIndex`: where the state stands now; history starts after it. */
  constructor(
    appliedIndex: number,
    opts: WatchOptions = {},
    readonly gauge?: { set(value: number): void },
  ) {
    const o = { ...WATCH_DEFAULTS, ...opts };
    this.#ring = new ChangeRing(appliedIndex, o);
    this.#heartbeatMs = o.heartbeatMs;
    this.#applied = appliedIndex;
  }

  /** Open watches. */
  get size(): number {
    return this.#watchers.size;
  }

  /** The smallest `fromIndex` that can be replayed. */
  get oldestIndex(): number {
    return this.#ring.oldest;
  }

  /** A change of the entry being applied (KvStateMachine.onChange). */
  record(change: KvChange): void {
    this.#pending.push(change);
  }

  /** Entry `index` is applied: its recorded changes are one batch. */
  applied(index: number): void {
    this.#applied = index;
    if (this.#pending.length === 0) return;
    const batch = { index, changes: this.#pending };
    this.#pending = [];
    this.#ring.push(batch);
    for (const w of this.#watchers) this.#deliver(w, batch.index, batch.changes);
  }

  /**
   * A snapshot replaced the state at `index`. The changes between what the
   * watchers saw and `index` are unknown, so every watch ends (a resume
   * from before `index` gets 410) and history starts over.
   */
  replaced(index: number): void {
    this.#pending = [];
    this.#applied = index;
    this.#ring.reset(index);
    this.#endAll("snapshot");
  }

  /**
   * Watches `range` from `fromIndex` (every held change with modIndex >=
   * it, then live ones), or live only when null. Replays synchronously
   * into `sink`. Throws CompactedError when that history is gone.
   */
  watch(range: KeyRange, fromIndex: number | null, sink: WatchSink): Watch {
    if (this.#closed) throw new UnavailableError("Node is shutting down");
    // Each stream may queue up to 8 MiB for a slow reader: the count of
    // them is what bounds the node's memory (400 idle ones took 3.5 GB).
    if (this.size >= MAX_WATCHERS) {
      throw new UnavailableError(
        `This node serves ${MAX_WATCHERS} watches at most; try another node`,
      );
    }
    const from = fromIndex === null ? this.#applied + 1 : Math.max(1, fromIndex);
    if (from < this.#ring.oldest) throw new CompactedError(this.#ring.oldest);
    const w: Watcher = { range, from, sink };
    const watch = { index: this.#applied, cancel: () => this.#remove(w) };
    this.#add(w);
    for (const b of this.#ring.since(from)) {
      if (!this.#deliver(w, b.index, b.changes)) break;
    }
    return watch;
  }

  /** Ends every watch and refuses new ones (node shutdown). */
  close(): void {
    this.#closed = true;
    this.#endAll("shutdown");
  }

  /** False when the watcher was dropped for falling behind. */
  #deliver(w: Watcher, index: number, changes: readonly KvChange[]): boolean {
    if (index < w.from) return true;
    const mine = changes.filter((c) => inRange(w.range, c.type === "put" ? c.record.key : c.key));
    if (mine.length === 0 || w.sink.changes(index, mine)) return true;
    this.#remove(w);
    w.sink.end("overflow");
    return false;
  }

  #endAll(why: WatchEnd): void {
    for (const w of [...this.#watchers]) {
      this.#remove(w);
      w.sink.end(why);
    }
  }

  #add(w: Watcher): void {
    this.#watchers.add(w);
    this.gauge?.set(this.#watchers.size);
    if (this.#timer !== undefined) return;
    const timer = setInterval(() => {
      for (const x of this.#watchers) x.sink.keepalive();
    }, this.#heartbeatMs);
    // Heartbeats alone must not keep a stopping process alive.
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #remove(w: Watcher): void {
    if (!this.#watchers.delete(w)) return;
    this.gauge?.set(this.#watchers.size);
    if (this.#watchers.size > 0 || this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** `key` in `[start, end)` by UTF-8 byte order; end null = unbounded. */
function inRange(r: KeyRange, key: string): boolean {
  return compareKeys(key, r.start) >= 0 && (r.end === null || compareKeys(key, r.end) < 0);
}
