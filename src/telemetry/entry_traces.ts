/**
 * Which request traces the log entries in flight belong to, so the batch
 * spans (`raftkv.append`, `raftkv.replicate`, `raftkv.commit`,
 * `raftkv.apply`) join the trace of the requests they serve: the first
 * request's span is the parent, every other request's span is a link
 * (API.md §8). A batch that serves no traced request (heartbeats, the
 * leader's no-op, commit-index updates) gets no span and carries no
 * context, so background traffic never chains into a request's trace.
 *
 * Nothing is recorded unless a recording span is given: with tracing off
 * this stays empty and every lookup returns `undefined` without allocating.
 * @module
 */
import {
  type Context,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  trace,
} from "@opentelemetry/api";

/** The trace a batch joins: a parent and links to the other requests. */
export interface BatchTrace {
  /** Context holding the first request's span: the parent of the batch span. */
  readonly ctx: Context;
  /** The other requests' spans, in index order (empty for one request). */
  readonly links: readonly Link[];
}

interface Range {
  readonly lo: number;
  hi: number;
  readonly sc: SpanContext;
}

/** Bound on remembered ranges: old ones go first (a stuck batch never leaks). */
export const MAX_RANGES = 4096;

/** The span in `ctx` when it records (tracing on and sampled), else undefined. */
export function recordingSpan(ctx: Context | undefined): Span | undefined {
  const span = ctx === undefined ? undefined : trace.getSpan(ctx);
  return span?.isRecording() ? span : undefined;
}

/** Folds `b` into `a`: `a`'s parent stays, `b`'s parent and links become links. */
export function mergeTraces(a: BatchTrace, b: BatchTrace): BatchTrace {
  const sc = trace.getSpanContext(b.ctx);
  const head = trace.getSpanContext(a.ctx);
  const links = [...a.links];
  if (sc && sc.spanId !== head?.spanId) links.push({ context: sc });
  for (const l of b.links) links.push(l);
  return { ctx: a.ctx, links };
}

export class EntryTraces {
  #ranges: Range[] = [];

  /** Ranges remembered (for tests and invariants). */
  get size(): number {
    return this.#ranges.length;
  }

  /** Entry `index` was proposed by the request whose span is `span` (leader). */
  addSpan(index: number, span: Span | undefined): void {
    if (span?.isRecording()) this.#push(index, index, span.spanContext());
  }

  /** Entries `lo..hi` arrived in the request traced by `ctx` (follower). */
  addContext(lo: number, hi: number, ctx: Context | undefined): void {
    const span = recordingSpan(ctx);
    if (span) this.#push(lo, hi, span.spanContext());
  }

  /** The trace of entries `lo..hi`, or undefined when none of them is traced. */
  lookup(lo: number, hi: number): BatchTrace | undefined {
    if (this.#ranges.length === 0 || hi < lo) return undefined;
    let first: SpanContext | undefined;
    let links: Link[] | undefined;
    let prev = "";
    for (const r of this.#ranges) {
      if (r.hi < lo || r.lo > hi || r.sc.spanId === prev) continue;
      if (r.sc.spanId === first?.spanId) continue;
      prev = r.sc.spanId;
      if (first === undefined) first = r.sc;
      else (links ??= []).push({ context: r.sc });
    }
    if (first === undefined) return undefined;
    return { ctx: trace.setSpanContext(ROOT_CONTEXT, first), links: links ?? [] };
  }

  /** Forgets entries up to `index` (committed and handed to apply). */
  prune(index: number): void {
    if (this.#ranges.length === 0) return;
    this.#ranges = this.#ranges.filter((r) => r.hi > index);
  }

  /** Forgets everything: the leader changed, entries may be overwritten. */
  clear(): void {
    if (this.#ranges.length > 0) this.#ranges = [];
  }

  #push(lo: number, hi: number, sc: SpanContext): void {
    const last = this.#ranges[this.#ranges.length - 1];
    if (last && last.sc.spanId === sc.spanId && last.hi + 1 === lo) {
      last.hi = hi;
      return;
    }
    if (this.#ranges.length >= MAX_RANGES) this.#ranges.shift();
    this.#ranges.push({ lo, hi, sc });
  }
}
