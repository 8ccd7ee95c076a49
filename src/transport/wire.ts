/**
 * The peer wire format: a batch of Raft messages for one region, as JSON.
 * Validated here, at the gateway; inside, the types are trusted.
 * @module
 */
import { z } from "zod";
import type { Message } from "../raft/messages.ts";

const id = z.string().regex(/^[a-z0-9-]{1,32}$/);
const idx = z.number().int().nonnegative();
const base = { from: id, to: id, term: idx };

const entry = z.object({
  term: idx,
  index: idx,
  type: z.enum(["normal", "conf"]),
  data: z.string(),
}).strict();

const confState = z.object({
  voters: z.array(id),
  learners: z.array(id),
}).strict();

const message = z.discriminatedUnion("type", [
  z.object({
    ...base,
    type: z.literal("app"),
    logTerm: idx,
    index: idx,
    entries: z.array(entry),
    commit: idx,
  }).strict(),
  z.object({
    ...base,
    type: z.literal("appResp"),
    index: idx,
    reject: z.boolean(),
    rejectHint: idx,
    logTerm: idx,
  }).strict(),
  z.object({
    ...base,
    type: z.enum(["vote", "preVote"]),
    index: idx,
    logTerm: idx,
    transfer: z.boolean(),
  }).strict(),
  z.object({
    ...base,
    type: z.enum(["voteResp", "preVoteResp"]),
    reject: z.boolean(),
    commit: idx.optional(),
    commitTerm: idx.optional(),
  })
    .strict(),
  z.object({
    ...base,
    type: z.literal("heartbeat"),
    commit: idx,
    context: z.string(),
  })
    .strict(),
  z.object({ ...base, type: z.literal("heartbeatResp"), context: z.string() })
    .strict(),
  z.object({
    ...base,
    type: z.literal("snap"),
    snapshot: z.object({
      meta: z.object({ index: idx, term: idx, confState }).strict(),
      data: z.string(),
    }).strict(),
  }).strict(),
  z.object({ ...base, type: z.literal("readIndex"), context: z.string() })
    .strict(),
  z.object({
    ...base,
    type: z.literal("readIndexResp"),
    context: z.string(),
    index: idx,
    reject: z.boolean(),
  }).strict(),
  z.object({ ...base, type: z.literal("timeoutNow") }).strict(),
]);

/** A batch of messages from one peer to another, for one region. */
export const messageBatch = z.object({
  region: z.number().int().positive(),
  messages: z.array(message).min(1),
}).strict();

export interface MessageBatch {
  readonly region: number;
  readonly messages: readonly Message[];
}

export function encodeBatch(batch: MessageBatch): string {
  return JSON.stringify(batch);
}

/** Parses and validates a batch; throws a ZodError or SyntaxError on garbage. */
export function decodeBatch(text: string): MessageBatch {
  return messageBatch.parse(JSON.parse(text)) as MessageBatch;
}
