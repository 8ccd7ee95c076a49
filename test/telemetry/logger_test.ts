/** Structured JSON logs (`src/telemetry/logger.ts`). */
import assert from "node:assert/strict";
import { context, trace } from "@opentelemetry/api";
import { Logger, type LogLevel, LogThrottle } from "../../src/telemetry/logger.ts";
import { ctxOf, recordingSpan, spanContext, withContextManager } from "./_otel.ts";

function capture(level: LogLevel | "silent" = "debug", term = () => 7) {
  const lines: Record<string, unknown>[] = [];
  const log = new Logger("n2", level, term, (l) => lines.push(JSON.parse(l)));
  return { log, lines };
}

Deno.test("Logger: one JSON object per line: time, level, node, term, msg, fields", () => {
  const raw: string[] = [];
  const log = new Logger("n1", "info", () => 3, (l) => raw.push(l));
  log.info("leader changed", { leader: "n2", count: 2 });
  assert.equal(raw.length, 1);
  assert.ok(!raw[0]!.includes("\n"));
  const line = JSON.parse(raw[0]!);
  assert.deepEqual(Object.keys(line), [
    "time",
    "level",
    "node",
    "term",
    "msg",
    "leader",
    "count",
  ]);
  assert.equal(line.level, "info");
  assert.equal(line.node, "n1");
  assert.equal(line.term, 3);
  assert.equal(line.msg, "leader changed");
  assert.ok(!Number.isNaN(Date.parse(line.time)));
});

Deno.test("Logger: the level is a floor", () => {
  const levels: LogLevel[] = ["debug", "info", "warn", "error"];
  for (const [i, floor] of levels.entries()) {
    const { log, lines } = capture(floor);
    for (const l of levels) log[l](l);
    assert.deepEqual(lines.map((l) => l.msg), levels.slice(i));
    assert.equal(log.enabled("debug"), floor === "debug");
    assert.ok(log.enabled("error"));
  }
});

Deno.test("Logger: silent writes nothing", () => {
  const { log, lines } = capture("silent");
  log.error("x");
  assert.equal(lines.length, 0);
  assert.ok(!Logger.silent().enabled("error"));
});

Deno.test("Logger: term is read at each line", () => {
  let term = 1;
  const { log, lines } = capture("info", () => term);
  log.info("a");
  term = 5;
  log.info("b");
  assert.deepEqual(lines.map((l) => l.term), [1, 5]);
});

Deno.test("Logger: fields never overwrite the logger's keys; errors become text", () => {
  const { log, lines } = capture();
  log.warn("peer unreachable", {
    msg: "spoof",
    level: "error",
    error: new TypeError("connection refused"),
    big: 12n,
  });
  const l = lines[0]!;
  assert.equal(l.msg, "peer unreachable");
  assert.equal(l.level, "warn");
  assert.equal(l["field.msg"], "spoof");
  assert.equal(l["field.level"], "error");
  assert.equal(l.error, "TypeError: connection refused");
  assert.equal(l.big, "12");
});

Deno.test("Logger: inside a span: trace_id and span_id; outside: none", () => {
  const { log, lines } = capture();
  const sc = spanContext();
  withContextManager(() => {
    context.with(ctxOf(recordingSpan(sc)), () => log.info("inside"));
    context.with(ctxOf(trace.wrapSpanContext(sc)), () => log.info("non-recording, same ids"));
    log.info("outside");
  });
  assert.equal(lines[0]!.trace_id, sc.traceId);
  assert.equal(lines[0]!.span_id, sc.spanId);
  assert.equal(lines[1]!.trace_id, sc.traceId);
  assert.equal(lines[2]!.trace_id, undefined);
  assert.equal(lines[2]!.span_id, undefined);
});

Deno.test("LogThrottle lets a key through once per period", () => {
  const t = new LogThrottle(60_000);
  assert.equal(t.allow("a", 0), true);
  assert.equal(t.allow("a", 59_999), false);
  assert.equal(t.allow("b", 59_999), true, "keys are separate");
  assert.equal(t.allow("a", 60_000), true);
});
