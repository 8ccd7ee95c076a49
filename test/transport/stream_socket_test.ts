import assert from "node:assert/strict";
import { silentPeer } from "./_silent_peer.ts";
import { StreamSocket } from "../../src/transport/stream_socket.ts";

/** A server that accepts streams carrying `x-token: ok` and records their frames. */
function server(idleTimeout = 120) {
  const frames: string[] = [];
  const sockets: WebSocket[] = [];
  const srv = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    if (req.headers.get("x-token") !== "ok") return new Response("no", { status: 401 });
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout });
    socket.onmessage = (e) => frames.push(e.data);
    sockets.push(socket);
    return response;
  });
  const url = new URL(`ws://127.0.0.1:${srv.addr.port}/raft/v1/stream`);
  return { frames, sockets, url, stop: () => srv.shutdown() };
}

function opened(ws: StreamSocket): Promise<void> {
  return new Promise((ok, fail) => {
    ws.onopen = ok;
    ws.onerror = (e) => fail(new Error(e.message));
  });
}

function closed(ws: StreamSocket): Promise<number> {
  return new Promise((ok) => ws.onclose = (e) => ok(e.code));
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
}

Deno.test("StreamSocket: frames of every length arrive whole and in order", async () => {
  const s = server();
  const ws = new StreamSocket(s.url, { "x-token": "ok" });
  try {
    await opened(ws);
    const texts = [
      "a",
      "é😀".repeat(40),
      "x".repeat(125),
      "y".repeat(126),
      "z".repeat(70_000),
      "w".repeat(1 << 20),
    ];
    for (const t of texts) ws.send(t);
    assert.ok(ws.bufferedAmount > 1 << 20, "queued bytes count as buffered");
    await until(() => s.frames.length === texts.length, "all frames arrive");
    assert.deepEqual(s.frames, texts);
    assert.equal(ws.bufferedAmount, 0);
  } finally {
    const code = closed(ws);
    ws.close();
    assert.equal(await code, 1000);
    await s.stop();
  }
});

Deno.test("StreamSocket: pings are answered, so an idle stream stays open", async () => {
  const s = server(1);
  const ws = new StreamSocket(s.url, { "x-token": "ok" });
  let closedCode = 0;
  try {
    await opened(ws);
    ws.onclose = (e) => closedCode = e.code;
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(closedCode, 0, "still open after two idle timeouts");
    ws.send("after");
    await until(() => s.frames.includes("after"), "a frame after the idle time arrives");
  } finally {
    ws.close();
    await s.stop();
  }
});

Deno.test("StreamSocket: a refused handshake and a server close end the stream", async () => {
  const s = server();
  try {
    const bad = new StreamSocket(s.url, { "x-token": "no" });
    const errors: string[] = [];
    bad.onerror = (e) => errors.push(e.message);
    assert.equal(await closed(bad), 1006);
    assert.match(errors[0] ?? "", /HTTP 401/);
    const ws = new StreamSocket(s.url, { "x-token": "ok" });
    await opened(ws);
    const code = closed(ws);
    s.sockets[0]!.close(4001, "bye");
    assert.equal(await code, 4001);
  } finally {
    await s.stop();
  }
});

Deno.test("StreamSocket: close() with writes stuck behind a peer that stopped reading ends at once", async () => {
  const peer = silentPeer();
  const ws = new StreamSocket(new URL(`ws://127.0.0.1:${peer.port}/`), {});
  try {
    await opened(ws);
    for (let i = 0; i < 200; i++) ws.send("x".repeat(100_000));
    await until(() => ws.bufferedAmount > 1_000_000, "writes back up");
    const code = closed(ws);
    ws.close();
    const timeout = new Promise<string>((r) => setTimeout(() => r("stuck"), 2000));
    assert.equal(await Promise.race([code, timeout]), 1000);
  } finally {
    await peer.stop();
  }
});
