/**
 * Gateway checks shared by the routes: keys from the path, query strings,
 * precondition headers and value sizes. Everything past here trusts types.
 * @module
 */
import type { ZodType, ZodTypeDef } from "zod";
import { utf8Length } from "../src/kv/key_order.ts";
import { fromZod, invalid, tooLarge } from "./errors.ts";

/**
 * A key as the API allows it: non-empty, valid Unicode (no lone
 * surrogates, which UTF-8 cannot carry), at most `maxBytes` in UTF-8.
 */
export function checkKey(key: string, maxBytes: number, what = "Key"): string {
  if (key === "") throw invalid(`${what} must not be empty`);
  checkBound(key, maxBytes, what);
  return key;
}

/** Like {@link checkKey} but empty is allowed (range bounds, prefixes). */
export function checkBound(s: string, maxBytes: number, what: string): string {
  if (!s.isWellFormed()) throw invalid(`${what} is not valid Unicode`);
  const bytes = utf8Length(s);
  if (bytes > maxBytes) throw tooLarge(`${what} size`, maxBytes, bytes);
  return s;
}

/** The undecoded path and query of a request URL. */
export function splitUrl(url: string): { path: string; query: string } {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const hash = url.indexOf("#", start);
  const end = hash < 0 ? url.length : hash;
  const q = url.indexOf("?", start);
  if (q < 0 || q > end) return { path: url.slice(start, end), query: "" };
  return { path: url.slice(start, q), query: url.slice(q + 1, end) };
}

/** Percent-decoding that fails loudly (400) instead of passing garbage. */
export function decodeComponent(s: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw invalid(`Bad percent-encoding in ${what}`);
  }
}

/** The key in `/v1/kv/{key}`: everything after the prefix, decoded once. */
export function keyFromUrl(url: string, prefix: string, max: number): string {
  const { path } = splitUrl(url);
  return checkKey(decodeComponent(path.slice(prefix.length), "key"), max);
}

/**
 * Parses a query string strictly: `+` is a space, bad percent-encoding and
 * repeated names are 400s, then `schema` (strict) checks names and values.
 */
export function parseQuery<T>(
  url: string,
  schema: ZodType<T, ZodTypeDef, unknown>,
): T {
  const query = splitUrl(url).query;
  // Most requests have no query: the schema's answer to {} never changes.
  if (query === "") return emptyQuery(schema);
  const raw: Record<string, string> = {};
  for (const part of query.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const [k, v] = eq < 0 ? [part, ""] : [part.slice(0, eq), part.slice(eq + 1)];
    const name = decodeComponent(k.replaceAll("+", " "), "query");
    if (Object.hasOwn(raw, name)) {
      throw invalid(`Query parameter "${name}" given twice`);
    }
    raw[name] = decodeComponent(v.replaceAll("+", " "), "query");
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}

const emptyAnswers = new WeakMap<object, unknown>();

function emptyQuery<T>(schema: ZodType<T, ZodTypeDef, unknown>): T {
  if (emptyAnswers.has(schema)) return emptyAnswers.get(schema) as T;
  const parsed = schema.safeParse({});
  if (!parsed.success) throw fromZod(parsed.error);
  emptyAnswers.set(schema, Object.freeze(parsed.data));
  return parsed.data;
}

/** The KvCommand precondition fields of a write. */
export interface Preconditions {
  readonly ifModIndex?: number;
  readonly ifAbsent?: boolean;
}

/**
 * `If-Match: "<modIndex>"` (or a bare number) and `If-None-Match: *`.
 * Anything else, or both at once, is a 400: guessing would risk a write
 * the client did not mean.
 */
export function preconditions(
  ifMatch: string | undefined,
  ifNoneMatch: string | undefined,
  allowAbsent: boolean,
): Preconditions {
  if (ifMatch !== undefined && ifNoneMatch !== undefined) {
    throw invalid("Give If-Match or If-None-Match, not both");
  }
  if (ifNoneMatch !== undefined) {
    if (!allowAbsent || ifNoneMatch.trim() !== "*") {
      throw invalid(
        allowAbsent ? 'If-None-Match must be "*"' : "If-None-Match not allowed",
      );
    }
    return { ifAbsent: true };
  }
  if (ifMatch === undefined) return {};
  const ifModIndex = tagIndex(ifMatch);
  if (ifModIndex === null) throw invalid('If-Match must be "<modIndex>"');
  return { ifModIndex };
}

/** The modIndex an entity tag names (`"7"`, or a bare 7), or null. */
export function tagIndex(tag: string): number | null {
  const m = /^\s*(?:"(\d{1,15})"|(\d{1,15}))\s*$/.exec(tag);
  return m ? Number(m[1] ?? m[2]) : null;
}

/**
 * The JSON text of a value, checked against `maxBytes`. Stored as text:
 * nothing downstream parses it again.
 */
export function serializeValue(value: unknown, maxBytes: number): string {
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    // Only nesting deep enough to overflow the stack gets here.
    throw invalid("Value is nested too deeply");
  }
  const bytes = utf8Length(text);
  if (bytes > maxBytes) throw tooLarge("Value size", maxBytes, bytes);
  return text;
}

/**
 * 400 when a request carries `If-Match` or `If-None-Match` where they mean
 * nothing (a range delete, a txn: use its compares): a precondition the
 * server ignored would let the write go ahead unconditionally.
 */
export function noPreconditions(headers: Headers): void {
  for (const h of ["if-match", "if-none-match"]) {
    if (headers.has(h)) throw invalid(`${h} is not taken here; a txn's compares are`);
  }
}
