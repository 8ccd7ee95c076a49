/**
 * Reads a `text/event-stream` body as a client would: events (id, event,
 * data), comments, and the end of the stream. Every wait has a deadline.
 * Shared by the route and e2e watch tests.
 * @module
 */

export interface SseEvent {
  readonly id: string;
  readonly event: string;
  readonly data: string;
}

export class SseReader {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  done = false;
  #buf = "";
  readonly #reader: ReadableStreamDefaultReader<string>;

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** Reads until `pred` holds or the stream ends; throws after `timeoutMs`. */
  async until(pred: (r: SseReader) => boolean, timeoutMs = 5000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, fail) => {
      timer = setTimeout(
        () => fail(new Error(`SSE: timed out; got ${this.describe()}`)),
        timeoutMs,
      );
    });
    try {
      while (!pred(this) && !this.done) {
        const r = await Promise.race([this.#reader.read(), late]);
        if (r.done) this.done = true;
        else this.#feed(r.value);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads until `n` events in all have arrived (or the end). */
  take(n: number, timeoutMs?: number): Promise<void> {
    return this.until((r) => r.events.length >= n, timeoutMs);
  }

  /** Reads to the end of the stream. */
  end(timeoutMs?: number): Promise<void> {
    return this.until(() => false, timeoutMs);
  }

  /** Hangs up, as a client that goes away. */
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }

  /** `id:event:key` of each event so far. */
  summary(): string[] {
    return this.events.map((e) => `${e.id}:${e.event}:${JSON.parse(e.data).key}`);
  }

  describe(): string {
    return JSON.stringify({ events: this.summary(), comments: this.comments, done: this.done });
  }

  #feed(text: string): void {
    this.#buf += text;
    let at: number;
    while ((at = this.#buf.indexOf("\n\n")) >= 0) {
      const block = this.#buf.slice(0, at);
      this.#buf = this.#buf.slice(at + 2);
      const fields: Record<string, string> = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) this.comments.push(line.slice(1).trim());
        else {
          const colon = line.indexOf(":");
          const value = line.slice(colon + 1).replace(/^ /, "");
          const name = line.slice(0, colon);
          fields[name] = name === "data" && fields.data !== undefined
            ? `${fields.data}\n${value}`
            : value;
        }
      }
      if (fields.data !== undefined) {
        this.events.push({
          id: fields.id ?? "",
          event: fields.event ?? "message",
          data: fields.data,
        });
      }
    }
  }
}
