/**
 * Raft-engine writes behind the Ready loop (etcd's async storage writes):
 * the loop mirrors each Ready into memory and goes on, while its entries and
 * hard state are written here in order. Writes that queue up while one is
 * in flight are merged into ONE Deno KV commit: the group commit. A job's
 * `durable` callback (send the acks, step the self-ack) runs only after its
 * write and every earlier one are durable (§5.3: persist before acking).
 * @module
 */
import { type Span, trace } from "@opentelemetry/api";
import type { Entry, HardState } from "../raft/types.ts";
import type { RaftWrite } from "../storage/stores.ts";
import { SerialLoop } from "./serial_loop.ts";
import { type BatchTrace, mergeTraces } from "../telemetry/entry_traces.ts";
import { ATTR, REGION_ID, SPAN, TRACER_NAME } from "../telemetry/names.ts";
import { failSpan } from "../telemetry/spans.ts";

const tracer = trace.getTracer(TRACER_NAME);

export interface WriteJob {
  readonly entries: readonly Entry[];
  readonly hardState: HardState | null;
  /** False when only the commit index moved: no fsync of its own. */
  readonly sync: boolean;
  /** Runs once this job and all earlier ones are durable. */
  readonly durable: () => void;
  /** The requests its entries serve: parent and links of the append span. */
  readonly trace?: BatchTrace | undefined;
}

export class RaftWriteQueue {
  #pending: WriteJob[] = [];
  readonly #loop = new SerialLoop(() => this.#run(), () => this.#pending.length > 0);
  /** A commit-only hard state waiting to ride along with the next write. */
  #deferredHs: HardState | null = null;
  /** The hard state last written; null until the first write. */
  #written: HardState | null = null;

  constructor(
    readonly write: (w: RaftWrite) => Promise<void>,
    readonly afterWrite: () => Promise<void> = () => Promise.resolve(),
  ) {}

  get idle(): boolean {
    return !this.#loop.busy && this.#pending.length === 0;
  }

  push(job: WriteJob): void {
    this.#pending.push(job);
    this.#loop.kick();
  }

  /** Resolves once everything pushed so far is durable. */
  async drain(): Promise<void> {
    await this.#loop.idle();
  }

  async #run(): Promise<void> {
    while (this.#pending.length > 0) {
      const jobs = this.#pending;
      this.#pending = [];
      const w = this.#merge(jobs);
      if (w) {
        const span = appendSpan(jobs, w);
        try {
          await this.write(w);
        } catch (e) {
          failSpan(span, e);
          throw e;
        } finally {
          span?.end();
        }
        await this.afterWrite();
      }
      for (const j of jobs) j.durable();
    }
  }

  /** One write for many jobs: later entries replace earlier ones from their first index. */
  #merge(jobs: readonly WriteJob[]): RaftWrite | null {
    const entries: Entry[] = [];
    let hardState: HardState | null = null;
    let sync = false;
    for (const j of jobs) {
      if (j.entries.length > 0) {
        // Entries are contiguous: a later job cuts the merged run at its first index.
        const first = j.entries[0]!.index;
        const keep = entries.length === 0 ? 0 : Math.max(0, first - entries[0]!.index);
        if (keep < entries.length) entries.length = keep;
        for (const e of j.entries) entries.push(e);
      }
      if (j.hardState) {
        if (j.sync) hardState = j.hardState;
        else this.#deferredHs = j.hardState;
      }
      sync ||= j.sync || j.entries.length > 0;
    }
    if (!sync) return null;
    hardState = latest(hardState, this.#deferredHs);
    this.#deferredHs = null;
    // Term and vote must be durable before anything is sent (§5.1, §5.2);
    // the commit index need not: a restart takes the larger of it and the
    // applied index and learns the rest from the leader. A row less in the
    // commit of almost every append (~15% of its CPU).
    if (
      hardState && this.#written?.term === hardState.term && this.#written.vote === hardState.vote
    ) {
      hardState = null;
    } else if (hardState) this.#written = hardState;
    if (entries.length === 0 && hardState === null) return null;
    return { snapshot: null, entries, hardState };
  }
}

/** `raftkv.append` for one group commit, when some of its jobs serve traced requests. */
function appendSpan(jobs: readonly WriteJob[], w: RaftWrite): Span | undefined {
  let t: BatchTrace | undefined;
  for (const j of jobs) if (j.trace) t = t ? mergeTraces(t, j.trace) : j.trace;
  if (!t) return undefined;
  return tracer.startSpan(SPAN.append, {
    attributes: {
      [ATTR.entries]: w.entries.length,
      [ATTR.bytes]: w.entries.reduce((n, e) => n + e.data.length, 0),
      [ATTR.region]: REGION_ID,
      // The entries' term (the hard state is written only when it changes).
      [ATTR.term]: w.entries.at(-1)?.term ?? w.hardState?.term ?? 0,
    },
    links: [...t.links],
  }, t.ctx);
}

/** The newer of two hard states (term, then commit); null-safe. */
function latest(a: HardState | null, b: HardState | null): HardState | null {
  if (!a || !b) return a ?? b;
  if (a.term !== b.term) return a.term > b.term ? a : b;
  return a.commit >= b.commit ? a : { ...a, commit: b.commit };
}
