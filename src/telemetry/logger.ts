/**
 * Structured JSON logs, one line each: time, level, node, term, message,
 * the caller's fields, and the trace and span ids when logged inside a
 * span. Quiet by default (info); `--log-level` sets the floor.
 * Hot paths guard their debug lines with {@link Logger.enabled} so that a
 * filtered line costs no allocation.
 * @module
 */
import { isSpanContextValid, trace } from "@opentelemetry/api";

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
/** Keys the logger owns; a field with one of these names is prefixed `field.`. */
const RESERVED = new Set(["time", "level", "node", "term", "msg", "trace_id", "span_id"]);

export type LogFields = Readonly<Record<string, unknown>>;

export class Logger {
  #min: number;

  constructor(
    readonly node: string,
    level: LogLevel | "silent" = "info",
    /** The current Raft term; set later by `main.ts` once the node exists. */
    public term: () => number = () => 0,
    readonly write: (line: string) => void = (l) => console.error(l),
  ) {
    this.#min = level === "silent" ? Infinity : RANK[level];
  }

  /** A logger that writes nothing (in-process tests, library use). */
  static silent(): Logger {
    return new Logger("", "silent");
  }

  /** True when a line at `level` would be written. */
  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#min;
  }

  debug(msg: string, fields?: LogFields): void {
    if (this.#min <= 0) this.#log("debug", msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    if (this.#min <= 1) this.#log("info", msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    if (this.#min <= 2) this.#log("warn", msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    if (this.#min <= 3) this.#log("error", msg, fields);
  }

  #log(level: LogLevel, msg: string, fields?: LogFields): void {
    const line: Record<string, unknown> = {
      time: new Date().toISOString(),
      level,
      node: this.node,
      term: this.term(),
      msg,
    };
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        line[RESERVED.has(k) ? `field.${k}` : k] = v instanceof Error ? errorText(v) : v;
      }
    }
    const sc = trace.getActiveSpan()?.spanContext();
    if (sc && isSpanContextValid(sc)) {
      line.trace_id = sc.traceId;
      line.span_id = sc.spanId;
    }
    this.write(JSON.stringify(line, replacer));
  }
}

/** Lets a line that repeats through once per `ms` per key (no flood). */
export class LogThrottle {
  #last = new Map<string, number>();

  constructor(readonly ms = 60_000) {}

  allow(key: string, now = performance.now()): boolean {
    if (now - (this.#last.get(key) ?? -Infinity) < this.ms) return false;
    this.#last.set(key, now);
    return true;
  }
}

function errorText(e: Error): string {
  return e.name === "Error" ? e.message : `${e.name}: ${e.message}`;
}

/** JSON cannot hold bigint; write it as a decimal string. */
function replacer(_key: string, v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}
