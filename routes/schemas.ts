/**
 * Zod schemas of request bodies and query strings (API.md §3, §6). All are
 * strict: an unknown field or parameter is a 400, never silently ignored.
 * @module
 */
import { z } from "zod";
import { peerUrl } from "../src/config.ts";
import type { FailAction } from "../src/failpoints/registry.ts";

/** A node id, as `--id` takes it. */
const nodeId = z.string().regex(/^[a-z0-9-]{1,32}$/, "Expected a node id: [a-z0-9-]{1,32}");

/** A JSON value that must be present (`z.unknown()` alone admits absence). */
const present = z.unknown().refine((v) => v !== undefined, "Required");

/** `PUT /v1/kv/{key}` body: exactly `{"value": <any JSON>}`. */
export const PutBody = z.object({ value: present }).strict();

/** Query booleans: `true`/`false`/`1`/`0`, or a bare name meaning true. */
export const flag = z.enum(["true", "false", "1", "0", ""], {
  errorMap: () => ({ message: "Expected true, false, 1 or 0" }),
}).transform((v) => v !== "false" && v !== "0");

/** `consistency` of reads (API.md §4). */
export const consistency = z.enum(["linearizable", "lease", "stale"])
  .default("linearizable");

export const GetQuery = z.object({ consistency }).strict();
export const PutQuery = z.object({ prev: flag.default("false") }).strict();
/** Routes that take no query parameters reject any. */
export const NoQuery = z.object({}).strict();
export const DeleteQuery = NoQuery;

/** The largest page a range read may ask for. */
export const MAX_LIMIT = 10_000;

const limit = z.string()
  .regex(/^\d{1,6}$/, "Expected a whole number")
  .transform(Number)
  .pipe(z.number().min(1).max(MAX_LIMIT))
  .default("100");

/** How a range is given: a prefix, or `start` with an optional `end`. */
const rangeFields = {
  prefix: z.string().optional(),
  start: z.string().optional(),
  end: z.string().optional(),
};

type RangeFields = {
  prefix?: string | undefined;
  start?: string | undefined;
  end?: string | undefined;
};

function oneRange(q: RangeFields, ctx: z.RefinementCtx) {
  const issue = (message: string) => ctx.addIssue({ code: "custom", message });
  if (q.prefix !== undefined && (q.start ?? q.end) !== undefined) {
    issue("Give prefix or start/end, not both");
  } else if (q.prefix === undefined && q.start === undefined) {
    issue(q.end === undefined ? "A range is required: prefix or start" : "end needs start");
  }
}

export const RangeQuery = z.object({
  ...rangeFields,
  limit,
  cursor: z.string().optional(),
  reverse: flag.default("false"),
  keysOnly: flag.default("false"),
  consistency,
}).strict().superRefine(oneRange);

export const DeleteRangeQuery = z.object({
  ...rangeFields,
  all: flag.default("false"),
}).strict().superRefine(oneRange);

/** `GET /v1/watch`: one key, a prefix or `start`/`end`; `fromIndex` replays. */
export const WatchQuery = z.object({
  ...rangeFields,
  key: z.string().optional(),
  fromIndex: z.string()
    .regex(/^\d{1,15}$/, "Expected a whole number")
    .transform(Number)
    .optional(),
}).strict().superRefine((q, ctx) => {
  const ranged = (q.prefix ?? q.start ?? q.end) !== undefined;
  const issue = (message: string) => ctx.addIssue({ code: "custom", message });
  if (q.key !== undefined && ranged) issue("Give key, prefix or start/end, not several");
  else if (q.key === undefined && !ranged) issue("A range is required: key, prefix or start");
  else if (q.key === undefined) oneRange(q, ctx);
});

/** Cursor payload: the last key of the previous page. */
export const CursorPayload = z.object({ k: z.string() }).strict();

const key = z.string();
const cmpOp = z.enum(["==", "!=", "<", ">"]);
// A number too long for a double arrives as its text (body.ts), not a number.
const index = z.number({ invalid_type_error: "Expected a whole number from 0 to 2^53-1" })
  .int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A txn compare; the type of `value` follows `target`. */
export const TxnCompare = z.discriminatedUnion("target", [
  z.object({ key, target: z.literal("value"), op: cmpOp, value: present })
    .strict(),
  // Ordering a boolean means nothing: exists takes == and != only.
  z.object({
    key,
    target: z.literal("exists"),
    op: z.enum(["==", "!="]),
    value: z.boolean(),
  }).strict(),
  z.object({
    key,
    target: z.enum(["version", "modIndex", "createIndex"]),
    op: cmpOp,
    value: index,
  }).strict(),
]);

/** A txn operation. */
export const TxnOpSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("put"), key, value: present }).strict(),
  z.object({ op: z.literal("delete"), key }).strict(),
  z.object({ op: z.literal("get"), key }).strict(),
]);

/** `POST /v1/txn` body; missing lists are empty. */
export const TxnBody = z.object({
  compare: z.array(TxnCompare).default([]),
  success: z.array(TxnOpSchema).default([]),
  failure: z.array(TxnOpSchema).default([]),
}).strict();
export type TxnBody = z.infer<typeof TxnBody>;

/** `PUT /debug/failpoints/{name}` body: a FailAction. */
export const FailActionBody = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("error") }).strict(),
  z.object({
    kind: z.literal("delay"),
    ms: z.number().int().min(0).max(600_000),
  }).strict(),
  z.object({
    kind: z.literal("drop"),
    peers: z.array(nodeId).optional(),
  }).strict(),
  z.object({ kind: z.literal("pause") }).strict(),
  z.object({ kind: z.literal("crash") }).strict(),
]).transform((a): FailAction =>
  // exactOptionalPropertyTypes: an absent `peers` must not be `undefined`.
  a.kind === "drop" && a.peers === undefined ? { kind: "drop" } : a as FailAction
);

/** `POST /v1/cluster/members` body. */
export const AddMemberBody = z.object({
  id: nodeId,
  url: peerUrl,
  learner: z.boolean().default(false),
}).strict();

/** `POST /v1/cluster/leader` body. */
export const TransferLeaderBody = z.object({ id: nodeId }).strict();

/** A node id in a path. */
export const NodeIdParam = nodeId;
