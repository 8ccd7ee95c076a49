/**
 * Cluster and operations routes (API.md §6): status, liveness, readiness
 * and Prometheus metrics.
 * @module
 */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "./deps.ts";
import { retryLater } from "./errors.ts";
import { json } from "./respond.ts";

/** Builds `/v1/cluster`, `/healthz`, `/readyz` and `/metrics`. */
export function createClusterRoutes(deps: AppDeps): Hono<AppEnv> {
  const { engine } = deps;
  const app = new Hono<AppEnv>();

  app.get("/v1/cluster", () => json(JSON.stringify(engine.status())));

  // Liveness: the process answers; says nothing about the cluster.
  app.get("/healthz", () => json('{"status":"ok"}'));

  app.get("/readyz", () => {
    const why = engine.unreadyReason();
    if (why === null) return json('{"status":"ready"}');
    throw retryLater("unavailable", `Not ready: ${why}`);
  });

  app.get("/metrics", () =>
    new Response(deps.metrics.registry.render(), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    }));
  return app;
}
