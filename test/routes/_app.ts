/**
 * Builds an app over a FakeEngine for route tests, plus request helpers.
 * @module
 */
import { createApp } from "../../routes/app.ts";
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
  return { app: createApp(deps), engine, metrics, failpoints, config };
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
