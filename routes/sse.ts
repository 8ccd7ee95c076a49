/**
 * The event stream of one watch (API.md §5), as `text/event-stream`: each
 * change is an event with `id: <modIndex>`, `event: put|delete` and `data:`
 * the record as GET renders it (a delete: `{"key","modIndex"}`).
 *
 * The queue between the hub and the client is bounded in bytes. A client
 * that reads too slowly makes it overflow; then the stream ends after what
 * is queued, at an entry boundary, and the client resumes with
 * Last-Event-ID. Memory per watcher stays bounded either way.
 * @module
 */
import type { Watch, WatchEnd, WatchSink } from "../src/engine/watch_hub.ts";
import type { KvChange } from "../src/kv/types.ts";
import { renderRecord } from "./render.ts";

/** Bytes a watcher may have queued before its stream is ended. */
export const WATCH_QUEUE_BYTES = 8 * 1024 * 1024;

const utf8 = new TextEncoder();
/** Events are queued in pieces of about this many code units. */
const EVENT_PIECE_UNITS = 1 << 20;

/**
 * One change of entry `index` as an SSE event. JSON text never holds a raw
 * newline (JSON.stringify escapes them), so `data:` is a single line.
 */
export function renderEvent(index: number, c: KvChange): string {
  const data = c.type === "put"
    ? renderRecord(c.record)
    : `{"key":${JSON.stringify(c.key)},"modIndex":${c.modIndex}}`;
  return `id: ${index}\nevent: ${c.type}\ndata: ${data}\n\n`;
}

/**
 * Every watcher of a change gets the same change object from the hub: its
 * event is rendered once, not once per watcher (256 watchers of a prefix
 * rendered each record 256 times).
 */
const rendered = new WeakMap<KvChange, string>();

function eventOf(index: number, c: KvChange): string {
  let text = rendered.get(c);
  if (text === undefined) rendered.set(c, text = renderEvent(index, c));
  return text;
}

/** A WatchSink writing to a byte stream that becomes the response body. */
export class SseStream implements WatchSink {
  readonly body: ReadableStream<Uint8Array>;
  #ctrl!: ReadableStreamDefaultController<Uint8Array>;
  #open = true;
  #watch: Watch | null = null;

  constructor(maxQueueBytes = WATCH_QUEUE_BYTES) {
    this.body = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#ctrl = c;
      },
      // Deno cancels the body when the client disconnects.
      cancel: () => {
        this.#open = false;
        this.#watch?.cancel();
      },
    }, { highWaterMark: maxQueueBytes, size: (chunk) => chunk.byteLength });
  }

  /** Ties the stream to its watch, which a client disconnect cancels. */
  attach(watch: Watch): void {
    this.#watch = watch;
  }

  /**
   * One entry's events, all queued before the stream can end (it never
   * ends inside an entry). The entries of one apply batch go out as one
   * chunk (one socket write per watcher per batch, not per entry), in
   * pieces of about a megabyte: a range delete's events as one string
   * could pass V8's maximum string length, and this runs in the apply loop.
   */
  changes(index: number, changes: readonly KvChange[]): boolean {
    for (const c of changes) {
      this.#buf += eventOf(index, c);
      if (this.#buf.length >= EVENT_PIECE_UNITS) this.#flush();
    }
    if (!this.#flushQueued && this.#buf !== "") {
      this.#flushQueued = true;
      queueMicrotask(this.#flushSoon);
    }
    // Counts what waits in the buffer too (units: a lower bound of bytes).
    return (this.#ctrl.desiredSize ?? 0) - this.#buf.length >= 0;
  }

  keepalive(): void {
    this.#send(": keepalive\n\n");
  }

  end(why: WatchEnd): void {
    this.#send(`: end ${why}\n\n`);
    if (!this.#open) return;
    this.#open = false;
    this.#ctrl.close();
  }

  /** Events waiting for the end of the apply batch. */
  #buf = "";
  #flushQueued = false;
  readonly #flushSoon = () => {
    this.#flushQueued = false;
    this.#flush();
  };

  #flush(): void {
    if (this.#buf === "") return;
    const text = this.#buf;
    this.#buf = "";
    if (this.#open) this.#ctrl.enqueue(utf8.encode(text));
  }

  /** Queued after the buffered events, so they stay in order. */
  #send(text: string): void {
    this.#flush();
    if (this.#open) this.#ctrl.enqueue(utf8.encode(text));
  }
}
