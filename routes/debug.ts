/**
 * `/debug/failpoints`: drive the failpoint registry in tests. Hidden (404)
 * unless the node runs with `--enable-failpoints`; guarded by the cluster
 * token when one is set.
 * @module
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { FAILPOINT_NAMES, type FailpointName } from "../src/failpoints/registry.ts";
import { jsonBody } from "./body.ts";
import type { AppDeps, AppEnv } from "./deps.ts";
import { ApiError, invalid, notFound } from "./errors.ts";
import { json } from "./respond.ts";
import { FailActionBody } from "./schemas.ts";

/** Constant-time string comparison, so a wrong token leaks no prefix. */
function sameSecret(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) {
    diff |= a.charCodeAt(i) ^ b.charCodeAt(i % (b.length || 1));
  }
  return diff === 0;
}

function guard(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async function guard(c, next) {
    if (!deps.failpoints.enabled) return notFound(c);
    const token = deps.config.clusterToken;
    if (token !== null) {
      const m = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "");
      if (!m || !sameSecret(m[1]!, token)) {
        throw new ApiError(
          401,
          "unauthorized",
          "A valid cluster token is required",
          {},
          { "www-authenticate": "Bearer" },
        );
      }
    }
    await next();
  };
}

function nameOf(c: Context): FailpointName {
  const name = c.req.param("name") ?? "";
  if (!(FAILPOINT_NAMES as readonly string[]).includes(name)) {
    throw invalid(`Unknown failpoint "${name}"`, {
      known: FAILPOINT_NAMES,
    });
  }
  return name as FailpointName;
}

/** Builds the failpoint routes over `deps.failpoints`. */
export function createDebugRoutes(deps: AppDeps): Hono<AppEnv> {
  const fp = deps.failpoints;
  const list = () => json(JSON.stringify({ failpoints: fp.list() }));
  const app = new Hono<AppEnv>();
  app.use("/debug/failpoints", guard(deps));
  app.use("/debug/failpoints/*", guard(deps));
  app.get("/debug/failpoints", list);
  app.delete("/debug/failpoints", () => {
    fp.clear();
    return list();
  });
  app.put("/debug/failpoints/:name", jsonBody(deps.config.maxBodyBytes), (c) => {
    const name = nameOf(c);
    fp.set(name, FailActionBody.parse(c.get("json")));
    return list();
  });
  app.delete("/debug/failpoints/:name", (c) => {
    fp.clear(nameOf(c));
    return list();
  });
  return app;
}
