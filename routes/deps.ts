/**
 * What the routes need from the node, passed to every sub-app factory.
 * `main.ts` builds the real objects; tests pass fakes.
 * @module
 */
import type { Env, Hono, Schema } from "hono";
import type { Config } from "../src/config.ts";
import type { Engine } from "../src/engine/types.ts";
import type { Failpoints } from "../src/failpoints/registry.ts";
import type { NodeMetrics } from "../src/telemetry/node_metrics.ts";

/** Dependencies of {@link createApp} and of each route factory. */
export interface AppDeps {
  readonly engine: Engine;
  readonly config: Config;
  readonly metrics: NodeMetrics;
  readonly failpoints: Failpoints;
  /** The peer API, mounted at `/raft` when given (built by the transport). */
  readonly peerApp?: Hono<Env, Schema, string>;
  /** Used to forward requests to the leader. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** Per-request variables the middleware leaves for handlers. */
export interface AppEnv extends Env {
  Variables: {
    /** The request body as read (within the limit), kept for forwarding. */
    rawBody: Uint8Array<ArrayBuffer> | undefined;
    /** The parsed JSON body; unknown until a schema checks it. */
    json: unknown;
  };
}
