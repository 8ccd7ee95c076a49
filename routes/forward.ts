/**
 * Forwarding to the leader: a follower re-sends a request it cannot serve
 * (writes, lease reads) to the leader and relays the answer, so any node
 * serves any request (API.md §6).
 * @module
 */
import type { Context } from "hono";
import { context, type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import { ATTR, SPAN } from "../src/telemetry/names.ts";
import { startChildSpan } from "../src/telemetry/spans.ts";
import type { AppDeps, AppEnv } from "./deps.ts";
import { PREFIX } from "./kv.ts";
import { splitUrl } from "./validate.ts";
import {
  ApiError,
  errorResponse,
  FORWARDED_HEADER,
  type Forwarder,
  invalid,
  retryLater,
} from "./errors.ts";

/** Request headers that carry meaning to the leader. */
const PASS = [
  "accept",
  "authorization",
  "content-type",
  "if-match",
  "if-none-match",
];

/**
 * The client's trace headers, passed on only when this node does not trace:
 * when it does, Deno's fetch injects the forward span's context itself (and
 * would append a second `traceparent` to a copied one).
 */
const PASS_UNTRACED = [...PASS, "traceparent", "tracestate"];

/**
 * Response headers relayed back to the client. Not `x-raftkv-node`: the
 * answer is this node's (it names itself, as for a write forwarded on the
 * peer stream); `x-raftkv-leader` names the leader that served it.
 */
const RELAY = [
  "content-type",
  "etag",
  "retry-after",
  "x-raftkv-index",
  "x-raftkv-leader",
];

/** Builds the {@link Forwarder} the error handler uses. */
export function createForwarder(deps: AppDeps): Forwarder {
  const send = deps.fetch ?? fetch;
  return async function forward(c: Context<AppEnv>, leaderUrl: string) {
    const { path, query } = splitUrl(c.req.url);
    if (DOT_KEY.test(path)) {
      return errorResponse(invalid(
        "A key that is `.` or `..` cannot be forwarded to the leader (URL parsers collapse it): " +
          "read it with consistency=linearizable or stale, or from the leader",
      ));
    }
    const target = leaderUrl.replace(/\/+$/, "") + forwardPath(path) + (query ? `?${query}` : "");
    const span = startForwardSpan(deps.engine.id, leaderUrl);
    const headers = new Headers({ [FORWARDED_HEADER]: deps.engine.id });
    for (const h of span ? PASS : PASS_UNTRACED) {
      const v = c.req.header(h);
      if (v !== undefined) headers.set(h, v);
    }
    deps.metrics.forwarded.inc({ method: c.req.method });
    let res: Response;
    let body: ArrayBuffer;
    try {
      res = await withSpan(span, () =>
        send(target, {
          method: c.req.method,
          headers,
          body: c.get("rawBody") ?? null,
          redirect: "manual",
          signal: AbortSignal.timeout(deps.config.requestTimeoutMs),
        }));
      body = await res.arrayBuffer();
      if (res.status >= 500) {
        span?.setStatus({ code: SpanStatusCode.ERROR, message: `Leader answered ${res.status}` });
      }
    } catch (err) {
      const failure = forwardFailure(err, leaderUrl, c.req.method);
      span?.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      return errorResponse(failure);
    } finally {
      span?.end();
    }
    const out = new Headers();
    for (const h of RELAY) {
      const v = res.headers.get(h);
      if (v !== null) out.set(h, v);
    }
    return new Response(body, { status: res.status, headers: out });
  };
}

/** A kv path whose whole key is a dot segment (`%2e` counts as a dot). */
const DOT_KEY = /^\/v1\/kv\/(?:\.|%2e){1,2}$/i;

/** What a URL parser changes in a path: backslashes and `.` or `..` segments. */
const REWRITTEN = /\\|\/(?:\.|%2e){1,2}(?:\/|$)/i;

/** True when a URL parser (a `new Request`, `fetch`) would change `path`. */
export function parsersRewrite(path: string): boolean {
  return REWRITTEN.test(path);
}

/**
 * The raw path as the leader must see it. `fetch` parses its URL, and a URL
 * parser turns `\` into `/` and collapses `.` and `..` segments: a key
 * `a\b` or `a/../b` would reach the leader as another key. So backslashes
 * go percent-encoded, and so do a key's slashes (one segment: nothing to
 * collapse); the leader decodes both back to the same key.
 */
export function forwardPath(path: string): string {
  const p = path.replaceAll("\\", "%5C");
  return p.startsWith(PREFIX) ? PREFIX + p.slice(PREFIX.length).replaceAll("/", "%2F") : p;
}

/** `raftkv.forward` around the re-sent request; none when nothing traces this request. */
function startForwardSpan(node: string, leaderUrl: string): Span | undefined {
  const span = startChildSpan(SPAN.forward);
  span?.setAttributes({ [ATTR.node]: node, [ATTR.leader]: leaderUrl });
  return span;
}

/** Runs `fn` with `span` active, so Deno's fetch span becomes its child. */
function withSpan<T>(span: Span | undefined, fn: () => T): T {
  return span ? context.with(trace.setSpan(context.active(), span), fn) : fn();
}

/**
 * A failed forward of a write has an unknown outcome: even a "(Connect)"
 * error does not prove the leader never saw it, because Deno's fetch
 * silently resends on a new connection when a pooled one dies and reports
 * the resend's error (jepsen finding 3). Only a read may say "unavailable".
 */
function forwardFailure(err: unknown, leaderUrl: string, method: string): ApiError {
  const read = method === "GET" || method === "HEAD";
  if (err instanceof DOMException && err.name === "TimeoutError") {
    const unknown = read ? "" : "; a write may or may not have happened";
    return new ApiError(504, "timeout", `The leader did not answer in time${unknown}`);
  }
  // Deno's fetch says only "fetch failed"; the detail is in `cause`.
  const cause = err instanceof Error && err.cause !== undefined ? `: ${err.cause}` : "";
  const why = (err instanceof Error ? err.message : String(err)) + cause;
  if (read) {
    return retryLater("unavailable", `Leader at ${leaderUrl} unreachable: ${why}`);
  }
  return retryLater(
    "leadership_changed",
    `Lost the leader at ${leaderUrl} (${why}); the write may or may not have happened`,
  );
}
