// The two systems' client protocols, reduced to what the workload needs:
// put a key, read a key, and "is this node the leader". Requests go through
// one small HTTP/1.1 client (`http1.ts`), the same for both systems.

import { Http1Client } from "./http1.ts";

/** A finished request: HTTP status (0 = no answer) and whether key was absent. */
export interface Outcome {
  status: number;
  ok: boolean;
  miss: boolean;
  /** Why there was no answer, when status is 0. */
  cause?: string;
}

export interface Target {
  put(url: string, key: string): Promise<Outcome>;
  get(url: string, key: string): Promise<Outcome>;
  isLeader(url: string): Promise<boolean>;
}

export type Consistency = "linearizable" | "lease" | "stale";

const JSON_HEADERS = { "content-type": "application/json" };
const REQUEST_TIMEOUT_MS = 30_000;

/** A printable, incompressible-enough value of exactly `size` ASCII bytes. */
export function makeValue(size: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const one = Array.from({ length: 997 }, (_, i) => alphabet[(i * 7) % 36]);
  return one.join("").repeat(Math.ceil(size / 997)).slice(0, size);
}

function b64(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

const client = new Http1Client();

/** Closes the pooled connections (the load is over). */
export function closeConnections(): void {
  client.close();
}
const dec = new TextDecoder();

/** An answer as the targets read it. */
class Answer {
  constructor(readonly status: number, readonly bytes: Uint8Array) {}
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
  text(): string {
    return dec.decode(this.bytes);
  }
  json(): unknown {
    return JSON.parse(this.text());
  }
}

async function send(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  const a = await client.send(
    url,
    init.method,
    init.headers ?? {},
    init.body ?? null,
    REQUEST_TIMEOUT_MS,
  );
  return new Answer(a.status, a.body);
}

export function raftkv(value: string, consistency: Consistency): Target {
  // Every put carries the same body: encode it once, not per request.
  const body = JSON.stringify({ value });
  return {
    async put(url, key) {
      const res = await send(`${url}/v1/kv/${encodeURIComponent(key)}`, {
        method: "PUT",
        headers: JSON_HEADERS,
        body,
      });
      return { status: res.status, ok: res.ok, miss: false };
    },
    async get(url, key) {
      const q = `consistency=${consistency}`;
      const res = await send(`${url}/v1/kv/${encodeURIComponent(key)}?${q}`, {
        method: "GET",
      });
      const miss = res.status === 404;
      return { status: res.status, ok: res.ok || miss, miss };
    },
    async isLeader(url) {
      const res = await send(`${url}/v1/cluster`, { method: "GET" });
      const c = res.json() as { leader?: string; self?: Self };
      return c.self?.state === "leader" ||
        (c.leader !== undefined && c.leader === c.self?.id);
    },
  };
}

interface Self {
  id?: string;
  state?: string;
}

/** etcd v3 through its grpc-gateway JSON API (keys and values in base64). */
export function etcd(value: string, consistency: Consistency): Target {
  const encodedValue = b64(value);
  // etcd has no lease reads: only "stale" maps to its serializable reads.
  const serializable = consistency === "stale";
  return {
    async put(url, key) {
      const body = `{"key":"${b64(key)}","value":"${encodedValue}"}`;
      const res = await send(`${url}/v3/kv/put`, {
        method: "POST",
        headers: JSON_HEADERS,
        body,
      });
      return { status: res.status, ok: res.ok, miss: false };
    },
    async get(url, key) {
      const body = JSON.stringify({ key: b64(key), serializable });
      const res = await send(`${url}/v3/kv/range`, {
        method: "POST",
        headers: JSON_HEADERS,
        body,
      });
      const text = res.text();
      return { status: res.status, ok: res.ok, miss: !text.includes('"kvs"') };
    },
    async isLeader(url) {
      const res = await send(`${url}/v3/maintenance/status`, {
        method: "POST",
        headers: JSON_HEADERS,
        body: "{}",
      });
      const s = res.json() as {
        header?: { member_id?: string };
        leader?: string;
      };
      return s.leader !== undefined && s.leader === s.header?.member_id;
    },
  };
}
