/**
 * Builds an app over a FakeEngine for route tests, plus request helpers.
 * @module
 */
import { createHandler } from "../../routes/app.ts";
import type { AppDeps } from "../../routes/deps.ts";
import { type Config, parseConfig } from "../../src/config.ts";
import { Failpoints } from "../../src/failpoints/registry.ts";
import { createNodeMetrics } from "../../src/telemetry/node_metrics.ts";
import { FakeEngine, type FakeEngineOptions } from "./_fake_engine.ts";

/** Options of {@link makeApp}. */
export interface MakeAppOptions extends FakeEngineOptions {
  /** Flags for parseConfig. */
  readonly args?: string[];
  readonly failpoints?: boolean;
  readonly fetch?: typeof fetch;
  readonly engine?: FakeEngine;
  readonly peerApp?: AppDeps["peerApp"];
}

/**
 * What the tests call: `request()` as Hono's `app.request` takes it, served
 * by the node's whole handler (the put fast path, then the app), as
 * `main.ts` serves it.
 */
export interface TestApp {
  request(input: string | Request, init?: RequestInit): Promise<Response>;
}

/** A ready app over a fresh FakeEngine. */
export function makeApp(opts: MakeAppOptions = {}) {
  const config: Config = parseConfig(opts.args ?? [], {});
  const engine = opts.engine ?? new FakeEngine(opts);
  const metrics = createNodeMetrics();
  const failpoints = new Failpoints();
  if (opts.failpoints) failpoints.enable();
  const deps: AppDeps = {
    engine,
    config,
    metrics,
    failpoints,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.peerApp ? { peerApp: opts.peerApp } : {}),
  };
  const handler = createHandler(deps);
  const app: TestApp = {
    request: async (input, init) =>
      await handler(
        typeof input === "string"
          ? new Request(new URL(input, "http://localhost"), sized(init))
          : input,
      ),
  };
  return { app, engine, metrics, failpoints, config };
}

/**
 * `init` with the content-length a client sends for a body it holds whole
 * (a Request built in memory has none, and only such bodies take the put
 * fast path).
 */
function sized(init: RequestInit | undefined): RequestInit | undefined {
  const body = init?.body;
  if (typeof body !== "string" && !(body instanceof Uint8Array)) return init;
  const headers = new Headers(init!.headers);
  const length = typeof body === "string" ? new TextEncoder().encode(body).length : body.length;
  if (!headers.has("content-length")) headers.set("content-length", String(length));
  return { ...init, headers };
}

/** A JSON request init. */
export function jsonInit(
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
): RequestInit {
  return {
    method,
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  };
}

/** The parsed JSON of a response. */
export async function body(res: Response): Promise<unknown> {
  return JSON.parse(await res.text());
}
