/**
 * The JSON body gate: media type, size limit (declared and streamed), UTF-8
 * and JSON syntax, before any handler runs. The bytes are kept for
 * forwarding; the parsed value is left for the route's schema.
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./deps.ts";
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

/**
 * Reads at most `limit` bytes of `body`. Stops and cancels the stream as
 * soon as the limit is passed, so an oversized body is never buffered.
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
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge("Request body", limit);
    }
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

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Strict UTF-8 then JSON; either failure is a 400. */
export function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw invalid("Request body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : "syntax error";
    throw invalid(`Request body is not valid JSON: ${why}`);
  }
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
 * `limit` bytes, 415 when not `application/json`, 400 for bad UTF-8 or
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
    // A declared length within the limit is what the server reads (HTTP
    // framing), so one read does; a chunked body is counted as it streams.
    const bytes = declared === undefined
      ? await readLimited(c.req.raw.body, limit)
      : new Uint8Array(await c.req.raw.arrayBuffer());
    c.set("rawBody", bytes);
    c.set("json", parseJson(bytes));
    await next();
  };
}
