/**
 * The one mapping from errors to HTTP responses (API.md §2 error table).
 * Routes throw; `app.onError` renders. Every error body has the shape
 * `{"error":{"code","message",...details}}`.
 * @module
 */
import type { Context } from "hono";
import { ZodError } from "zod";
import {
  CompactedError,
  LeadershipChangedError,
  MembershipError,
  NoSpaceError,
  NotLeaderError,
  NotMemberError,
  TimeoutError,
  UnavailableError,
} from "../src/engine/errors.ts";

/** JSON text spliced into an error body as is (a stored record). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** Extra fields of an error body; RawJson values are spliced verbatim. */
export type Details = Readonly<Record<string, unknown>>;

/** The statuses an error answer may carry. */
export type ErrorStatus =
  | 400
  | 401
  | 403
  | 404
  | 405
  | 408
  | 412
  | 413
  | 409
  | 410
  | 415
  | 500
  | 503
  | 504
  | 507;

/** An error with its HTTP status and API code, thrown by routes. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: ErrorStatus,
    readonly code: string,
    message: string,
    readonly details: Details = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** 400 invalid_request. */
export const invalid = (message: string, details?: Details): ApiError =>
  new ApiError(400, "invalid_request", message, details);

/** 413 too_large with the limit and, when known, the actual size. */
export function tooLarge(what: string, limit: number, actual?: number) {
  const details = actual === undefined ? { limit } : { limit, actual };
  return new ApiError(413, "too_large", `${what} exceeds ${limit}`, details);
}

/** 503 with `Retry-After`: the client may retry, nothing changed. */
export function retryLater(code: string, message: string, details?: Details) {
  return new ApiError(503, code, message, details, { "retry-after": "1" });
}

/** The body text of an error response. */
export function errorBody(code: string, message: string, details: Details) {
  let out = `{"error":{"code":${JSON.stringify(code)},"message":${JSON.stringify(message)}`;
  for (const [k, v] of Object.entries(details)) {
    const text = v instanceof RawJson ? v.text : JSON.stringify(v);
    out += `,${JSON.stringify(k)}:${text}`;
  }
  return out + "}}";
}

/** Renders an ApiError as a JSON response. */
export function errorResponse(err: ApiError): Response {
  return new Response(errorBody(err.code, err.message, err.details), {
    status: err.status,
    headers: { "content-type": "application/json", ...err.headers },
  });
}

const CODES: Readonly<Record<number, string>> = {
  400: "invalid_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  408: "request_timeout",
  409: "conflict",
  413: "too_large",
  415: "unsupported_media_type",
  503: "unavailable",
  504: "timeout",
};

/**
 * Maps any thrown value to an ApiError. NotLeaderError is left to the
 * caller, which may forward instead (see `forward.ts`).
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ZodError) return fromZod(err);
  const status = httpExceptionStatus(err);
  if (status !== undefined) {
    const code = CODES[status];
    const message = (err as Error).message || "Request failed";
    if (code) return new ApiError(status as ErrorStatus, code, message);
  }
  if (err instanceof NotLeaderError) {
    // Not forwarded (forwarded here already, or the leader's URL unknown):
    // nothing was proposed; with a leader known, `no_leader` would mislead.
    if (!err.leaderId) return retryLater("no_leader", err.message);
    return retryLater("unavailable", `Not the leader (the leader is ${err.leaderId}); retry`, {
      leader: err.leaderId,
    });
  }
  if (err instanceof LeadershipChangedError) {
    return retryLater("leadership_changed", err.message);
  }
  if (err instanceof NotMemberError) return new ApiError(404, "not_found", err.message);
  if (err instanceof MembershipError) {
    return new ApiError(409, "conflict", err.message);
  }
  if (err instanceof CompactedError) {
    return new ApiError(410, "compacted", err.message, { oldestIndex: err.oldestIndex });
  }
  if (err instanceof UnavailableError) {
    return retryLater("unavailable", err.message);
  }
  if (err instanceof TimeoutError) return new ApiError(504, "timeout", err.message);
  if (err instanceof NoSpaceError) {
    // etcd's NOSPACE: nothing was proposed; deletes make room.
    const details = { quota: err.quota, live: err.live, adding: err.adding };
    return new ApiError(507, "no_space", err.message, details);
  }
  if (isDomError(err, "TimeoutError")) {
    return new ApiError(504, "timeout", new TimeoutError().message);
  }
  if (isDomError(err, "AbortError")) {
    return retryLater("unavailable", "Request aborted");
  }
  return new ApiError(500, "internal", "Internal error");
}

/**
 * The status of a Hono `HTTPException`, recognised by shape (the `hono/`
 * subpath import map entry does not resolve under this Deno).
 */
function httpExceptionStatus(err: unknown): number | undefined {
  if (!(err instanceof Error)) return;
  const e = err as { status?: unknown; getResponse?: unknown };
  if (typeof e.getResponse !== "function") return;
  return typeof e.status === "number" ? e.status : undefined;
}

function isDomError(err: unknown, name: string): boolean {
  return err instanceof DOMException && err.name === name;
}

/** 400 with the zod issues (path, code and message; never the input). */
export function fromZod(err: ZodError): ApiError {
  const issues = err.issues.map((i) => ({
    path: i.path,
    code: i.code,
    message: i.message,
  }));
  const first = issues[0];
  const where = first && first.path.length ? ` at ${first.path.join(".")}` : "";
  return invalid(`Invalid request${where}: ${first?.message}`, { issues });
}

/** The 404 for routes that do not exist. */
export function notFound(c: Context): Response {
  const path = new URL(c.req.url).pathname;
  return errorResponse(
    new ApiError(404, "not_found", `No route for ${c.req.method} ${path}`),
  );
}

/** Sends the request on to the leader at `leaderUrl` (see `forward.ts`). */
export type Forwarder = (c: Context, leaderUrl: string) => Promise<Response>;

/**
 * The `app.onError` handler: a follower forwards what only the leader can
 * serve (once: a forwarded request is never forwarded again); everything
 * else maps through {@link toApiError}. Unexpected errors are logged.
 */
export function createErrorHandler(forward: Forwarder) {
  return async function onError(err: unknown, c: Context): Promise<Response> {
    if (
      err instanceof NotLeaderError && err.leaderUrl &&
      !c.req.header(FORWARDED_HEADER)
    ) {
      return await forward(c, err.leaderUrl);
    }
    const api = toApiError(err);
    if (api.status === 500) {
      console.error(`${c.req.method} ${c.req.url} failed:`, err);
    }
    return errorResponse(api);
  };
}

/** Set on a forwarded request to the id of the node that forwarded it. */
export const FORWARDED_HEADER = "x-raftkv-forwarded";
