/**
 * Single-key routes: `PUT/GET/DELETE /v1/kv/{key}` (API.md §3). Keys may
 * contain slashes; they are taken from the raw path and decoded once.
 * @module
 */
import { type Context, Hono } from "hono";
import { jsonBody } from "./body.ts";
import type { AppDeps, AppEnv } from "./deps.ts";
import { ApiError, invalid } from "./errors.ts";
import { renderPut, renderRecord } from "./render.ts";
import { etag, expectResult, indexHeader, json, signalOf } from "./respond.ts";
import { DeleteQuery, GetQuery, PutBody, PutQuery } from "./schemas.ts";
import { keyFromUrl, parseQuery, preconditions, serializeValue } from "./validate.ts";

const PREFIX = "/v1/kv/";
/** The route pattern (also the metrics label). */
export const KEY_ROUTE = "/v1/kv/:key{.+}";

/** Builds the single-key routes over `deps.engine`. */
export function createKvRoutes(deps: AppDeps): Hono<AppEnv> {
  const { engine, config } = deps;
  const keyOf = (c: Context) => keyFromUrl(c.req.url, PREFIX, config.maxKeyBytes);
  const app = new Hono<AppEnv>();

  app.get(KEY_ROUTE, async (c) => {
    const key = keyOf(c);
    const q = parseQuery(c.req.url, GetQuery);
    const view = await engine.asyncSnapshot(q.consistency, signalOf(c));
    const rec = view.get(key);
    if (rec === null) {
      const msg = `Key ${JSON.stringify(key)} not found`;
      throw new ApiError(404, "key_not_found", msg, {}, indexHeader(view.index));
    }
    return json(renderRecord(rec), { ...etag(rec), ...indexHeader(view.index) });
  });

  app.put(KEY_ROUTE, jsonBody(config.maxBodyBytes), async (c) => {
    const key = keyOf(c);
    const { prev } = parseQuery(c.req.url, PutQuery);
    const pre = preconditions(
      c.req.header("if-match"),
      c.req.header("if-none-match"),
      true,
    );
    const { value } = PutBody.parse(c.get("json"));
    const text = serializeValue(value, config.maxValueBytes);
    const cmd = { type: "put", key, value: text, ...pre } as const;
    const w = await engine.asyncWrite(
      prev ? { ...cmd, prev: true } : cmd,
      signalOf(c),
    );
    const r = expectResult(w, "put");
    const body = renderPut(r.record, prev ? r.prev : undefined);
    return json(body, { ...etag(r.record), ...indexHeader(w.index) });
  });

  app.delete(KEY_ROUTE, async (c) => {
    const key = keyOf(c);
    parseQuery(c.req.url, DeleteQuery);
    const pre = preconditions(
      c.req.header("if-match"),
      c.req.header("if-none-match"),
      false,
    );
    const w = await engine.asyncWrite({ type: "delete", key, ...pre }, signalOf(c));
    const r = expectResult(w, "delete");
    return json(`{"deleted":${r.deleted}}`, indexHeader(w.index));
  });

  // `/v1/kv/` names the empty key, which no record can have.
  app.all(PREFIX, () => {
    throw invalid("Key must not be empty; to list keys use /v1/kv?prefix=");
  });
  return app;
}
