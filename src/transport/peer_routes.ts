/**
 * The peer gateway under `/raft`: checks the cluster token, validates, and
 * hands messages to the engine. Messages come as frames on a WebSocket
 * stream (`/v1/stream`), which checks who opens it (the node meant, not a
 * removed member, the same cluster) once; replies travel as later frames.
 * Snapshots are POSTed as a stream of their own. Client tokens never open
 * these routes.
 * @module
 */
import { type Context, Hono } from "hono";
import { type Context as OtelContext, ROOT_CONTEXT, SpanKind, trace } from "@opentelemetry/api";
import { ATTR, SPAN, TRACER_NAME } from "../telemetry/names.ts";
import type { KvRecord } from "../kv/types.ts";
import { failpoints } from "../failpoints/registry.ts";
import { checkBatch, contextOf, type MessageBatch } from "./wire.ts";
import { checkForwardFrame, type ForwardFrame, isForwardFrame } from "./forward_wire.ts";
import { decodeSnapshot, type SnapshotHeader } from "./snapshot_stream.ts";

export interface PeerReceiver {
  receiveMessages(batch: MessageBatch, ctx: OtelContext): void;
  /** Forwarded writes and their outcomes (see `forward_wire.ts`). */
  receiveForwards(frame: ForwardFrame): void;
  receiveSnapshot(header: SnapshotHeader, records: KvRecord[]): void;
}

const tracer = trace.getTracer(TRACER_NAME);

/** The sender's cluster id, on stream upgrades (see `engine/cluster_id.ts`). */
export const CLUSTER_ID_HEADER = "x-raftkv-cluster-id";
/** The sender's member ids (see `member_ids.ts`). */
export const MEMBERS_HEADER = "x-raftkv-members";
/**
 * The node a stream is meant for. Another node now at a member's old
 * address refuses it, instead of taking the sender's cluster id and
 * looking reachable.
 */
export const TO_HEADER = "x-raftkv-to";
/** The node opening a stream: a member refuses one it removed (410). */
export const FROM_HEADER = "x-raftkv-from";
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

/** One streamed frame; a malformed one closes the stream (the sender is broken). */
function receiveFrame(
  receiver: PeerReceiver,
  socket: WebSocket,
  data: unknown,
  heard: (from: string) => void,
  /** Told when the frame carries a leader's message (an append or a heartbeat). */
  fromLeader?: () => void,
): void {
  let frame: MessageBatch | ForwardFrame;
  try {
    if (typeof data !== "string" || data.length > MAX_BATCH_BYTES) throw new Error("bad frame");
    const v: unknown = JSON.parse(data);
    const fwd = typeof v === "object" && v !== null && isForwardFrame(v as Record<string, unknown>);
    frame = fwd ? checkForwardFrame(v as Record<string, unknown>) : checkBatch(v);
  } catch {
    socket.close(1008, "Bad frame");
    return;
  }
  if ("from" in frame) {
    if (failpoints.enabled && failpoints.shouldDrop("transport.receive", frame.from)) return;
    heard(frame.from);
    return receiver.receiveForwards(frame);
  }
  const batch = frame;
  const from = batch.messages[0]!.from;
  if (failpoints.enabled && failpoints.shouldDrop("transport.receive", from)) return;
  heard(from);
  if (fromLeader && batch.messages.some((m) => m.type === "app" || m.type === "heartbeat")) {
    fromLeader();
  }
  if (batch.traceparent === undefined) return receiver.receiveMessages(batch, ROOT_CONTEXT);
  // The sender's replicate span is remote; a local span (the frame's server
  // side) parents this node's batch spans, as an HTTP server span did.
  const span = tracer.startSpan(SPAN.receive, {
    kind: SpanKind.SERVER,
    attributes: { [ATTR.peer]: from, [ATTR.messages]: batch.messages.length },
  }, contextOf(batch.traceparent));
  try {
    receiver.receiveMessages(batch, trace.setSpan(ROOT_CONTEXT, span));
  } finally {
    span.end();
  }
}

export function createPeerApp(
  receiver: PeerReceiver,
  opts: {
    clusterToken: string | undefined;
    /** This node: streams meant for another are refused (421). */
    selfId?: string;
    /** True for a node removed from the cluster: its streams are refused (410). */
    isRemoved?: (id: string) => boolean;
    /** Told the sender of every streamed frame taken (stream liveness). */
    heard?: (from: string) => void;
    /** Told of every request refused for a missing or wrong cluster token. */
    unauthorized?: (from: string | undefined) => void;
    /**
     * Told the cluster id a leader presents: on its stream's first append or
     * heartbeat, or with its snapshot (not when any peer opens a stream: a
     * candidate or a follower has no say in which cluster this is).
     */
    clusterSeen?: (id: string | undefined) => void;
    /**
     * False for a cluster this node must not talk to: the stream or the
     * snapshot is refused (409). `members` is the sender's member ids.
     */
    acceptsCluster?: (
      id: string | undefined,
      from: string | undefined,
      members: string | undefined,
    ) => boolean;
  },
): Hono {
  const heard = opts.heard ?? (() => {});
  /** A 409 for a sender of a cluster this node must not join. */
  const admit = (c: Context, from: string | undefined): Response | null => {
    const cluster = c.req.header(CLUSTER_ID_HEADER);
    if (opts.acceptsCluster && !opts.acceptsCluster(cluster, from, c.req.header(MEMBERS_HEADER))) {
      return c.json(peerError("cluster_mismatch", `Not a member of cluster ${cluster}`), 409);
    }
    return null;
  };
  const app = new Hono();
  app.use("*", async (c, next) => {
    if (opts.clusterToken) {
      const auth = c.req.header("authorization") ?? "";
      if (!sameToken(auth, `Bearer ${opts.clusterToken}`)) {
        opts.unauthorized?.(c.req.header(FROM_HEADER));
        return c.json(
          peerError("unauthorized", "Missing or wrong cluster token"),
          401,
        );
      }
    }
    await next();
  });
  app.get("/v1/stream", (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return c.json(peerError("invalid_request", "Expected a WebSocket upgrade"), 426);
    }
    const to = c.req.header(TO_HEADER);
    if (to !== undefined && opts.selfId !== undefined && to !== opts.selfId) {
      return c.json(peerError("wrong_node", `This is "${opts.selfId}", not "${to}"`), 421);
    }
    const from = c.req.header(FROM_HEADER);
    if (from !== undefined && opts.isRemoved?.(from)) {
      return c.json(peerError("removed", `"${from}" was removed from the cluster`), 410);
    }
    const refused = admit(c, from);
    if (refused) return refused;
    const cluster = c.req.header(CLUSTER_ID_HEADER);
    const seen = opts.clusterSeen;
    let leaderSeen = seen && (() => {
      leaderSeen = undefined; // once per stream
      seen(cluster);
    });
    const { socket, response } = Deno.upgradeWebSocket(c.req.raw, { idleTimeout: 30 });
    socket.onmessage = (e) => receiveFrame(receiver, socket, e.data, heard, leaderSeen);
    return response;
  });
  app.post("/v1/snapshot", async (c) => {
    const refused = admit(c, c.req.header(FROM_HEADER));
    if (refused) return refused;
    opts.clusterSeen?.(c.req.header(CLUSTER_ID_HEADER)); // only a leader sends one
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
