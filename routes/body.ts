/**
 * The JSON body gate: media type, size limit (declared and streamed), UTF-8
 * and JSON syntax, before any handler runs. The bytes are kept for
 * forwarding; the parsed value is left for the route's schema.
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./deps.ts";
import { within } from "../src/within.ts";
import { Deadlines } from "../src/deadlines.ts";
import { ApiError, invalid, tooLarge } from "./errors.ts";

/** `application/json`, optionally with `charset=utf-8`. */
export function isJsonMediaType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type, ...params] = header.split(";").map((s) => s.trim());
  if (type?.toLowerCase() !== "application/json") return false;
  return params.every((p) => {
    const [name, value] = p.split("=").map((s) => s.trim().toLowerCase());
    if (name === "") return true;
    return name === "charset" && /^"?utf-8"?$/.test(value ?? "");
  });
}

/** How far past the limit an oversized chunked body is counted (then cut off). */
export const COUNT_PAST_LIMIT = 16 * 1024 * 1024;

/**
 * Reads at most `limit` bytes of `body`. Past the limit the bytes are only
 * counted, not kept, so the 413 can say how large the body was; a body
 * still going {@link COUNT_PAST_LIMIT} bytes later is cut off and reported
 * with what arrived until then.
 */
export async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array<ArrayBuffer>> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) throw tooLarge("Request body", limit, await countRest(reader, total));
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Counts what is left of an oversized body, up to {@link COUNT_PAST_LIMIT} more. */
async function countRest(reader: ReadableStreamDefaultReader<Uint8Array>, seen: number) {
  const stop = seen + COUNT_PAST_LIMIT;
  while (seen <= stop) {
    const r = await reader.read().catch(() => null);
    if (r === null || r.done) return seen;
    seen += r.value.byteLength;
  }
  await reader.cancel().catch(() => {});
  return seen;
}

/**
 * Reads a body; a body that breaks off (the client went away, a malformed
 * chunk) is a 400, not a 500 with a stack trace per request in the log.
 */
export async function readBody(
  read: () => Promise<ArrayBuffer | Uint8Array<ArrayBuffer>>,
  timeoutMs = BODY_READ_MS,
): Promise<Uint8Array<ArrayBuffer>> {
  try {
    const late = () => {
      throw new ApiError(
        408,
        "request_timeout",
        `Request body not received within ${timeoutMs} ms`,
      );
    };
    // The shared timer is a second coarse: short deadlines (tests) keep a timer each.
    const b = await (timeoutMs >= 10 * BODY_DEADLINES.periodMs
      ? BODY_DEADLINES.within(read(), timeoutMs, late)
      : within(read(), timeoutMs, late));
    return b instanceof Uint8Array ? b : new Uint8Array(b);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw invalid(`Request body could not be read: ${(e as Error).message ?? e}`);
  }
}

/**
 * A request body must arrive within this long: a client trickling it (or
 * stalled one byte short) holds its buffers only so long, then gets a 408.
 */
export const BODY_READ_MS = 30_000;

/** One timer for every body read's deadline (see `Deadlines`). */
const BODY_DEADLINES = new Deadlines(1000);

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Strict UTF-8 then JSON; either failure is a 400. */
export function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw invalid("Request body is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : "syntax error";
    throw invalid(`Request body is not valid JSON: ${why}`);
  }
  if (noNumbers(value)) return value;
  return MAY_BE_INEXACT.test(text) && needsNumberText(text) ? withNumberText(text) : value;
}

/** Nodes of a parsed body walked looking for numbers before the text scan takes over. */
const WALK_LIMIT = 256;

/**
 * True when the parsed body holds no number at all (a string value, a small
 * object of strings): nothing to keep the spelling of, and a 1 MiB string
 * need not be scanned for digits (that scan was 11% of a leader's time with
 * 1 MiB values). Large bodies are left to the text scan.
 */
function noNumbers(value: unknown): boolean {
  const stack = [value];
  let budget = WALK_LIMIT;
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "number") return false;
    if (v === null || typeof v !== "object") continue;
    const children = Array.isArray(v) ? v : Object.values(v);
    if ((budget -= children.length) < 0) return false;
    for (const x of children) stack.push(x);
  }
  return true;
}

/**
 * A number a double cannot hold exactly has 16 or more significant digits
 * (a dot may split them) or an exponent; text without either (nearly every
 * body) is parsed once.
 */
const MAY_BE_INEXACT = /\d(?:\.?\d){15}|\d[eE][+-]?\d/;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Scans the number tokens of valid JSON `text` (a loop, not a recursive
 * walk: values may nest deeper than the stack): true when one would change
 * as a double; a 400 when one is beyond a double's range, not a silent `null`.
 */
function needsNumberText(text: string): boolean {
  let inexact = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) i = stringEnd(text, i);
    else if (ch === 0x2d || (ch >= 0x30 && ch <= 0x39)) {
      NUMBER.lastIndex = i;
      const token = NUMBER.exec(text)![0];
      i += token.length - 1;
      if (token.length < 16 && !/[eE]/.test(token)) continue; // exact as a double
      const n = Number(token);
      if (!Number.isFinite(n)) throw invalid(`Number ${token} is out of range`);
      inexact ||= digitsOf(token) !== digitsOf(String(n));
    }
  }
  return inexact;
}

/** The index of the quote that closes the string opened at `open`. */
function stringEnd(text: string, open: number): number {
  for (let q = text.indexOf('"', open + 1);; q = text.indexOf('"', q + 1)) {
    let slashes = 0;
    while (text.charCodeAt(q - 1 - slashes) === 0x5c) slashes++;
    if (slashes % 2 === 0) return q;
  }
}

/** Parses keeping the spelling of numbers a double would change. */
function withNumberText(text: string): unknown {
  try {
    return JSON.parse(text, keepNumberText);
  } catch (err) {
    // The reviver walk is recursive: thousands of levels overflow it.
    if (!(err instanceof RangeError)) throw err;
    throw invalid("Request body nests too deeply to keep its numbers as sent");
  }
}

/** Values are stored as sent: `12345678901234567890` must not come back rounded. */
function keepNumberText(_key: string, value: unknown, ctx?: { source?: string }): unknown {
  if (typeof value !== "number" || ctx?.source === undefined) return value;
  if (digitsOf(ctx.source) === digitsOf(String(value))) return value;
  return RawJson.rawJSON(ctx.source);
}

/** ES2025's JSON source-text access (in V8, not yet in Deno's TypeScript lib). */
export const RawJson = JSON as unknown as {
  rawJSON(text: string): unknown;
  isRawJSON(value: unknown): boolean;
};

/** The significant digits of a JSON number: `-1.50e3` -> `15`. */
function digitsOf(num: string): string {
  const e = num.search(/[eE]/);
  const mantissa = (e < 0 ? num : num.slice(0, e)).replace(/[-.]/g, "");
  return mantissa.replace(/^0+/, "").replace(/0+$/, "");
}

/**
 * Rejects a declared `content-length` over `limit` before reading; returns
 * it (undefined for a chunked body).
 */
function checkDeclaredLength(header: string | undefined, limit: number): number | undefined {
  if (header === undefined) return undefined;
  if (!/^\d{1,16}$/.test(header.trim())) {
    throw invalid("Bad content-length header");
  }
  const declared = Number(header.trim());
  if (declared > limit) throw tooLarge("Request body", limit, declared);
  return declared;
}

/**
 * Middleware for routes with a JSON body: 413 `too_large` over
 * `limit` bytes, 415 when not `application/json` or content-encoded, 400 for bad UTF-8 or
 * JSON. Sets `rawBody` and `json`.
 */
export function jsonBody(limit: number): MiddlewareHandler<AppEnv> {
  return async function jsonBody(c, next) {
    const declared = checkDeclaredLength(c.req.header("content-length"), limit);
    if (!isJsonMediaType(c.req.header("content-type"))) {
      throw new ApiError(
        415,
        "unsupported_media_type",
        "Request body must be application/json (UTF-8)",
      );
    }
    const coding = c.req.header("content-encoding")?.trim().toLowerCase();
    if (coding && coding !== "identity") {
      // RFC 9110 §15.5.16: an unsupported content coding is a 415 too.
      throw new ApiError(
        415,
        "unsupported_media_type",
        `Request body must not be content-encoded (Content-Encoding: ${coding})`,
      );
    }
    // A declared length within the limit is what the server reads (HTTP
    // framing), so one read does; a chunked body is counted as it streams.
    const bytes = await readBody(
      () => declared === undefined ? readLimited(c.req.raw.body, limit) : c.req.raw.arrayBuffer(),
    );
    c.set("rawBody", bytes);
    c.set("json", parseJson(bytes));
    await next();
  };
}
