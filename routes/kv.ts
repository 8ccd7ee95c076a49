/**
 * Single-key routes: `PUT/GET/DELETE /v1/kv/{key}` (API.md §3). Keys may
 * contain slashes; they are taken from the raw path and decoded once.
 * @module
 */
import { type Context, Hono } from "hono";
import type { Config } from "../src/config.ts";
import type { KvCommand } from "../src/kv/types.ts";
import type { WriteResult } from "../src/engine/types.ts";
import { jsonBody } from "./body.ts";
import { conditionalRead } from "./conditional.ts";
import type { AppDeps, AppEnv } from "./deps.ts";
import { ApiError, invalid } from "./errors.ts";
import { renderPut, renderRecord } from "./render.ts";
import { etag, expectResult, indexHeader, json } from "./respond.ts";
import { DeleteQuery, GetQuery, PutBody, PutQuery } from "./schemas.ts";
import { keyFromUrl, parseQuery, preconditions, serializeValue } from "./validate.ts";

export const PREFIX = "/v1/kv/";
/** The route pattern (also the metrics label). */
export const KEY_ROUTE = "/v1/kv/:key{.+}";

type PutCommand = Extract<KvCommand, { type: "put" }>;

/** What a put is made of: URL, precondition headers and parsed body. */
export interface PutRequest {
  readonly url: string;
  readonly ifMatch: string | undefined;
  readonly ifNoneMatch: string | undefined;
  readonly json: unknown;
}

/** The put a request asks for; every check runs before the engine sees it. */
export function putCommand(r: PutRequest, config: Config): PutCommand {
  const key = keyFromUrl(r.url, PREFIX, config.maxKeyBytes);
  const { prev } = parseQuery(r.url, PutQuery);
  const pre = preconditions(r.ifMatch, r.ifNoneMatch, true);
  const { value } = putBody(r.json);
  const text = serializeValue(value, config.maxValueBytes);
  const cmd = { type: "put", key, value: text, ...pre } as const;
  return prev ? { ...cmd, prev: true } : cmd;
}

/** The 200 of a put: body and headers. */
export function putAnswer(
  cmd: PutCommand,
  w: WriteResult,
  extra: Readonly<Record<string, string>> = {},
): Response {
  const r = expectResult(w, "put");
  const body = renderPut(r.record, cmd.prev ? r.prev : undefined);
  return json(body, { ...etag(r.record), ...indexHeader(w.index), ...extra });
}

/**
 * `{"value": …}` as PutBody admits it, checked without zod's generic walk
 * (the hot path of every put); anything else goes to zod for its answer.
 */
function putBody(body: unknown): { value: unknown } {
  if (typeof body === "object" && body !== null && !Array.isArray(body)) {
    let n = 0;
    for (const _ in body) n++;
    if (n === 1 && Object.hasOwn(body, "value")) return body as { value: unknown };
  }
  return PutBody.parse(body);
}

/** The delete a request asks for (`If-Match` only). */
function deleteCommand(c: Context<AppEnv>, config: Config): KvCommand {
  const key = keyFromUrl(c.req.url, PREFIX, config.maxKeyBytes);
  parseQuery(c.req.url, DeleteQuery);
  const pre = preconditions(c.req.header("if-match"), c.req.header("if-none-match"), false);
  return { type: "delete", key, ...pre };
}

/** Builds the single-key routes over `deps.engine`. */
export function createKvRoutes(deps: AppDeps): Hono<AppEnv> {
  const { engine, config } = deps;
  const app = new Hono<AppEnv>();

  app.get(KEY_ROUTE, async (c) => {
    const key = keyFromUrl(c.req.url, PREFIX, config.maxKeyBytes);
    const q = parseQuery(c.req.url, GetQuery);
    const view = await engine.asyncSnapshot(q.consistency);
    const rec = view.get(key);
    const conditional = conditionalRead(c.req.raw.headers, rec, view.index);
    if (conditional) return conditional;
    if (rec === null) {
      const msg = `Key ${JSON.stringify(key)} not found`;
      throw new ApiError(404, "key_not_found", msg, {}, indexHeader(view.index));
    }
    return json(renderRecord(rec), { ...etag(rec), ...indexHeader(view.index) });
  });

  app.put(KEY_ROUTE, jsonBody(config.maxBodyBytes), async (c) => {
    const cmd = putCommand({
      url: c.req.url,
      ifMatch: c.req.header("if-match"),
      ifNoneMatch: c.req.header("if-none-match"),
      json: c.get("json"),
    }, config);
    return putAnswer(cmd, await engine.asyncWrite(cmd));
  });

  app.delete(KEY_ROUTE, async (c) => {
    const w = await engine.asyncWrite(deleteCommand(c, config));
    const r = expectResult(w, "delete");
    return json(`{"deleted":${r.deleted}}`, indexHeader(w.index));
  });

  // `/v1/kv/` names the empty key, which no record can have.
  app.all(PREFIX, () => {
    throw invalid("Key must not be empty; to list keys use /v1/kv?prefix=");
  });
  return app;
}
