/**
 * Small response helpers shared by the routes: JSON answers from prebuilt
 * strings, the index and ETag headers, and unwrapping write results.
 * @module
 */
import type { WriteResult } from "../src/engine/types.ts";
import type { KvRecord, KvResult } from "../src/kv/types.ts";
import { ApiError, RawJson } from "./errors.ts";
import { renderMaybe } from "./render.ts";

/** A JSON response from an already rendered body. */
export function json(
  body: string,
  headers: Readonly<Record<string, string>> = {},
  status = 200,
): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** `x-raftkv-index`: the applied index at which the answer holds. */
export const indexHeader = (index: number) => ({
  "x-raftkv-index": String(index),
});

/** `ETag: "<modIndex>"` of a single record. */
export const etag = (r: KvRecord) => ({ etag: `"${r.modIndex}"` });

/**
 * The result of a write, expected to be of `type`. A failed precondition
 * becomes a 412 carrying the current record; any other type is a bug.
 */
export function expectResult<T extends KvResult["type"]>(
  w: WriteResult,
  type: T,
): Extract<KvResult, { type: T }> {
  const r = w.result;
  if (r.type === type) return r as Extract<KvResult, { type: T }>;
  if (r.type === "preconditionFailed") {
    throw preconditionFailed("Precondition failed; nothing was written", r.current, w.index);
  }
  throw new Error(`Expected a "${type}" result, got "${r.type}"`);
}

/** 412 `precondition_failed` carrying the key's `current` record (or null). */
export function preconditionFailed(
  message: string,
  current: KvRecord | null,
  index: number,
): ApiError {
  return new ApiError(
    412,
    "precondition_failed",
    message,
    { current: new RawJson(renderMaybe(current)) },
    indexHeader(index),
  );
}
