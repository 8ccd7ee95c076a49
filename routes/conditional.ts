/**
 * Conditional GET of one key (RFC 9110 §13.1): the `ETag` a read answers
 * with (`"<modIndex>"`) lets a client revalidate. `If-None-Match` naming
 * the current tag (or `*` for a key that exists) is a 304 without a body;
 * `If-Match` naming no current tag (or `*` for a missing key) is a 412
 * with the current record, as for writes.
 * @module
 */
import type { KvRecord } from "../src/kv/types.ts";
import { invalid } from "./errors.ts";
import { etag, indexHeader, preconditionFailed } from "./respond.ts";
import { tagIndex } from "./validate.ts";

/** `*`, or the modIndexes of a list of tags (`"7"`, `W/"7"`, a bare 7). */
function tags(header: string, name: string): "*" | number[] {
  if (header.trim() === "*") return "*";
  return header.split(",").map((t) => {
    const index = tagIndex(t.trim().replace(/^W\//, ""));
    if (index === null) throw invalid(`${name} must be "*" or a list of "<modIndex>" tags`);
    return index;
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
    const why = "Precondition failed: If-Match names no current version of the key";
    throw preconditionFailed(why, rec, index);
  }
  const ifNoneMatch = headers.get("if-none-match");
  if (ifNoneMatch !== null && rec && matches(tags(ifNoneMatch, "If-None-Match"), rec)) {
    return new Response(null, { status: 304, headers: { ...etag(rec), ...indexHeader(index) } });
  }
  return null;
}
