/**
 * An OTLP/HTTP JSON receiver for tests: what Deno exports with
 * `OTEL_EXPORTER_OTLP_PROTOCOL=http/json` lands here, flattened to one
 * record per span with its service name. Logs and metrics are accepted
 * and dropped.
 * @module
 */

/** OTLP span kinds. */
export const KIND = { internal: 1, server: 2, client: 3 } as const;
/** OTLP status codes. */
export const STATUS = { unset: 0, ok: 1, error: 2 } as const;

export interface OtlpSpan {
  readonly service: string;
  readonly scope: string;
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  /** "" for a root span. */
  readonly parentSpanId: string;
  readonly links: readonly { traceId: string; spanId: string }[];
  readonly status: { code: number; message: string };
  readonly attributes: Readonly<Record<string, unknown>>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
}

interface KeyValue {
  key: string;
  value: AnyValue;
}

function value(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  return undefined;
}

function attrs(kvs: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((kvs ?? []).map((kv) => [kv.key, value(kv.value)]));
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** Flattens one `ExportTraceServiceRequest` (JSON encoding). */
export function flatten(body: Json): OtlpSpan[] {
  const out: OtlpSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const service = String(attrs(rs.resource?.attributes)["service.name"] ?? "");
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          service,
          scope: ss.scope?.name ?? "",
          name: s.name,
          kind: s.kind ?? 0,
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? "",
          links: (s.links ?? []).map((l: Json) => ({ traceId: l.traceId, spanId: l.spanId })),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? "" },
          attributes: attrs(s.attributes),
        });
      }
    }
  }
  return out;
}

async function readJson(req: Request): Promise<Json> {
  const gz = req.headers.get("content-encoding") === "gzip";
  const stream = gz ? req.body!.pipeThrough(new DecompressionStream("gzip")) : req.body!;
  return await new Response(stream).json();
}

export class OtlpReceiver {
  readonly spans: OtlpSpan[] = [];
  readonly #byId = new Map<string, OtlpSpan>();
  #server: Deno.HttpServer<Deno.NetAddr>;

  private constructor() {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => this.#handle(req),
    );
  }

  static start(): OtlpReceiver {
    return new OtlpReceiver();
  }

  /** The `OTEL_EXPORTER_OTLP_ENDPOINT` for the nodes. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  span(spanId: string): OtlpSpan | undefined {
    return this.#byId.get(spanId);
  }

  trace(traceId: string): OtlpSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  /** `s`, its parent, its parent's parent, … as far as they arrived. */
  ancestry(s: OtlpSpan): OtlpSpan[] {
    const out = [s];
    for (let p = this.span(s.parentSpanId); p && out.length < 64; p = this.span(p.parentSpanId)) {
      out.push(p);
    }
    return out;
  }

  async stop(): Promise<void> {
    await this.#server.shutdown();
  }

  async #handle(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (req.method !== "POST") return new Response(null, { status: 405 });
    if (path === "/v1/traces") {
      for (const s of flatten(await readJson(req))) {
        this.spans.push(s);
        this.#byId.set(s.spanId, s);
      }
    } else {
      await req.body?.cancel();
    }
    return Response.json({});
  }
}
