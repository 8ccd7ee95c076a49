/**
 * The peer gateway under `/raft`: validates, checks the cluster token, hands
 * messages to the engine and answers 204 at once (replies travel as later
 * messages). Client tokens never open these routes.
 * @module
 */
import { Hono } from "hono";
import { type Context as OtelContext, context } from "@opentelemetry/api";
import type { KvRecord } from "../kv/types.ts";
import { failpoints } from "../failpoints/registry.ts";
import { decodeBatch, type MessageBatch } from "./wire.ts";
import { decodeSnapshot, type SnapshotHeader } from "./snapshot_stream.ts";

export interface PeerReceiver {
  receiveMessages(batch: MessageBatch, ctx: OtelContext): void;
  receiveSnapshot(header: SnapshotHeader, records: KvRecord[]): void;
}

const MAX_BATCH_BYTES = 64 * 1024 * 1024;

function peerError(code: string, message: string) {
  return { error: { code, message } };
}

/** Constant-time comparison, so the token is not leaked by timing. */
function sameToken(given: string, want: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(want);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i]!;
  return diff === 0;
}

export function createPeerApp(
  receiver: PeerReceiver,
  opts: { clusterToken: string | undefined },
): Hono {
  const app = new Hono();
  app.use("*", async (c, next) => {
    if (opts.clusterToken) {
      const auth = c.req.header("authorization") ?? "";
      if (!sameToken(auth, `Bearer ${opts.clusterToken}`)) {
        return c.json(
          peerError("unauthorized", "Missing or wrong cluster token"),
          401,
        );
      }
    }
    await next();
  });
  app.post("/v1/messages", async (c) => {
    const len = Number(c.req.header("content-length") ?? "0");
    if (len > MAX_BATCH_BYTES) {
      return c.json(peerError("too_large", "Batch too large"), 413);
    }
    let batch: MessageBatch;
    try {
      batch = decodeBatch(await c.req.text());
    } catch (e) {
      return c.json(
        peerError("invalid_request", `Bad message batch: ${e}`),
        400,
      );
    }
    const from = batch.messages[0]!.from;
    if (
      failpoints.enabled && failpoints.shouldDrop("transport.receive", from)
    ) {
      return c.body(null, 204);
    }
    receiver.receiveMessages(batch, context.active());
    return c.body(null, 204);
  });
  app.post("/v1/snapshot", async (c) => {
    const body = c.req.raw.body;
    if (!body) {
      return c.json(peerError("invalid_request", "Empty snapshot"), 400);
    }
    try {
      const { header, records } = await decodeSnapshot(body);
      if (
        failpoints.enabled &&
        failpoints.shouldDrop("transport.receive", header.from)
      ) {
        return c.body(null, 204);
      }
      receiver.receiveSnapshot(header, records);
      return c.body(null, 204);
    } catch (e) {
      return c.json(peerError("invalid_request", `Bad snapshot: ${e}`), 400);
    }
  });
  return app;
}
