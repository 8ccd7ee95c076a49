import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  LeadershipChangedError,
  NotLeaderError,
  TimeoutError,
  UnavailableError,
} from "../../src/engine/errors.ts";
import { body, jsonInit, makeApp } from "./_app.ts";
import { toApiError } from "../../routes/errors.ts";

interface ErrorBody {
  error: { code: string; message: string };
}

Deno.test("a timed-out read does not say a write may have happened", () => {
  assert.equal(toApiError(new TimeoutError("Read")).message, "Read did not complete in time");
  assert.match(toApiError(new TimeoutError("Write")).message, /write may or may not have happened/);
});

Deno.test("engine failures map to API errors", async (t) => {
  const cases: [string, Error, number, string, boolean][] = [
    ["LeadershipChangedError", new LeadershipChangedError(), 503, "leadership_changed", true],
    ["TimeoutError", new TimeoutError(), 504, "timeout", false],
    ["DOMException TimeoutError", new DOMException("t", "TimeoutError"), 504, "timeout", false],
    ["UnavailableError", new UnavailableError("Shutting down"), 503, "unavailable", true],
    ["NotLeaderError without a leader", new NotLeaderError(null, null), 503, "no_leader", true],
    ["anything else", new Error("disk on fire"), 500, "internal", false],
  ];
  for (const [name, err, status, code, retry] of cases) {
    await t.step(`${name} → ${status} ${code}`, async () => {
      for (
        const [path, init] of [
          ["/v1/kv/k", jsonInit("PUT", { value: 1 })],
          ["/v1/kv/k", { method: "GET" }],
          ["/v1/kv?prefix=", { method: "GET" }],
          ["/v1/txn", jsonInit("POST", {})],
        ] as const
      ) {
        const { app, engine } = makeApp();
        engine.failures.push(err);
        const original = console.error;
        console.error = () => {}; // the 500 case logs; keep test output clean
        try {
          const res = await app.request(path, init);
          assert.equal(res.status, status, path);
          const b = await body(res) as ErrorBody;
          assert.equal(b.error.code, code);
          assert.equal(typeof b.error.message, "string");
          if (status === 500) assert.equal(b.error.message, "Internal error", "no internals leak");
          assert.equal(res.headers.get("retry-after"), retry ? "1" : null);
          assert.equal(res.headers.get("x-raftkv-node"), "n1");
        } finally {
          console.error = original;
        }
      }
    });
  }
});

Deno.test("unknown routes are 404 not_found; known paths with wrong methods are 405", async (t) => {
  const { app } = makeApp();
  for (const path of ["/", "/v2/kv/a", "/v1/kvx", "/v1/txn/x", "/raft/v1/messages", "/debug"]) {
    await t.step(`GET ${path} → 404`, async () => {
      const res = await app.request(path);
      assert.equal(res.status, 404);
      assert.equal((await body(res) as ErrorBody).error.code, "not_found");
      assert.equal(res.headers.get("x-raftkv-node"), "n1");
    });
  }
  const wrong: [string, string, string][] = [
    ["POST", "/v1/kv/a", "GET, HEAD, PUT, DELETE"],
    ["PATCH", "/v1/kv/a", "GET, HEAD, PUT, DELETE"],
    ["PUT", "/v1/kv", "GET, HEAD, DELETE"],
    ["GET", "/v1/txn", "POST"],
    ["PUT", "/v1/watch", "GET, HEAD"],
    ["DELETE", "/healthz", "GET, HEAD"],
    ["POST", "/metrics", "GET, HEAD"],
    ["GET", "/v1/cluster/members", "POST"],
    ["PUT", "/v1/cluster/leader", "POST"],
    ["GET", "/v1/cluster/members/n2", "DELETE"],
  ];
  for (const [method, path, allow] of wrong) {
    await t.step(`${method} ${path} → 405`, async () => {
      const res = await app.request(path, { method });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get("allow"), allow);
      assert.equal((await body(res) as ErrorBody).error.code, "method_not_allowed");
    });
  }
});

Deno.test("every answer names the node, and the leader when known", async () => {
  const { app, engine } = makeApp({ id: "n3", leader: { id: "n1", url: "http://n1.test" } });
  for (const path of ["/healthz", "/nope", "/v1/kv/x?consistency=stale"]) {
    const res = await app.request(path);
    assert.equal(res.headers.get("x-raftkv-node"), "n3", path);
    assert.equal(res.headers.get("x-raftkv-leader"), "n1", path);
  }
  engine.leaderInfo = null;
  const res = await app.request("/healthz");
  assert.equal(res.headers.get("x-raftkv-leader"), null);
});

Deno.test("peerApp is mounted under /raft", async () => {
  const peer = new Hono();
  peer.post("/v1/messages", (c) => c.body(null, 204));
  const { app, metrics } = makeApp({ peerApp: peer });
  const res = await app.request("/raft/v1/messages", { method: "POST" });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get("x-raftkv-node"), "n1");
  assert.equal(
    metrics.httpRequests.value({ route: "/raft/v1/messages", method: "POST", code: "204" }),
    1,
  );
});

Deno.test("a HEAD is counted as HEAD, not as the GET it is served as", async () => {
  const { app, metrics } = makeApp();
  await app.request("/healthz", { method: "HEAD" });
  await app.request("/healthz", { method: "HEAD" });
  const count = (method: string) =>
    metrics.httpRequests.value({ route: "/healthz", method, code: "200" });
  assert.equal(count("HEAD"), 2);
  assert.equal(count("GET"), 0);
});
