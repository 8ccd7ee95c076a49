/**
 * The pure Raft consensus core: no I/O, no timers, no global randomness.
 * The node drives a {@link RawNode} with tick/step/propose, persists and
 * sends each {@link Ready}, and calls advance().
 * @module
 */
export * from "./types.ts";
export * from "./messages.ts";
export type * from "./ready.ts";
export type * from "./storage.ts";
export * from "./config.ts";
export * from "./rand.ts";
export * from "./errors.ts";
export * from "./memory_storage.ts";
export * from "./raw_node.ts";
export * from "./conf_change.ts";
export * from "./describe.ts";
export type { ProgressState } from "./progress.ts";
export type { ProgressStatus } from "./status.ts";
