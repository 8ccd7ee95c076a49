/**
 * The peer wire format: a batch of Raft messages for one region, as JSON.
 * Validated here, at the gateway; inside, the types are trusted. The check
 * is hand-written (not zod): it runs on every peer batch on every node, and
 * a schema library cost followers several percent of their CPU.
 * @module
 */
import { type Context, ROOT_CONTEXT, type SpanContext, trace } from "@opentelemetry/api";
import type { Message } from "../raft/messages.ts";

export interface MessageBatch {
  readonly region: number;
  readonly messages: readonly Message[];
  /** W3C traceparent of the sender's replicate span (streamed frames only). */
  readonly traceparent?: string | undefined;
}

export class WireError extends TypeError {
  override name = "WireError";
}

type Obj = Record<string, unknown>;
/** A field check of the hand-written validators (here and `forward_wire.ts`). */
export type FieldCheck = (v: unknown) => boolean;

const ID_RE = /^[a-z0-9-]{1,32}$/;
export const isId: FieldCheck = (v) => typeof v === "string" && ID_RE.test(v);
/**
 * Terms and indexes past 2^52 are refused: a node that took one (a forged
 * heartbeat at 2^53 - 1) could never campaign again, its next term past
 * what JSON numbers hold exactly. Real ones never come near.
 */
export const MAX_IDX = 2 ** 52;
export const isIdx: FieldCheck = (v) =>
  Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_IDX;
const isBool: FieldCheck = (v) => typeof v === "boolean";
export const isStr: FieldCheck = (v) => typeof v === "string";
export const optional = (f: FieldCheck): FieldCheck => (v) => v === undefined || f(v);

const ENVELOPE = { type: isStr, from: isId, to: isId, term: isIdx };

/**
 * The fields of each message type, beyond the envelope; no others allowed.
 * No `snap`: snapshots travel on their own route (`/raft/v1/snapshot`), whose
 * records are staged before the core sees the message; a `snap` in a batch
 * named a staged snapshot that did not exist (the install then ended the node).
 */
const FIELDS: Record<Exclude<Message["type"], "snap">, Record<string, FieldCheck>> = {
  app: { logTerm: isIdx, index: isIdx, entries: isEntries, commit: isIdx },
  appResp: { index: isIdx, reject: isBool, rejectHint: isIdx, logTerm: isIdx },
  vote: { index: isIdx, logTerm: isIdx, transfer: isBool },
  preVote: { index: isIdx, logTerm: isIdx, transfer: isBool },
  voteResp: { reject: isBool, commit: optional(isIdx), commitTerm: optional(isIdx) },
  preVoteResp: { reject: isBool, commit: optional(isIdx), commitTerm: optional(isIdx) },
  heartbeat: { commit: isIdx, context: isStr },
  heartbeatResp: { context: isStr },
  readIndex: { context: isStr },
  readIndexResp: { context: isStr, index: isIdx, reject: isBool },
  timeoutNow: {},
};

export function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Every listed field passes and no other field is present (strict). */
function hasExactly(o: Obj, fields: Record<string, FieldCheck>): boolean {
  for (const k in o) if (!(k in fields)) return false;
  for (const k in fields) if (!fields[k]!(o[k])) return false;
  return true;
}

function isEntries(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (const e of v) {
    if (!isObj(e) || !hasExactly(e, ENTRY)) return false;
  }
  return true;
}

const ENTRY: Record<string, FieldCheck> = {
  term: isIdx,
  index: isIdx,
  type: (v) => v === "normal" || v === "conf",
  data: isStr,
};

/** Envelope plus type fields, merged once (this runs for every message received). */
const SHAPES: Record<string, Record<string, FieldCheck>> = Object.fromEntries(
  Object.entries(FIELDS).map(([type, fields]) => [type, { ...ENVELOPE, ...fields }]),
);

function isMessage(v: unknown): v is Message {
  if (!isObj(v) || typeof v.type !== "string" || !Object.hasOwn(SHAPES, v.type)) return false;
  return hasExactly(v, SHAPES[v.type]!);
}

const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const isTraceparent: FieldCheck = (v) => typeof v === "string" && TRACEPARENT_RE.test(v);
const BATCH = { region: isIdx, messages: Array.isArray, traceparent: optional(isTraceparent) };

/** The W3C traceparent header value naming `sc`. */
export function traceparentOf(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

/** The context a frame's traceparent names (its spans' parent), or the root. */
export function contextOf(traceparent: string | undefined): Context {
  const m = traceparent === undefined ? null : TRACEPARENT_RE.exec(traceparent);
  if (!m) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: m[1]!,
    spanId: m[2]!,
    traceFlags: parseInt(m[3]!, 16),
    isRemote: true,
  });
}

export function encodeBatch(batch: MessageBatch): string {
  return JSON.stringify(batch);
}

/** Parses and validates a batch; throws SyntaxError or WireError on garbage. */
export function decodeBatch(text: string): MessageBatch {
  return checkBatch(JSON.parse(text));
}

/** Validates a parsed batch; throws WireError on garbage. */
export function checkBatch(b: unknown): MessageBatch {
  if (!isObj(b) || !hasExactly(b, BATCH)) {
    throw new WireError("Message batch must be {region, messages}");
  }
  const messages = b.messages as unknown[];
  if (b.region === 0 || messages.length === 0) throw new WireError("Empty or region 0 batch");
  messages.forEach((m, i) => {
    if (!isMessage(m)) throw new WireError(`Message ${i} is malformed`);
  });
  return b as unknown as MessageBatch;
}
