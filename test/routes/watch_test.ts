import assert from "node:assert/strict";
import { Hono } from "hono";
import { createErrorHandler } from "../../routes/errors.ts";
import { createWatchRoutes } from "../../routes/watch.ts";
import type { AppEnv } from "../../routes/deps.ts";
import { body, jsonInit, makeApp, type MakeAppOptions } from "./_app.ts";
import { SseReader } from "./_sse.ts";
import { SseStream } from "../../routes/sse.ts";
import type { KvChange } from "../../src/kv/types.ts";

type App = { request: (p: string, init?: RequestInit) => Response | Promise<Response> };

async function write(app: App, path: string, init: RequestInit) {
  const res = await app.request(path, init);
  assert.ok(res.status < 300, `${path}: ${res.status} ${await res.clone().text()}`);
  return await body(res) as Record<string, unknown>;
}
const putKey = (app: App, key: string, value: unknown) =>
  write(app, `/v1/kv/${encodeURIComponent(key)}`, jsonInit("PUT", { value }));

/** Opens a watch; the caller cancels the reader. */
async function watch(app: App, query: string, headers: Record<string, string> = {}) {
  const res = await app.request(`/v1/watch?${query}`, { headers });
  if (res.status !== 200) assert.fail(`${res.status} ${await res.text()}`);
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  return { res, sse: new SseReader(res.body!) };
}

Deno.test("GET /v1/watch streams changes as server-sent events", async (t) => {
  await t.step("put, txn, delete and range delete, each record as GET renders it", async () => {
    const { app, engine } = makeApp();
    await putKey(app, "x", 0);
    const { res, sse } = await watch(app, "prefix=u/");
    assert.equal(res.headers.get("x-raftkv-index"), "1");
    assert.equal(res.headers.get("x-raftkv-node"), "n1");
    assert.equal(res.headers.get("cache-control"), "no-cache");
    await putKey(app, "u/1", { name: "ada" });
    await putKey(app, "x", 1);
    await write(
      app,
      "/v1/txn",
      jsonInit("POST", {
        success: [{ op: "put", key: "u/2", value: 2 }, { op: "delete", key: "u/1" }, {
          op: "get",
          key: "u/2",
        }],
      }),
    );
    await putKey(app, "u/3", 3);
    await write(app, "/v1/kv/u%2F3", { method: "DELETE" });
    await write(app, "/v1/kv?prefix=u/", { method: "DELETE" });
    await sse.take(6);
    assert.deepEqual(sse.summary(), [
      "2:put:u/1",
      "4:put:u/2",
      "4:delete:u/1",
      "5:put:u/3",
      "6:delete:u/3",
      "7:delete:u/2",
    ]);
    assert.equal(
      sse.events[1]!.data,
      '{"key":"u/2","value":2,"version":1,"createIndex":4,"modIndex":4}',
    );
    assert.equal(sse.events[2]!.data, '{"key":"u/1","modIndex":4}');
    assert.equal(engine.watches.size, 1);
    await sse.cancel();
    assert.equal(engine.watches.size, 0, "a client that hangs up is unregistered");
  });

  await t.step("a put event's data is the GET body", async () => {
    const { app } = makeApp();
    const { sse } = await watch(app, "key=k");
    await putKey(app, "k", { deep: [1, "two", null] });
    await sse.take(1);
    const get = await (await app.request("/v1/kv/k")).text();
    assert.equal(sse.events[0]!.data, get);
    assert.equal(sse.events[0]!.event, "put");
    await sse.cancel();
  });

  await t.step("key=k watches that key only; start/end is [start, end)", async () => {
    const { app } = makeApp();
    const one = await watch(app, "key=k");
    const span = await watch(app, "start=b&end=k");
    for (const k of ["k", "k/1", "a", "b", "j\u{10000}", "k"]) await putKey(app, k, 1);
    await one.sse.take(2);
    await span.sse.take(2);
    assert.deepEqual(one.sse.summary(), ["1:put:k", "6:put:k"]);
    assert.deepEqual(span.sse.summary(), ["4:put:b", "5:put:j\u{10000}"]);
    await one.sse.cancel();
    await span.sse.cancel();
  });

  await t.step("fromIndex replays history, then live: none missing, none twice", async () => {
    const { app } = makeApp();
    for (let i = 1; i <= 4; i++) await putKey(app, `k${i}`, i);
    const { sse } = await watch(app, "prefix=k&fromIndex=2");
    await putKey(app, "k5", 5);
    await sse.take(4);
    assert.deepEqual(sse.summary(), ["2:put:k2", "3:put:k3", "4:put:k4", "5:put:k5"]);
    await sse.cancel();
  });

  await t.step("Last-Event-ID resumes after that event, and wins over fromIndex", async () => {
    const { app } = makeApp();
    for (let i = 1; i <= 4; i++) await putKey(app, `k${i}`, i);
    const { sse } = await watch(app, "prefix=k&fromIndex=1", { "last-event-id": "2" });
    await sse.take(2);
    assert.deepEqual(sse.summary(), ["3:put:k3", "4:put:k4"]);
    await sse.cancel();
  });

  await t.step("history older than the ring is 410 compacted with the oldest index", async () => {
    const { app } = makeApp({ watch: { maxChanges: 2 } });
    for (let i = 1; i <= 5; i++) await putKey(app, `k${i}`, i);
    for (const [q, h] of [["fromIndex=3", {}], ["", { "last-event-id": "2" }]] as const) {
      const res = await app.request(`/v1/watch?prefix=&${q}`, { headers: h });
      assert.equal(res.status, 410);
      assert.equal(res.headers.get("content-type"), "application/json");
      const b = await body(res) as { error: { code: string; oldestIndex: number } };
      assert.equal(b.error.code, "compacted");
      assert.equal(b.error.oldestIndex, 4);
    }
    const { sse } = await watch(app, "prefix=&fromIndex=4");
    await sse.take(2);
    assert.deepEqual(sse.summary(), ["4:put:k4", "5:put:k5"]);
    await sse.cancel();
  });

  await t.step("HEAD answers the headers and registers nothing", async () => {
    const { app, engine } = makeApp();
    const res = await app.request("/v1/watch?prefix=", { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    assert.equal(res.body, null);
    assert.equal(engine.watches.size, 0);
  });

  await t.step("a keepalive comment comes while nothing changes", async () => {
    const { app } = makeApp({ watch: { heartbeatMs: 10 } } satisfies MakeAppOptions);
    const { sse } = await watch(app, "prefix=");
    await sse.until((r) => r.comments.includes("keepalive"));
    await sse.cancel();
  });

  await t.step("the request is counted under the /v1/watch route", async () => {
    const { app, metrics } = makeApp();
    const { sse } = await watch(app, "prefix=");
    await sse.cancel();
    assert.equal(
      metrics.httpRequests.value({ route: "/v1/watch", method: "GET", code: "200" }),
      1,
    );
  });

  await t.step("closing the engine ends the stream", async () => {
    const { app, engine } = makeApp();
    const { sse } = await watch(app, "prefix=");
    engine.watches.close();
    await sse.end();
    assert.ok(sse.done);
    assert.deepEqual(sse.comments, ["end shutdown"]);
  });
});

Deno.test("a slow watcher's stream ends at an entry boundary once its queue is full", async () => {
  const made = makeApp();
  const app = new Hono<AppEnv>();
  app.route("/", createWatchRoutes({ ...made, engine: made.engine }, 300));
  app.onError(createErrorHandler(() => Promise.reject(new Error("no forwarding"))));
  const res = await app.request("/v1/watch?prefix=");
  const sse = new SseReader(res.body!);
  // Nobody reads while these land: ~100 bytes per event, three per txn.
  for (let i = 0; i < 10; i++) {
    const ops = ["a", "b", "c"].map((k) => ({ op: "put", key: `${k}${i}`, value: i }));
    await write(made.app, "/v1/txn", jsonInit("POST", { success: ops }));
  }
  assert.equal(made.engine.watches.size, 0, "the hub let go of it");
  await sse.end();
  assert.deepEqual(sse.comments, ["end overflow"]);
  const n = sse.events.length;
  assert.ok(n > 0 && n < 30 && n % 3 === 0, `whole entries only: ${n}`);
  assert.equal(sse.events[n - 1]!.id, String(n / 3));
});

Deno.test("a range delete's events go out whole, in pieces, in order", async () => {
  const { app } = makeApp();
  const key = (i: number) => `d/${String(i).padStart(4, "0")}` + "k".repeat(1000);
  const n = 3_000; // ~3 M code units of events: several pieces
  for (let at = 0; at < n; at += 100) {
    const ops = Array.from({ length: 100 }, (_, i) => ({ op: "put", key: key(at + i), value: 1 }));
    await write(app, "/v1/txn", jsonInit("POST", { success: ops }));
  }
  const { sse } = await watch(app, "prefix=d/");
  await write(app, "/v1/kv?prefix=d/", { method: "DELETE" });
  await sse.take(n);
  assert.deepEqual(sse.summary(), Array.from({ length: n }, (_, i) => `31:delete:${key(i)}`));
  await sse.cancel();
});

Deno.test("bad watch requests are JSON 400s, never a stream", async (t) => {
  const { app } = makeApp();
  const cases: [string, Record<string, string>, number][] = [
    ["", {}, 400],
    ["end=b", {}, 400],
    ["prefix=a&key=a", {}, 400],
    ["key=a&start=a", {}, 400],
    ["prefix=a&start=a", {}, 400],
    ["start=b&end=a", {}, 400],
    ["key=", {}, 400],
    ["prefix=a&fromIndex=x", {}, 400],
    ["prefix=a&fromIndex=-1", {}, 400],
    ["prefix=a&limit=3", {}, 400],
    ["prefix=a&prefix=b", {}, 400],
    ["prefix=%ZZ", {}, 400],
    ["prefix=a", { "last-event-id": "abc" }, 400],
    [`key=${"k".repeat(1025)}`, {}, 413],
  ];
  for (const [q, headers, status] of cases) {
    await t.step(`?${q.slice(0, 30)} ${JSON.stringify(headers)} → ${status}`, async () => {
      const res = await app.request(`/v1/watch?${q}`, { headers });
      assert.equal(res.status, status);
      assert.equal(res.headers.get("content-type"), "application/json");
      const b = await body(res) as { error: { code: string } };
      assert.equal(b.error.code, status === 400 ? "invalid_request" : "too_large");
    });
  }
  await t.step("POST is 405 with Allow: GET, HEAD", async () => {
    const res = await app.request("/v1/watch?prefix=", { method: "POST" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, HEAD");
    await res.body?.cancel();
  });
});

Deno.test("the entries of one apply batch reach a watcher as one chunk", async () => {
  const sse = new SseStream();
  const put = (k: string, i: number): KvChange => ({
    type: "put",
    record: { key: k, value: String(i), version: 1, createIndex: i, modIndex: i },
  });
  for (let i = 1; i <= 3; i++) assert.ok(sse.changes(i, [put(`k${i}`, i)]));
  const reader = sse.body.getReader();
  const { value } = await reader.read();
  const text = new TextDecoder().decode(value);
  assert.deepEqual([...text.matchAll(/^id: (\d+)$/gm)].map((m) => m[1]), ["1", "2", "3"]);
  sse.end("shutdown");
  const rest = await reader.read();
  assert.equal(new TextDecoder().decode(rest.value), ": end shutdown\n\n");
});
