// A minimal keep-alive HTTP/1.1 client for the load generator: one request
// in flight per connection, connections pooled per origin. `fetch` costs the
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
  broken = false;

  constructor(readonly tcp: Deno.TcpConn) {}

  async request(head: string, body: Uint8Array | null): Promise<HttpAnswer> {
    const h = enc.encode(head);
    let out = h;
    if (body !== null) {
      out = new Uint8Array(h.length + body.length);
      out.set(h);
      out.set(body, h.length);
    }
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
    while ((end = indexOf(this.#buf, this.#len, CRLF2)) < 0) await this.#fill();
    const head = dec.decode(this.#buf.subarray(0, end));
    const lines = head.split("\r\n");
    const status = Number(lines[0]!.split(" ")[1]);
    let length = -1;
    let chunked = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") length = Number(value);
      else if (name === "transfer-encoding") chunked = value.toLowerCase().includes("chunked");
      else if (name === "connection" && value.toLowerCase() === "close") this.broken = true;
    }
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
      while ((eol = indexOf(this.#buf, this.#len, [13, 10])) < 0) await this.#fill();
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

function indexOf(buf: Uint8Array, len: number, pat: number[]): number {
  outer: for (let i = 0; i + pat.length <= len; i++) {
    for (let j = 0; j < pat.length; j++) if (buf[i + j] !== pat[j]) continue outer;
    return i;
  }
  return -1;
}

/** Idle connections per origin; a request takes one or dials a new one. */
export class Http1Client {
  #idle = new Map<string, Conn[]>();
  #open = new Set<Conn>();

  async send(
    url: string,
    method: string,
    headers: Record<string, string>,
    body: string | Uint8Array | null,
    timeoutMs: number,
  ): Promise<HttpAnswer> {
    const u = new URL(url);
    const bytes = typeof body === "string" ? enc.encode(body) : body;
    let head = `${method} ${u.pathname}${u.search} HTTP/1.1\r\nhost: ${u.host}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    head += `content-length: ${bytes?.length ?? 0}\r\n\r\n`;
    const conn = this.#idle.get(u.host)?.pop() ?? await this.#dial(u);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        conn.broken = true;
        conn.tcp.close();
        reject(Object.assign(new Error("request timed out"), { name: "TimeoutError" }));
      }, timeoutMs);
    });
    try {
      return await Promise.race([conn.request(head, bytes), timeout]);
    } catch (e) {
      conn.broken = true;
      throw e;
    } finally {
      clearTimeout(timer);
      this.#release(u.host, conn);
    }
  }

  async #dial(u: URL): Promise<Conn> {
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
    for (const c of this.#open) {
      try {
        c.tcp.close();
      } catch {
        // closed already
      }
    }
    this.#open.clear();
    this.#idle.clear();
  }
}
