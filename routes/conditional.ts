/**
 * Conditional GET of one key (RFC 9110 §13.1): the `ETag` a read answers
 * with (`"<modIndex>"`) lets a client revalidate. `If-None-Match` naming
 * the current tag (or `*` for a key that exists) is a 304 without a body;
 * `If-Match` naming no current tag (or `*` for a missing key) is a 412
 * with the current record, as for writes.
 * @module
 */
import type { KvRecord } from "../src/kv/types.ts";
import { ApiError, invalid, RawJson } from "./errors.ts";
import { renderMaybe } from "./render.ts";
import { etag, indexHeader } from "./respond.ts";

/** `*`, or the modIndexes of a list of tags (`"7"`, `W/"7"`, a bare 7). */
function tags(header: string, name: string): "*" | number[] {
  if (header.trim() === "*") return "*";
  return header.split(",").map((t) => {
    const m = /^\s*(?:W\/)?(?:"(\d{1,15})"|(\d{1,15}))\s*$/.exec(t);
    if (!m) throw invalid(`${name} must be "*" or a list of "<modIndex>" tags`);
    return Number(m[1] ?? m[2]);
  });
}

const matches = (t: "*" | number[], rec: KvRecord | null) =>
  rec !== null && (t === "*" || t.includes(rec.modIndex));

/**
 * The answer the request's preconditions call for instead of the record,
 * or null to answer as usual (a missing key with no `If-Match`: the 404).
 */
export function conditionalRead(
  headers: Headers,
  rec: KvRecord | null,
  index: number,
): Response | null {
  const ifMatch = headers.get("if-match");
  if (ifMatch !== null && !matches(tags(ifMatch, "If-Match"), rec)) {
    throw new ApiError(
      412,
      "precondition_failed",
      "Precondition failed: If-Match names no current version of the key",
      { current: new RawJson(renderMaybe(rec)) },
      indexHeader(index),
    );
  }
  const ifNoneMatch = headers.get("if-none-match");
  if (ifNoneMatch !== null && rec && matches(tags(ifNoneMatch, "If-None-Match"), rec)) {
    return new Response(null, { status: 304, headers: { ...etag(rec), ...indexHeader(index) } });
  }
  return null;
}
