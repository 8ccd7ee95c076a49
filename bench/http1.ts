// A minimal keep-alive HTTP/1.1 client for the load generator: one request
// in flight per connection, connections pooled per origin (`host:port`). `fetch` costs the
// load generator ~60 µs of CPU per request (Request/Response objects, header
// maps, streams), on the same two cores as the servers under test; this
// costs a fraction of that, for both systems alike.

const enc = new TextEncoder();
const dec = new TextDecoder();
const CRLF2 = [13, 10, 13, 10];

export interface HttpAnswer {
  status: number;
  body: Uint8Array;
}

/** Thrown when the server closed or broke the connection mid-answer. */
export class ConnectionError extends Error {
  override name = "ConnectionError";
}

class Conn {
  #buf = new Uint8Array(64 * 1024);
  #len = 0;
  /** Request bytes are encoded here: no allocation per request. */
  #out = new Uint8Array(4096);
  broken = false;
  /** Set by the client's sweep when the request in flight ran out of time. */
  timedOut = false;
  /** When the request in flight must have its answer (ms, performance.now()). */
  deadline = Infinity;

  constructor(readonly tcp: Deno.TcpConn) {}

  async request(head: string, body: Uint8Array | null): Promise<HttpAnswer> {
    const need = head.length * 3 + (body?.length ?? 0);
    if (this.#out.length < need) this.#out = new Uint8Array(need);
    let n = enc.encodeInto(head, this.#out).written;
    if (body !== null) {
      this.#out.set(body, n);
      n += body.length;
    }
    const out = this.#out.subarray(0, n);
    for (let at = 0; at < out.length;) at += await this.tcp.write(out.subarray(at));
    return await this.#readAnswer();
  }

  async #fill(): Promise<void> {
    if (this.#len === this.#buf.length) {
      const bigger = new Uint8Array(this.#buf.length * 2);
      bigger.set(this.#buf.subarray(0, this.#len));
      this.#buf = bigger;
    }
    const n = await this.tcp.read(this.#buf.subarray(this.#len));
    if (n === null) throw new ConnectionError("connection closed");
    this.#len += n;
  }

  async #readAnswer(): Promise<HttpAnswer> {
    let end: number;
    let from = 0;
    while ((end = indexOf(this.#buf, this.#len, CRLF2, from)) < 0) {
      from = Math.max(0, this.#len - 3);
      await this.#fill();
    }
    const head = dec.decode(this.#buf.subarray(0, end));
    const status = Number(head.slice(9, 12));
    const length = Number(CONTENT_LENGTH.exec(head)?.[1] ?? -1);
    const chunked = CHUNKED.test(head);
    if (CLOSE.test(head)) this.broken = true;
    this.#consume(end + 4);
    if (chunked) return { status, body: await this.#readChunked() };
    if (length < 0) throw new ConnectionError("answer without content-length");
    while (this.#len < length) await this.#fill();
    const body = this.#buf.slice(0, length);
    this.#consume(length);
    return { status, body };
  }

  async #readChunked(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for (;;) {
      let eol: number;
      while ((eol = indexOf(this.#buf, this.#len, [13, 10], 0)) < 0) await this.#fill();
      const size = parseInt(dec.decode(this.#buf.subarray(0, eol)), 16);
      this.#consume(eol + 2);
      while (this.#len < size + 2) await this.#fill();
      if (size === 0) {
        this.#consume(2);
        break;
      }
      parts.push(this.#buf.slice(0, size));
      this.#consume(size + 2);
    }
    const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      body.set(p, at);
      at += p.length;
    }
    return body;
  }

  #consume(n: number): void {
    this.#buf.copyWithin(0, n, this.#len);
    this.#len -= n;
  }
}

// Header names are case-insensitive; a head is a few hundred bytes.
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;
const CHUNKED = /\r\ntransfer-encoding:[^\r\n]*chunked/i;
const CLOSE = /\r\nconnection:[ \t]*close/i;

function indexOf(buf: Uint8Array, len: number, pat: number[], from: number): number {
  outer: for (let i = from; i + pat.length <= len; i++) {
    for (let j = 0; j < pat.length; j++) if (buf[i + j] !== pat[j]) continue outer;
    return i;
  }
  return -1;
}

/** `http://host:port/path?q` -> [`host:port`, `/path?q`], without a URL object. */
function splitUrl(url: string): [string, string] {
  const at = url.indexOf("//") + 2;
  const slash = url.indexOf("/", at);
  return slash < 0 ? [url.slice(at), "/"] : [url.slice(at, slash), url.slice(slash)];
}

/** How often requests in flight are checked against their deadlines. */
const SWEEP_MS = 20;

/**
 * Idle connections per origin; a request takes one or dials a new one.
 * Deadlines are checked by one sweep timer for all requests (a timer per
 * request was ~5% of the load generator's CPU); a request past its
 * deadline has its connection closed and rejects with a TimeoutError.
 */
export class Http1Client {
  #idle = new Map<string, Conn[]>();
  #open = new Set<Conn>();
  #busy = new Set<Conn>();
  #sweep: ReturnType<typeof setInterval> | undefined;

  async send(
    url: string,
    method: string,
    headers: Record<string, string>,
    body: string | Uint8Array | null,
    timeoutMs: number,
  ): Promise<HttpAnswer> {
    const [host, path] = splitUrl(url);
    const bytes = typeof body === "string" ? enc.encode(body) : body;
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
    for (const k in headers) head += `${k}: ${headers[k]}\r\n`;
    head += `content-length: ${bytes?.length ?? 0}\r\n\r\n`;
    const conn = this.#idle.get(host)?.pop() ?? await this.#dial(url);
    conn.deadline = performance.now() + timeoutMs;
    this.#busy.add(conn);
    this.#startSweep();
    try {
      return await conn.request(head, bytes);
    } catch (e) {
      conn.broken = true;
      if (conn.timedOut) {
        throw Object.assign(new Error("request timed out"), { name: "TimeoutError" });
      }
      throw e;
    } finally {
      this.#busy.delete(conn);
      this.#release(host, conn);
    }
  }

  #startSweep(): void {
    if (this.#sweep !== undefined) return;
    this.#sweep = setInterval(() => {
      const now = performance.now();
      for (const c of this.#busy) {
        if (c.deadline > now) continue;
        c.timedOut = true;
        this.#busy.delete(c);
        try {
          c.tcp.close();
        } catch {
          // closed already
        }
      }
    }, SWEEP_MS);
    // The sweep alone must not keep a finished load generator alive.
    const t: unknown = this.#sweep;
    if (typeof t === "number") Deno.unrefTimer(t);
    else (t as { unref(): void }).unref();
  }

  async #dial(url: string): Promise<Conn> {
    const u = new URL(url);
    const port = Number(u.port || 80);
    const hostname = u.hostname.replace(/^\[|\]$/g, "");
    const conn = new Conn(await Deno.connect({ hostname, port }));
    conn.tcp.setNoDelay(true);
    this.#open.add(conn);
    return conn;
  }

  #release(host: string, conn: Conn): void {
    if (conn.broken) {
      this.#open.delete(conn);
      try {
        conn.tcp.close();
      } catch {
        // already closed (timeout)
      }
      return;
    }
    const idle = this.#idle.get(host) ?? [];
    idle.push(conn);
    this.#idle.set(host, idle);
  }

  /** Closes every connection. */
  close(): void {
    clearInterval(this.#sweep);
    this.#sweep = undefined;
    for (const c of this.#open) {
      try {
        c.tcp.close();
      } catch {
        // closed already
      }
    }
    this.#open.clear();
    this.#idle.clear();
    this.#busy.clear();
  }
}
