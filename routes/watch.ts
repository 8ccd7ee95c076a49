/**
 * `GET /v1/watch` (API.md §5): a key, a prefix or `[start, end)` as a
 * server-sent event stream of this node's applied changes, optionally
 * replaying held history first (`fromIndex`, or `Last-Event-ID`).
 * @module
 */
import { Hono } from "hono";
import type { WatchSink } from "../src/engine/watch_hub.ts";
import type { KeyRange } from "../src/kv/types.ts";
import type { AppDeps, AppEnv } from "./deps.ts";
import { invalid } from "./errors.ts";
import { toKeyRange } from "./range.ts";
import { indexHeader } from "./respond.ts";
import { WatchQuery } from "./schemas.ts";
import { SseStream, WATCH_QUEUE_BYTES } from "./sse.ts";
import { checkKey, parseQuery } from "./validate.ts";

/** The watch route pattern (also the metrics label). */
export const WATCH_ROUTE = "/v1/watch";

/**
 * Where a reconnecting client resumes. `Last-Event-ID` is the id of the
 * last event it received (SSE), so it resumes after it: every event of
 * that entry was sent in one chunk with it. EventSource reconnects to the
 * same URL, `fromIndex` included, so the header wins over the query.
 */
function resumeIndex(lastEventId: string | undefined, fromIndex: number | undefined) {
  if (lastEventId === undefined || lastEventId.trim() === "") return fromIndex ?? null;
  const m = /^\s*(\d{1,15})\s*$/.exec(lastEventId);
  if (!m) throw invalid("Last-Event-ID must be the id (a modIndex) of an event");
  return Number(m[1]) + 1;
}

/** A sink for HEAD, which answers like GET but streams nothing. */
const DISCARD: WatchSink = { changes: () => true, keepalive: () => {}, end: () => {} };

/** Builds the watch route over `deps.engine`. */
export function createWatchRoutes(deps: AppDeps, queueBytes = WATCH_QUEUE_BYTES): Hono<AppEnv> {
  const { engine, config } = deps;
  const app = new Hono<AppEnv>();

  app.get(WATCH_ROUTE, (c) => {
    const q = parseQuery(c.req.url, WatchQuery);
    const range: KeyRange = q.key === undefined
      ? toKeyRange(q, config.maxKeyBytes)
      : { start: checkKey(q.key, config.maxKeyBytes), end: `${q.key}\0` }; // just the key
    const from = resumeIndex(c.req.header("last-event-id"), q.fromIndex);
    const headers = {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "x-accel-buffering": "no", // nginx: pass events through unbuffered
    };
    if (c.req.method === "HEAD") {
      // Hono drops a HEAD body unread: a stream here would never be cancelled.
      const w = engine.watch(range, from, DISCARD);
      w.cancel();
      return new Response(null, { headers: { ...headers, ...indexHeader(w.index) } });
    }
    const sse = new SseStream(queueBytes);
    const watch = engine.watch(range, from, sse);
    sse.attach(watch);
    return new Response(sse.body, { headers: { ...headers, ...indexHeader(watch.index) } });
  });
  return app;
}
