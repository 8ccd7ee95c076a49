/**
 * EntryTraces: log entries -> the request traces they serve, which parent
 * and link the batch spans (API.md §8).
 */
import assert from "node:assert/strict";
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import {
  type BatchTrace,
  EntryTraces,
  MAX_RANGES,
  mergeTraces,
} from "../../src/telemetry/entry_traces.ts";
import { ctxOf, recordingSpan } from "./_otel.ts";

const parentId = (t: BatchTrace | undefined) => trace.getSpanContext(t!.ctx)?.spanId;
const linkIds = (t: BatchTrace | undefined) => t!.links.map((l) => l.context.spanId);

Deno.test("EntryTraces: untraced: nothing recorded, lookups are undefined", () => {
  const e = new EntryTraces();
  e.addSpan(1, undefined);
  e.addSpan(2, trace.wrapSpanContext(recordingSpan().spanContext())); // not recording
  e.addContext(3, 5, undefined);
  e.addContext(3, 5, ROOT_CONTEXT);
  assert.equal(e.size, 0);
  assert.equal(e.lookup(1, 5), undefined);
});

Deno.test("EntryTraces: a batch: parent is the first request, links are the others", () => {
  const e = new EntryTraces();
  const spans = [recordingSpan(), recordingSpan(), recordingSpan()];
  spans.forEach((s, i) => e.addSpan(10 + i, s));
  const b = e.lookup(10, 12);
  assert.equal(parentId(b), spans[0]!.spanContext().spanId);
  assert.deepEqual(linkIds(b), [spans[1]!, spans[2]!].map((s) => s.spanContext().spanId));
  assert.deepEqual(linkIds(e.lookup(11, 11)), []);
  assert.equal(parentId(e.lookup(11, 11)), spans[1]!.spanContext().spanId);
  assert.equal(e.lookup(13, 20), undefined);
  assert.equal(e.lookup(12, 11), undefined);
});

Deno.test("EntryTraces: follower: one received batch covers a range, merged when contiguous", () => {
  const e = new EntryTraces();
  const server = recordingSpan();
  e.addContext(5, 7, ctxOf(server));
  e.addContext(8, 9, ctxOf(server));
  assert.equal(e.size, 1);
  const b = e.lookup(6, 9);
  assert.equal(parentId(b), server.spanContext().spanId);
  assert.deepEqual(linkIds(b), []);
});

Deno.test("EntryTraces: prune forgets applied entries; clear forgets all", () => {
  const e = new EntryTraces();
  for (let i = 1; i <= 5; i++) e.addSpan(i, recordingSpan());
  e.prune(3);
  assert.equal(e.size, 2);
  assert.equal(e.lookup(1, 3), undefined);
  assert.ok(e.lookup(4, 4));
  e.clear();
  assert.equal(e.size, 0);
});

Deno.test("EntryTraces: bounded: the oldest ranges go first", () => {
  const e = new EntryTraces();
  for (let i = 1; i <= MAX_RANGES + 10; i++) e.addSpan(i, recordingSpan());
  assert.equal(e.size, MAX_RANGES);
  assert.equal(e.lookup(1, 10), undefined);
  assert.ok(e.lookup(11, 11));
});

Deno.test("mergeTraces keeps the first parent and links the rest once", () => {
  const [a, b, c] = [recordingSpan(), recordingSpan(), recordingSpan()];
  const x: BatchTrace = { ctx: ctxOf(a), links: [] };
  const y: BatchTrace = { ctx: ctxOf(b), links: [{ context: c.spanContext() }] };
  const m = mergeTraces(x, y);
  assert.equal(parentId(m), a.spanContext().spanId);
  assert.deepEqual(linkIds(m), [b, c].map((s) => s.spanContext().spanId));
  assert.deepEqual(linkIds(mergeTraces(x, x)), []);
});
