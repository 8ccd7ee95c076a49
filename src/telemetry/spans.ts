/**
 * Request spans that cost nothing when nothing traces: a span starts only
 * under an active span (Deno's HTTP server span when `OTEL_DENO=true`), and
 * its attributes are built only then (`span?.setAttributes({…})`).
 * @module
 */
import { type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import { TRACER_NAME } from "./names.ts";

const tracer = trace.getTracer(TRACER_NAME);

/**
 * A child of the active span, or undefined when there is none. Callers set
 * attributes with `span?.setAttributes({…})`, whose argument is not even
 * built when the span is undefined.
 */
export function startChildSpan(name: string): Span | undefined {
  return trace.getActiveSpan() ? tracer.startSpan(name) : undefined;
}

/** Marks `span` failed with `e`'s message. */
export function failSpan(span: Span | undefined, e: unknown): void {
  if (!span) return;
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
