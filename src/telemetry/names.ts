/**
 * Span names and attribute keys, in one place (API.md §8). The engine uses
 * these constants; tests assert on them.
 * @module
 */

export const TRACER_NAME = "raftkv";

export const SPAN = {
  propose: "raftkv.propose",
  append: "raftkv.append",
  replicate: "raftkv.replicate",
  receive: "raftkv.receive",
  commit: "raftkv.commit",
  apply: "raftkv.apply",
  readIndex: "raftkv.read_index",
  forward: "raftkv.forward",
  snapshotSend: "raftkv.snapshot.send",
  snapshotInstall: "raftkv.snapshot.install",
} as const;

export const ATTR = {
  node: "raftkv.node",
  term: "raftkv.term",
  region: "raftkv.region",
  op: "raftkv.op",
  index: "raftkv.index",
  entries: "raftkv.entries",
  bytes: "raftkv.bytes",
  peer: "raftkv.peer",
  messages: "raftkv.messages",
  batchSize: "raftkv.batch_size",
  leader: "raftkv.leader",
  consistency: "raftkv.consistency",
} as const;

/** The one region there is today; every key space and span carries it. */
export const REGION_ID = 1;
