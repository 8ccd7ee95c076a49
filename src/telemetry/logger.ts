/**
 * Structured JSON logs, one line each: level, node, term, message, and the
 * trace and span ids when logged inside a span. Quiet by default (info).
 * @module
 */
import { trace } from "@opentelemetry/api";

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export class Logger {
  #min: number;

  constructor(
    readonly node: string,
    level: LogLevel = "info",
    readonly term: () => number = () => 0,
    readonly write: (line: string) => void = (l) => console.error(l),
  ) {
    this.#min = RANK[level];
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.#log("debug", msg, fields);
  }

  info(msg: string, fields?: Record<string, unknown>): void {
    this.#log("info", msg, fields);
  }

  warn(msg: string, fields?: Record<string, unknown>): void {
    this.#log("warn", msg, fields);
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.#log("error", msg, fields);
  }

  #log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (RANK[level] < this.#min) return;
    const sc = trace.getActiveSpan()?.spanContext();
    const line: Record<string, unknown> = {
      time: new Date().toISOString(),
      level,
      node: this.node,
      term: this.term(),
      msg,
      ...fields,
    };
    if (sc) {
      line.trace_id = sc.traceId;
      line.span_id = sc.spanId;
    }
    this.write(JSON.stringify(line));
  }
}
