/**
 * The Jepsen client: one HTTP call per op, and the mapping from answers to
 * Jepsen outcomes (API.md §2):
 * - 2xx is ok; 404 on a read is ok (not found); 412 on If-Match and a txn
 *   with `succeeded:false` are ok with a failed compare;
 * - any other 4xx, and 503 `no_leader` / `unavailable`, mean nothing
 *   changed: fail (the checker still flags a "failed" write that shows up);
 * - 503 `leadership_changed`, 504, other 5xx, timeouts and connection
 *   errors leave a write's outcome unknown: info.
 * @module
 */

import type { Compare, Consistency, Json, Outcome } from "./history.ts";

export interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly index?: number;
}

/** An HTTP answer, or why there was none. */
export type Reply = Answer | { readonly error: string };

interface Rec {
  readonly value: Json;
  readonly modIndex: number;
}

export class KvClient {
  constructor(readonly timeoutMs: number) {}

  async get(url: string, key: string, c: Consistency): Promise<Outcome> {
    const r = await this.send("GET", `${url}/v1/kv/${enc(key)}?consistency=${c}`);
    if ("error" in r) return readFailure(r.error);
    if (r.status === 404) return ok({ found: false }, r);
    if (r.status !== 200) return readFailure(describe(r));
    const rec = r.body as Rec;
    return ok({ found: true, value: rec.value, modIndex: rec.modIndex }, r);
  }

  async put(url: string, key: string, value: Json): Promise<Outcome> {
    const r = await this.send("PUT", `${url}/v1/kv/${enc(key)}`, { value });
    if ("error" in r || r.status !== 200) return writeFailure(r);
    return ok({ modIndex: (r.body as Rec).modIndex }, r);
  }

  async delete(url: string, key: string): Promise<Outcome> {
    const r = await this.send("DELETE", `${url}/v1/kv/${enc(key)}`);
    if ("error" in r || r.status !== 200) return writeFailure(r);
    const deleted = (r.body as { deleted: number }).deleted === 1 ? 1 : 0;
    return ok({ deleted }, r);
  }

  /** A conditional put through `POST /v1/txn`. */
  async cas(
    url: string,
    key: string,
    compare: Compare,
    value: Json,
  ): Promise<Outcome> {
    const body = {
      compare: [{ key, target: compare.target, op: "==", value: compare.value }],
      success: [{ op: "put", key, value }],
      failure: [],
    };
    const r = await this.send("POST", `${url}/v1/txn`, body);
    if ("error" in r || r.status !== 200) return writeFailure(r);
    const t = r.body as { succeeded: boolean; results: Rec[] };
    if (!t.succeeded) return ok({ succeeded: false }, r);
    return ok({ succeeded: true, modIndex: t.results[0]?.modIndex ?? 0 }, r);
  }

  /** A conditional put through `If-Match` / `If-None-Match: *`. */
  async putIf(
    url: string,
    key: string,
    compare: Compare,
    value: Json,
  ): Promise<Outcome> {
    const headers = compare.target === "exists"
      ? { "if-none-match": "*" }
      : { "if-match": `"${compare.value}"` };
    const r = await this.send("PUT", `${url}/v1/kv/${enc(key)}`, { value }, headers);
    if (!("error" in r) && r.status === 412) return ok({ succeeded: false }, r);
    if ("error" in r || r.status !== 200) return writeFailure(r);
    return ok({ succeeded: true, modIndex: (r.body as Rec).modIndex }, r);
  }

  /** One HTTP exchange; the body is always read (no leaked resources). */
  async send(
    method: string,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    try {
      const res = await fetch(url, {
        method,
        headers: body === undefined ? headers : {
          ...headers,
          "content-type": "application/json",
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      const index = Number(res.headers.get("x-raftkv-index") ?? NaN);
      return {
        status: res.status,
        body: parse(text),
        ...(Number.isFinite(index) ? { index } : {}),
      };
    } catch (e) {
      const timeout = e instanceof DOMException && e.name === "TimeoutError";
      return { error: timeout ? "client timeout" : `network: ${String(e)}` };
    }
  }
}

function ok(result: NonNullable<Extract<Outcome, { status: "ok" }>["result"]>, r: Answer): Outcome {
  return r.index === undefined
    ? { status: "ok", result }
    : { status: "ok", result, index: r.index };
}

/** Reads change nothing: any failure is just a failure. */
function readFailure(error: string): Outcome {
  return { status: error === "client timeout" ? "info" : "fail", error };
}

/** A write's failure: definite only where the API says nothing changed. */
export function writeFailure(r: Reply): Outcome {
  if ("error" in r) return { status: "info", error: r.error };
  const error = describe(r);
  const code = errorCode(r);
  if (r.status >= 400 && r.status < 500) return { status: "fail", error };
  if (r.status === 503 && code !== "leadership_changed") {
    return { status: "fail", error };
  }
  return { status: "info", error };
}

export function errorCode(r: Answer): string {
  const e = (r.body as { error?: { code?: unknown } } | null)?.error;
  return typeof e?.code === "string" ? e.code : "";
}

/** Status, code and (shortened) message of an error answer. */
export function describe(r: Answer): string {
  const e = (r.body as { error?: { message?: unknown } } | null)?.error;
  const msg = typeof e?.message === "string" ? `: ${e.message.slice(0, 160)}` : "";
  const code = errorCode(r);
  return code ? `${r.status} ${code}${msg}` : `${r.status}`;
}

function parse(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

function enc(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}
