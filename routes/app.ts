/**
 * The HTTP application: one Hono app with the client API (API.md §2-6), the
 * debug routes and, when given, the peer API under `/raft`. Routes only
 * translate between HTTP and the engine; errors map once, in `errors.ts`.
 * @module
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { createClusterRoutes } from "./cluster.ts";
import { createDebugRoutes } from "./debug.ts";
import type { AppDeps, AppEnv } from "./deps.ts";
import { ApiError, createErrorHandler, errorResponse, notFound } from "./errors.ts";
import { createForwarder } from "./forward.ts";
import { createKvRoutes } from "./kv.ts";
import { createMemberRoutes } from "./members.ts";
import { createRangeRoutes } from "./range.ts";
import { createTxnRoutes } from "./txn.ts";
import { createWatchRoutes, WATCH_ROUTE } from "./watch.ts";
import { createFastPut, nodeHeaders, type Observe } from "./fast_put.ts";
import { splitUrl } from "./validate.ts";

export type { AppDeps, AppEnv } from "./deps.ts";

/** Metrics label of requests that matched no route (bounds cardinality). */
export const UNMATCHED = "unmatched";

/** The pattern of the handler that answered, e.g. `/v1/kv/:key{.+}`. */
function routeOf(c: Context): string {
  // TODO(routes): use routePath() from "hono/route" once the `hono/` import
  // map entry resolves (it needs the `npm:/hono@…/` form).
  const routes = c.req.matchedRoutes;
  for (let i = routes.length - 1; i >= 0; i--) {
    if (routes[i]!.method !== "ALL") return routes[i]!.path;
  }
  return UNMATCHED;
}

/** Sets a header unless the answer already has one (a relayed answer). */
function withDefault(res: Response, name: string, value: string): Response {
  if (res.headers.has(name)) return res;
  try {
    res.headers.set(name, value);
    return res;
  } catch {
    // Immutable headers (a passed-through fetch Response): copy first.
    const copy = new Response(res.body, res);
    copy.headers.set(name, value);
    return copy;
  }
}

const METHODS = new Set(["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"]);

/** The method as a metrics label; any method token is legal HTTP, so bound it. */
const methodLabel = (m: string) => METHODS.has(m) ? m : "OTHER";

/** Node headers on an answer, plus request count and latency. */
function createObserve(deps: AppDeps): Observe {
  const { metrics } = deps;
  // Series handles per (route, method, code): no label objects per request.
  const series = new Map<string, { count: () => void; latency: (s: number) => void }>();
  const seriesOf = (route: string, method: string, code: string) => {
    const key = `${route} ${method} ${code}`;
    let s = series.get(key);
    if (!s) {
      s = {
        count: metrics.httpRequests.bind({ route, method, code }),
        latency: metrics.httpLatency.bind({ route, code }),
      };
      series.set(key, s);
    }
    return s;
  };
  return (res, route, method, t0, hasNodeHeaders = false) => {
    let out = res;
    if (!hasNodeHeaders) {
      const headers = nodeHeaders(deps);
      for (const name in headers) out = withDefault(out, name, headers[name]!);
    }
    const s = seriesOf(route, methodLabel(method), String(out.status));
    s.count();
    s.latency((performance.now() - t0) / 1000);
    return out;
  };
}

/** HEAD requests the handler passed to the app as GETs (see `headAsGet`). */
const HEADS = new WeakSet<Request>();

/** The observe middleware: every answer of the app goes through it. */
function observe(record: Observe): MiddlewareHandler<AppEnv> {
  return async function observe(c, next) {
    const t0 = performance.now();
    await next();
    const method = HEADS.has(c.req.raw) ? "HEAD" : c.req.method;
    const out = record(c.res, routeOf(c), method, t0);
    if (out !== c.res) c.res = out;
  };
}

/** Client routes and their methods, to tell 405 from 404. */
const ALLOWED: readonly (readonly [RegExp, string])[] = [
  [/^\/v1\/kv\/./, "GET, HEAD, PUT, DELETE"],
  [/^\/v1\/kv$/, "GET, HEAD, DELETE"],
  [/^\/v1\/txn$/, "POST"],
  [/^\/v1\/watch$/, "GET, HEAD"],
  [/^\/(v1\/cluster|healthz|readyz|metrics)$/, "GET, HEAD"],
  [/^\/v1\/cluster\/(members|leader)$/, "POST"],
  [/^\/v1\/cluster\/members\/./, "DELETE"],
];

/** 405 with `Allow` for a known path and a wrong method, else 404. */
function notFoundOrMethod(c: Context): Response {
  const { path } = splitUrl(c.req.url);
  const allow = ALLOWED.find(([re]) => re.test(path))?.[1];
  if (allow === undefined) return notFound(c);
  return errorResponse(
    new ApiError(
      405,
      "method_not_allowed",
      `${c.req.method} is not allowed on ${path}; use ${allow}`,
      {},
      { allow },
    ),
  );
}

/**
 * Builds the node's HTTP app. `main.ts` serves it with `Deno.serve`; tests
 * call `app.request()` with a fake engine.
 */
export function createApp(deps: AppDeps, record = createObserve(deps)): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(observe(record));
  app.route("/", createKvRoutes(deps));
  app.route("/", createRangeRoutes(deps));
  app.route("/", createTxnRoutes(deps));
  app.route("/", createWatchRoutes(deps));
  app.route("/", createClusterRoutes(deps));
  app.route("/", createMemberRoutes(deps));
  app.route("/", createDebugRoutes(deps));
  if (deps.peerApp) app.route("/raft", deps.peerApp);
  app.notFound(notFoundOrMethod);
  app.onError(createErrorHandler(createForwarder(deps)));
  return app;
}

/**
 * The node's request handler: the put fast path (`fast_put.ts`) in front
 * of the app. What `main.ts` serves.
 */
export function createHandler(deps: AppDeps): (req: Request) => Response | Promise<Response> {
  // One observer (and one set of metric handles) for both paths.
  const record = createObserve(deps);
  const app = createApp(deps, record);
  const full = (req: Request) => app.fetch(req);
  const fast = createFastPut(deps, full, record);
  return (req) => fast(req) ?? (req.method === "HEAD" ? headAsGet(req, full) : full(req));
}

/**
 * Hono answers HEAD with its GET answer's body dropped, and so with
 * `content-length: 0`; RFC 9110 wants the GET answer's headers. So a HEAD
 * is served as a GET and the body is measured, then dropped. Not a watch:
 * its GET is an endless stream (the route answers HEAD itself).
 */
async function headAsGet(
  req: Request,
  serve: (req: Request) => Response | Promise<Response>,
): Promise<Response> {
  if (splitUrl(req.url).path === WATCH_ROUTE) return serve(req);
  const get = new Request(req, { method: "GET" });
  HEADS.add(get);
  const res = await serve(get);
  const length = (await res.arrayBuffer()).byteLength;
  const headers = new Headers(res.headers);
  headers.set("content-length", String(length));
  return new Response(null, { status: res.status, statusText: res.statusText, headers });
}
