/**
 * Just enough OpenTelemetry for unit tests without `OTEL_DENO`: a
 * synchronous context manager (so `trace.getActiveSpan()` sees
 * `context.with`) and recording fake spans with fixed ids.
 * @module
 */
import {
  type Context,
  context,
  type ContextManager,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  trace,
  TraceFlags,
} from "@opentelemetry/api";

class StackContextManager implements ContextManager {
  #stack: Context[] = [ROOT_CONTEXT];
  active(): Context {
    return this.#stack[this.#stack.length - 1]!;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    this.#stack.push(ctx);
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.#stack.pop();
    }
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    return this;
  }
}

/** Runs `fn` with a synchronous global context manager installed. */
export function withContextManager<T>(fn: () => T): T {
  context.setGlobalContextManager(new StackContextManager());
  try {
    return fn();
  } finally {
    context.disable();
  }
}

let next = 1;

/** A span context with fresh, valid, sampled ids. */
export function spanContext(): SpanContext {
  const n = (next++).toString(16);
  return {
    traceId: n.padStart(32, "a"),
    spanId: n.padStart(16, "b"),
    traceFlags: TraceFlags.SAMPLED,
  };
}

/** A span that says it records, as Deno's do when `OTEL_DENO=true`. */
export function recordingSpan(sc = spanContext()): Span {
  const span = trace.wrapSpanContext(sc);
  return Object.assign(Object.create(span), { isRecording: () => true }) as Span;
}

/** A context whose active span is `span`. */
export function ctxOf(span: Span): Context {
  return trace.setSpan(ROOT_CONTEXT, span);
}
