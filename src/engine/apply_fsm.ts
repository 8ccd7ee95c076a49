/**
 * ApplyFsm (TiKV's apply batch system): applies committed entries to the
 * in-memory state machine in order, answers their proposals, and persists
 * each batch's changes to the kv engine in one commit (records and applied
 * index together). Persistence runs behind apply: an acknowledged write is
 * already durable in the raft log of a quorum, and the log is compacted only
 * up to `durableIndex`.
 * @module
 */
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import type { Entry } from "../raft/types.ts";
import { tryDecodeConfChange } from "../raft/conf_change.ts";
import { CommandDecodeError, decodeCommand } from "../kv/codec.ts";
import type { KvStateMachine } from "../kv/state_machine.ts";
import type { KvCommand, KvRecord, KvResult } from "../kv/types.ts";
import type { KvDataEngine, Membership } from "../storage/stores.ts";
import { failpoints } from "../failpoints/registry.ts";
import type { NodeMetrics } from "../telemetry/node_metrics.ts";
import { ATTR, SPAN, TRACER_NAME } from "../telemetry/names.ts";
import type { BatchTrace } from "../telemetry/entry_traces.ts";
import { failSpan } from "../telemetry/spans.ts";
import { applyConfChange } from "./membership.ts";
import { SerialLoop } from "./serial_loop.ts";
import { fatalExit } from "./errors.ts";

const tracer = trace.getTracer(TRACER_NAME);

export interface ApplyObserver {
  /** Entry (index, term) was applied; `result` is null for no-ops and conf changes. */
  applied(index: number, term: number, result: KvResult | null): void;
  /** The applied index moved (answers waiting reads). */
  advanced(index: number): void;
  /** A snapshot replaced the whole state at `index` (ends watches). */
  installed?(index: number): void;
  /**
   * The command this node proposed as entry (index, term), if it still
   * waits for it: the leader applies the object its route built instead of
   * decoding the JSON it encoded a moment ago.
   */
  proposed?(index: number, term: number): KvCommand | undefined;
}

export interface SnapshotInstall {
  readonly index: number;
  readonly term: number;
  readonly membership: Membership;
  readonly records: readonly KvRecord[];
}

type Task =
  | { kind: "entries"; entries: readonly Entry[]; trace: BatchTrace | undefined }
  | {
    kind: "snapshot";
    snap: SnapshotInstall;
    done: () => void;
    fail: (e: unknown) => void;
  };

export class ApplyFsm {
  #tasks: Task[] = [];
  readonly #runner = new SerialLoop(() => this.#run(), () => this.#tasks.length > 0);
  #dirty = false;
  readonly #flusher = new SerialLoop(() => this.#persistOrDie(), () => this.#dirty);
  /** Invariant: durableIndex <= appliedIndex. */
  durableIndex: number;

  constructor(
    readonly sm: KvStateMachine,
    readonly data: KvDataEngine,
    readonly observer: ApplyObserver,
    readonly metrics: NodeMetrics,
    public appliedIndex: number,
    public appliedTerm: number,
    public membership: Membership,
  ) {
    this.durableIndex = appliedIndex;
  }

  /** Applies `entries` in order; `trace` is the requests they serve (apply span). */
  enqueue(entries: readonly Entry[], trace?: BatchTrace): void {
    this.#tasks.push({ kind: "entries", entries, trace });
    this.#kick();
  }

  /** Replaces the state with a leader's snapshot once earlier tasks are done. */
  install(snap: SnapshotInstall): Promise<void> {
    return new Promise((done, fail) => {
      this.#tasks.push({ kind: "snapshot", snap, done, fail });
      this.#kick();
    });
  }

  /** Waits until every applied batch is in the kv engine. */
  async flush(): Promise<void> {
    await this.#flusher.idle();
  }

  #kick(): void {
    this.#runner.kick();
  }

  async #run(): Promise<void> {
    while (this.#tasks.length > 0) {
      if (failpoints.enabled) await failpoints.eval("apply.before");
      const task = this.#tasks.shift()!;
      if (task.kind === "entries") this.#applyBatch(task.entries, task.trace);
      else await this.#installSnapshot(task).then(task.done, task.fail);
    }
  }

  #applyBatch(entries: readonly Entry[], t: BatchTrace | undefined): void {
    const span = t && tracer.startSpan(SPAN.apply, {
      attributes: { [ATTR.entries]: entries.length },
      links: [...t.links],
    }, t.ctx);
    for (const e of entries) {
      if (e.index <= this.appliedIndex) continue;
      const result = this.#applyEntry(e);
      this.appliedIndex = e.index;
      this.appliedTerm = e.term;
      this.observer.applied(e.index, e.term, result);
    }
    span?.setAttribute(ATTR.index, this.appliedIndex);
    span?.end();
    this.metrics.applyBatchSize.observe(entries.length);
    this.observer.advanced(this.appliedIndex);
    this.#dirty = true;
    this.#persist();
  }

  /**
   * Entry data that does not decode (only a forged append can carry it: the
   * leader encodes every entry) is a no-op on every node alike, logged,
   * not an exit: an exit would come back at each replay, on every node.
   */
  #applyEntry(e: Entry): KvResult | null {
    if (e.type === "conf") {
      const cc = tryDecodeConfChange(e.data);
      if (cc) this.membership = applyConfChange(this.membership, cc);
      else undecodable(e);
      return null;
    }
    if (e.data === "") return null;
    let cmd: KvCommand;
    try {
      cmd = this.observer.proposed?.(e.index, e.term) ?? decodeCommand(e.data);
    } catch (err) {
      if (!(err instanceof CommandDecodeError)) throw err;
      undecodable(e);
      return null;
    }
    return this.sm.apply(e.index, cmd);
  }

  /** One kv-engine commit at a time; changes made meanwhile join the next. */
  #persist(): void {
    this.#flusher.kick();
  }

  #persistOrDie(): Promise<void> {
    return this.#persistLoop().catch((e) => {
      // The kv engine is poisoned after a failed commit (see storage): stop;
      // a restart replays the raft log from the last durable applied index.
      fatalExit("Kv engine", e);
    });
  }

  /**
   * The raft log already holds every applied entry durably, so kv-engine
   * commits are spaced by `flushIntervalMs` (etcd's backend batch interval):
   * fewer fsyncs competing with the raft engine's. A crash replays the gap.
   */
  flushIntervalMs = 0;
  #lastFlush = -Infinity;

  async #persistLoop(): Promise<void> {
    while (this.#dirty) {
      const wait = this.#lastFlush + this.flushIntervalMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.#lastFlush = performance.now();
      this.#dirty = false;
      const { puts, deletes } = this.sm.drain();
      const index = this.appliedIndex;
      const state = {
        appliedIndex: index,
        appliedTerm: this.appliedTerm,
        membership: this.membership,
      };
      const started = performance.now();
      if (this.data.wantsRewrite?.()) {
        // Taken now: later applies must not leak into the rewrite's index.
        await this.data.install(state, inBatches([...this.sm.entries()]));
      } else await this.data.write({ puts, deletes, ...state });
      this.metrics.applyLatency.observe((performance.now() - started) / 1000);
      this.metrics.kvCommits.inc({ engine: "data" });
      this.durableIndex = index;
    }
  }

  async #installSnapshot(
    task: Extract<Task, { kind: "snapshot" }>,
  ): Promise<void> {
    const { snap } = task;
    await this.flush();
    const span = tracer.startSpan(SPAN.snapshotInstall, {
      attributes: {
        [ATTR.index]: snap.index,
        [ATTR.entries]: snap.records.length,
      },
    }, ROOT_CONTEXT);
    try {
      const state = {
        appliedIndex: snap.index,
        appliedTerm: snap.term,
        membership: snap.membership,
      };
      await this.data.install(state, inBatches(snap.records));
      this.sm.load(snap.records);
      this.sm.drain();
      this.appliedIndex = this.durableIndex = snap.index;
      this.appliedTerm = snap.term;
      this.membership = snap.membership;
      this.observer.installed?.(snap.index);
      this.observer.advanced(snap.index);
    } catch (e) {
      failSpan(span, e);
      throw e;
    } finally {
      span.end();
    }
  }
}

function undecodable(e: Entry): void {
  console.error(JSON.stringify({
    level: "error",
    msg: "log entry does not decode; applied as a no-op",
    index: e.index,
    term: e.term,
    type: e.type,
  }));
}

async function* inBatches(
  records: readonly KvRecord[],
): AsyncIterable<readonly KvRecord[]> {
  for (let i = 0; i < records.length; i += 1000) {
    yield records.slice(i, i + 1000);
  }
}
