/**
 * The peer stream over a real WebSocket: a PeerStream dialing the peer app
 * served by Deno.serve on loopback, with a receiver that records batches.
 */
import assert from "node:assert/strict";
import { silentPeer } from "./_silent_peer.ts";
import { Hono } from "hono";
import type { Context } from "@opentelemetry/api";
import { trace } from "@opentelemetry/api";
import type { Message } from "../../src/raft/messages.ts";
import { createPeerApp, type PeerReceiver } from "../../src/transport/peer_routes.ts";
import { PeerStream } from "../../src/transport/peer_stream.ts";
import type { MessageBatch } from "../../src/transport/wire.ts";
import type { ForwardFrame } from "../../src/transport/forward_wire.ts";
import { contextOf, traceparentOf } from "../../src/transport/wire.ts";
import { createNodeMetrics } from "../../src/telemetry/node_metrics.ts";
import { failpoints } from "../../src/failpoints/registry.ts";
import { until } from "../e2e/_cluster.ts";

const TOKEN = "s3cret";
const hb = (commit: number): Message => ({
  type: "heartbeat",
  from: "n1",
  to: "n2",
  term: 1,
  commit,
  context: "",
});

class Recorder implements PeerReceiver {
  batches: MessageBatch[] = [];
  get commits(): number[] {
    return this.batches.flatMap((b) =>
      b.messages.map((m) => m.type === "heartbeat" ? m.commit : -1)
    );
  }
  receiveMessages(batch: MessageBatch, _ctx: Context): void {
    this.batches.push(batch);
  }
  forwards: ForwardFrame[] = [];
  receiveForwards(frame: ForwardFrame): void {
    this.forwards.push(frame);
  }
  receiveSnapshot(): void {}
}

/** A peer app on a free loopback port; `close` stops it. */
function servePeer(rx: PeerReceiver, port = 0) {
  const app = new Hono().route("/raft", createPeerApp(rx, { clusterToken: TOKEN }));
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, app.fetch);
  return { url: `http://127.0.0.1:${server.addr.port}`, server };
}

function stream(url: string, token = TOKEN, now?: () => number) {
  const metrics = createNodeMetrics();
  const s = new PeerStream({
    selfId: "n1",
    peer: "n2",
    url,
    headers: { authorization: `Bearer ${token}` },
    metrics,
    now,
  });
  return { s, metrics };
}

Deno.test("peer stream: frames arrive in order, one per turn of the event loop", async () => {
  const rx = new Recorder();
  const { url, server } = servePeer(rx);
  const { s, metrics } = stream(url);
  try {
    // Queued before the connection opens: held, then sent in order.
    for (let i = 1; i <= 3; i++) s.enqueue([hb(i)], undefined);
    await until("first frame", () => rx.batches.length >= 1 ? true : undefined);
    for (let i = 4; i <= 100; i++) {
      s.enqueue([hb(i)], undefined);
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await until("all messages", () => rx.commits.length === 100 ? true : undefined);
    assert.deepEqual(rx.commits, Array.from({ length: 100 }, (_, i) => i + 1));
    assert.ok(rx.batches.length <= 20, `${rx.batches.length} frames for 100 messages`);
    assert.equal(metrics.peerMessagesSent.value({ peer: "n2" }), 100);
  } finally {
    s.close();
    await server.shutdown();
  }
});

Deno.test("peer stream: a wrong cluster token is refused, nothing delivered", async () => {
  const rx = new Recorder();
  const { url, server } = servePeer(rx);
  const { s, metrics } = stream(url, "wrong");
  try {
    s.enqueue([hb(1)], undefined);
    await until("send error", () => metrics.peerSendErrors.value({ peer: "n2" }) >= 1 || undefined);
    const res = await fetch(`${url}/raft/v1/stream`, { headers: { upgrade: "websocket" } });
    assert.equal(res.status, 401);
    await res.body?.cancel();
    assert.equal(rx.batches.length, 0);
  } finally {
    s.close();
    await server.shutdown();
  }
});

Deno.test("peer stream: a peer that comes back is reconnected", async () => {
  const rx = new Recorder();
  const first = servePeer(rx);
  const port = Number(new URL(first.url).port);
  const { s, metrics } = stream(first.url);
  let second: ReturnType<typeof servePeer> | undefined;
  try {
    s.enqueue([hb(1)], undefined);
    await until("delivered", () => rx.batches.length === 1 || undefined);
    await first.server.shutdown();
    // Down: sends fail and back off; nothing arrives anywhere.
    await until(
      "stream lost",
      () => metrics.peerSendErrors.value({ peer: "n2" }) >= 1 || undefined,
    );
    second = servePeer(rx, port);
    // Raft resends; so does this loop, until the stream is back.
    await until("reconnected", () => {
      s.enqueue([hb(2)], undefined);
      return rx.commits.includes(2) || undefined;
    }, 10_000);
  } finally {
    s.close();
    await second?.server.shutdown();
  }
});

Deno.test("peer stream: a malformed frame closes the stream; drops honour failpoints", async () => {
  const rx = new Recorder();
  const { url, server } = servePeer(rx);
  try {
    const ws = new WebSocket(`${url.replace("http", "ws")}/raft/v1/stream`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const closed = new Promise<number>((r) => ws.onclose = (e) => r(e.code));
    await new Promise((r) => ws.onopen = r);
    ws.send(JSON.stringify({ region: 1, messages: [{ ...hb(1), extra: 1 }] }));
    assert.equal(await closed, 1008);
    assert.equal(rx.batches.length, 0);

    failpoints.enable();
    failpoints.set("transport.receive", { kind: "drop", peers: ["n1"] });
    const { s } = stream(url);
    try {
      s.enqueue([hb(7)], undefined); // from n1: dropped on receipt
      await new Promise((r) => setTimeout(r, 0)); // the next turn: a new frame
      failpoints.set("transport.send", { kind: "drop", peers: ["n2"] });
      s.enqueue([hb(8)], undefined); // to n2: dropped before sending
      failpoints.clear("transport.send");
      s.enqueue([{ ...hb(9), from: "n3" }], undefined);
      // Frames are ordered: once n3's arrived, n1's earlier one was dropped.
      await until("after the drops", () => rx.commits.includes(9) || undefined);
      assert.deepEqual(rx.commits, [9]);
    } finally {
      s.close();
    }
  } finally {
    failpoints.clear();
    await server.shutdown();
  }
});

Deno.test("wire: traceparent round-trips to a remote span context", () => {
  const sc = {
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    traceFlags: 1,
  };
  const tp = traceparentOf(sc);
  assert.equal(tp, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  assert.deepEqual(trace.getSpanContext(contextOf(tp)), { ...sc, isRemote: true });
  assert.equal(trace.getSpanContext(contextOf("00-bad")), undefined);
  assert.equal(trace.getSpanContext(contextOf(undefined)), undefined);
});

Deno.test("peer stream: forwards and replies travel in their own frame, checked", async () => {
  const rx = new Recorder();
  const { url, server } = servePeer(rx);
  const { s } = stream(url);
  try {
    s.forward({ forwards: [{ id: 1, data: '{"type":"put"}' }] });
    s.forward({ replies: [{ id: 2, index: 9, result: { type: "delete", deleted: 1 } }] });
    s.enqueue([hb(1)], undefined);
    await until(
      "both frames",
      () => rx.forwards.length === 1 && rx.batches.length === 1 || undefined,
    );
    assert.deepEqual(rx.forwards[0], {
      region: 1,
      from: "n1",
      forwards: [{ id: 1, data: '{"type":"put"}' }],
      replies: [{ id: 2, index: 9, result: { type: "delete", deleted: 1 } }],
    });
    for (
      const bad of [
        { region: 1, from: "n1", forwards: [{ id: -1, data: "" }] },
        { region: 1, from: "N 1", replies: [] },
        { region: 1, from: "n1", replies: [{ id: 1 }] },
        { region: 1, from: "n1", replies: [{ id: 1, error: { name: 1, message: "" } }] },
      ]
    ) {
      const ws = new WebSocket(`${url.replace("http", "ws")}/raft/v1/stream`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const closed = new Promise<number>((r) => ws.onclose = (e) => r(e.code));
      await new Promise((r) => ws.onopen = r);
      ws.send(JSON.stringify(bad));
      assert.equal(await closed, 1008, JSON.stringify(bad));
    }
    assert.equal(rx.forwards.length, 1);
  } finally {
    s.close();
    await server.shutdown();
  }
});

Deno.test("peer stream: a stream the peer stays silent on is reopened; frames still arrive", async () => {
  const rx = new Recorder();
  let opened = 0;
  const app = new Hono().route("/raft", createPeerApp(rx, { clusterToken: TOKEN }));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    if (new URL(req.url).pathname === "/raft/v1/stream") opened++;
    return app.fetch(req);
  });
  let clock = 0;
  const { s } = stream(`http://127.0.0.1:${server.addr.port}`, TOKEN, () => clock);
  try {
    s.enqueue([hb(1)], undefined);
    await until("first", () => rx.commits.includes(1) || undefined);
    clock += 1000;
    s.heard();
    clock += 2500; // heard 2.5 s ago: still fine
    s.enqueue([hb(2)], undefined);
    await until("second", () => rx.commits.includes(2) || undefined);
    assert.equal(opened, 1);
    clock += 1000; // 3.5 s of silence while sending: reopen
    s.enqueue([hb(3)], undefined);
    await until("third, on a new stream", () => rx.commits.includes(3) || undefined);
    assert.equal(opened, 2);
    assert.deepEqual(rx.commits, [1, 2, 3]);
  } finally {
    s.close();
    await server.shutdown();
  }
});

Deno.test("peer stream: a connection that never opens is given up and retried", async () => {
  // Accepts TCP but never answers the WebSocket handshake (a stopped peer).
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of listener) conns.push(c);
  })();
  let clock = 0;
  const { s, metrics } = stream(`http://127.0.0.1:${listener.addr.port}`, TOKEN, () => clock);
  try {
    s.enqueue([hb(1)], undefined);
    await until("connection attempt", () => conns.length === 1 || undefined);
    clock += 2500;
    s.enqueue([hb(2)], undefined);
    await until("given up", () => metrics.peerSendErrors.value({ peer: "n2" }) === 1 || undefined);
    clock += 1000; // past the backoff: the next send dials again
    s.enqueue([hb(3)], undefined);
    await until("retried", () => conns.length === 2 || undefined);
  } finally {
    s.close();
    listener.close();
    for (const c of conns) c.close();
    await accepting.catch(() => {});
  }
});

/**
 * A peer that completes the WebSocket handshake and then never reads (a
 * SIGSTOPped process): sends pile up in the socket until the stream gives
 * up, counts a send error and dials again.
 */
Deno.test("peer stream: a peer that stops reading is given up past the buffer limit", async () => {
  const peer = silentPeer();
  const conns = peer.conns;
  const { s, metrics } = stream(`http://127.0.0.1:${peer.port}`);
  const big: Message = {
    type: "app",
    from: "n1",
    to: "n2",
    term: 1,
    logTerm: 1,
    index: 1,
    commit: 1,
    entries: [{ term: 1, index: 2, type: "normal", data: "x".repeat(60_000) }],
  };
  try {
    await until("given up and dialled again", async () => {
      for (let i = 0; i < 20; i++) {
        s.enqueue([big], undefined);
        await new Promise((r) => setTimeout(r, 0)); // a frame per turn
      }
      return metrics.peerSendErrors.value({ peer: "n2" }) >= 1 && conns.length >= 1
        ? true
        : undefined;
    }, 30_000);
    await until("a new connection", async () => {
      s.enqueue([hb(1)], undefined);
      await new Promise((r) => setTimeout(r, 10));
      return conns.length >= 2 || undefined;
    }, 10_000);
  } finally {
    s.close();
    await peer.stop();
  }
});

Deno.test("a stream meant for another node is refused, and its cluster id not taken", async () => {
  const seen: (string | undefined)[] = [];
  const app = new Hono().route(
    "/raft",
    createPeerApp(new Recorder(), {
      clusterToken: undefined,
      selfId: "x9",
      clusterSeen: (id) => seen.push(id),
    }),
  );
  const res = await app.request("/raft/v1/stream", {
    headers: {
      upgrade: "websocket",
      "x-raftkv-to": "n1",
      "x-raftkv-cluster-id": "0123456789abcdef",
    },
  });
  assert.equal(res.status, 421);
  assert.equal((await res.json()).error.code, "wrong_node");
  assert.deepEqual(seen, []);
});

Deno.test("messages come only on streams: a POSTed batch is no route; a snapshot passes the cluster check", async () => {
  const rx = new Recorder();
  const app = new Hono().route(
    "/raft",
    createPeerApp(rx, {
      clusterToken: undefined,
      selfId: "n2",
      acceptsCluster: (id) => id === "0123456789abcdef",
    }),
  );
  const batch = JSON.stringify({ region: 1, messages: [hb(7)] });
  const posted = await app.request("/raft/v1/messages", { method: "POST", body: batch });
  await posted.body?.cancel();
  assert.equal(posted.status, 404);
  const snap = await app.request("/raft/v1/snapshot", {
    method: "POST",
    headers: { "x-raftkv-cluster-id": "fedcba9876543210", "x-raftkv-from": "n1" },
    body: "{}",
  });
  assert.equal(snap.status, 409);
  assert.equal((await snap.json()).error.code, "cluster_mismatch");
  assert.deepEqual(rx.batches, []);
});

Deno.test("a stream's cluster id is taken on its first leader message, not when it opens", async () => {
  const rx = new Recorder();
  const seen: (string | undefined)[] = [];
  const app = new Hono().route(
    "/raft",
    createPeerApp(rx, { clusterToken: TOKEN, clusterSeen: (id) => seen.push(id) }),
  );
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  const s = new PeerStream({
    selfId: "n1",
    peer: "n2",
    url: `http://127.0.0.1:${server.addr.port}`,
    headers: { authorization: `Bearer ${TOKEN}`, "x-raftkv-cluster-id": "0123456789abcdef" },
    metrics: createNodeMetrics(),
  });
  try {
    const vote: Message = {
      type: "vote",
      from: "n1",
      to: "n2",
      term: 2,
      index: 0,
      logTerm: 0,
      transfer: false,
    };
    s.enqueue([vote], undefined);
    await until("the vote", () => rx.batches.length === 1 || undefined);
    assert.deepEqual(seen, [], "a candidate's stream says nothing about the cluster");
    s.enqueue([hb(1)], undefined);
    await until("the heartbeat", () => rx.batches.length === 2 || undefined);
    s.enqueue([hb(2)], undefined);
    await until("the second heartbeat", () => rx.batches.length === 3 || undefined);
    assert.deepEqual(seen, ["0123456789abcdef"], "once per stream");
  } finally {
    s.close();
    await server.shutdown();
  }
});
