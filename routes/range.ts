/**
 * Range routes: `GET /v1/kv` (paged, in key order) and `DELETE /v1/kv` (one
 * deleteRange command, one log entry) over a prefix or `[start, end)`.
 * @module
 */
import { Hono } from "hono";
import type { KeyRange, KvRecord } from "../src/kv/types.ts";
import { compareKeys, prefixEnd } from "../src/kv/key_order.ts";
import type { AppDeps, AppEnv } from "./deps.ts";
import { invalid } from "./errors.ts";
import { renderRange } from "./render.ts";
import { expectResult, indexHeader, json } from "./respond.ts";
import { CursorPayload, DeleteRangeQuery, RangeQuery } from "./schemas.ts";
import { checkBound, noPreconditions, parseQuery } from "./validate.ts";

/** The range route pattern (also the metrics label). */
export const RANGE_ROUTE = "/v1/kv";

interface RangeParams {
  readonly prefix?: string | undefined;
  readonly start?: string | undefined;
  readonly end?: string | undefined;
}

/** The KeyRange a query names; bounds are checked like keys (400/413). */
export function toKeyRange(q: RangeParams, maxBytes: number): KeyRange {
  if (q.prefix !== undefined) {
    const p = checkBound(q.prefix, maxBytes, "prefix");
    return { start: p, end: prefixEnd(p) };
  }
  const start = checkBound(q.start ?? "", maxBytes, "start");
  const end = q.end === undefined ? null : checkBound(q.end, maxBytes, "end");
  if (end !== null && compareKeys(start, end) >= 0) {
    throw invalid("end must sort after start");
  }
  return { start, end };
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** Opaque page cursor: base64url of `{"k": lastKey}`. */
export function encodeCursor(lastKey: string): string {
  const bytes = utf8.encode(JSON.stringify({ k: lastKey }));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The last key a cursor carries; anything not made by us is a 400. */
export function decodeCursor(cursor: string): string {
  try {
    if (!/^[A-Za-z0-9_-]*$/.test(cursor)) throw new Error("alphabet");
    const bin = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const bytes = Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
    const k = CursorPayload.parse(JSON.parse(utf8Strict.decode(bytes))).k;
    if (!k.isWellFormed()) throw new Error("key");
    return k;
  } catch {
    throw invalid("Invalid cursor; pass the cursor of the previous page");
  }
}

/**
 * The part of `range` after the cursor key: past it going forward, before
 * it in reverse. Null when nothing is left.
 */
export function afterCursor(
  range: KeyRange,
  last: string,
  reverse: boolean,
): KeyRange | null {
  let { start, end } = range;
  if (reverse) {
    if (end === null || compareKeys(last, end) < 0) end = last;
  } else {
    // last + "\0" is the smallest key greater than last.
    const next = last + "\0";
    if (compareKeys(next, start) > 0) start = next;
  }
  return end !== null && compareKeys(start, end) >= 0 ? null : { start, end };
}

/**
 * A page ends at `limit` records, or earlier once it holds PAGE_UNITS code
 * units (at least one record): 10,000 values of 1 MiB are one 10 GB answer.
 */
const PAGE_UNITS = 16 * 1024 * 1024;

function pageOf(got: readonly KvRecord[], limit: number, keysOnly: boolean): KvRecord[] {
  let units = 0;
  let n = 0;
  for (; n < Math.min(limit, got.length); n++) {
    const r = got[n]!;
    units += r.key.length + (keysOnly ? 0 : r.value.length);
    if (units > PAGE_UNITS && n > 0) break;
  }
  return got.slice(0, n);
}

/** Builds the range routes over `deps.engine`. */
export function createRangeRoutes(deps: AppDeps): Hono<AppEnv> {
  const { engine, config } = deps;
  const app = new Hono<AppEnv>();

  app.get(RANGE_ROUTE, async (c) => {
    const q = parseQuery(c.req.url, RangeQuery);
    const full = toKeyRange(q, config.maxKeyBytes);
    const last = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    const range = last === undefined ? full : afterCursor(full, last, q.reverse);
    const view = await engine.asyncSnapshot(q.consistency);
    // One extra record tells whether another page exists.
    const got: KvRecord[] = range === null
      ? []
      : view.range(range, { limit: q.limit + 1, reverse: q.reverse });
    const items = pageOf(got, q.limit, q.keysOnly);
    const more = got.length > items.length;
    const cursor = more ? encodeCursor(items[items.length - 1]!.key) : null;
    const body = renderRange(items, cursor, view.index, q.keysOnly);
    return json(body, indexHeader(view.index));
  });

  app.delete(RANGE_ROUTE, async (c) => {
    noPreconditions(c.req.raw.headers);
    const q = parseQuery(c.req.url, DeleteRangeQuery);
    const range = toKeyRange(q, config.maxKeyBytes);
    // An open end deletes to the end of the keyspace: asked for explicitly,
    // as etcdctl asks for --from-key (`start=%00` alone would wipe it all).
    const openEnded = q.prefix !== undefined ? q.prefix === "" : q.end === undefined;
    if (openEnded && !q.all) {
      throw invalid(
        q.prefix !== undefined || q.start === ""
          ? "Deleting every key needs all=true"
          : "Deleting from start to the end of the keyspace needs all=true (or give end)",
      );
    }
    const w = await engine.asyncWrite(
      { type: "deleteRange", range },
    );
    const r = expectResult(w, "deleteRange");
    return json(`{"deleted":${r.deleted}}`, indexHeader(w.index));
  });
  return app;
}
