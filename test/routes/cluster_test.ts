import assert from "node:assert/strict";
import { body, jsonInit, makeApp } from "./_app.ts";

Deno.test("GET /v1/cluster answers engine.status()", async () => {
  const { app, engine } = makeApp();
  const res = await app.request("/v1/cluster");
  assert.equal(res.status, 200);
  assert.deepEqual(await body(res), JSON.parse(JSON.stringify(engine.status())));
  assert.equal(res.headers.get("x-raftkv-node"), "n1");
});

Deno.test("GET /healthz is ok while the process serves", async () => {
  const { app, engine } = makeApp();
  engine.isReady = false;
  const res = await app.request("/healthz");
  assert.equal(res.status, 200);
  assert.deepEqual(await body(res), { status: "ok" });
});

Deno.test("GET /readyz follows engine.ready()", async (t) => {
  const { app, engine } = makeApp();
  await t.step("ready → 200", async () => {
    const res = await app.request("/readyz");
    assert.equal(res.status, 200);
    assert.deepEqual(await body(res), { status: "ready" });
  });
  await t.step("not ready → 503 with Retry-After", async () => {
    engine.isReady = false;
    const res = await app.request("/readyz");
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "1");
    assert.equal((await body(res) as { error: { code: string } }).error.code, "unavailable");
  });
  await t.step("the 503 says why (a removed node says so)", async () => {
    engine.isReady = false;
    engine.unready = "this node was removed from the cluster";
    const res = await app.request("/readyz");
    const { error } = await body(res) as { error: { message: string } };
    assert.equal(error.message, "Not ready: this node was removed from the cluster");
  });
});

Deno.test("GET /metrics renders Prometheus text with route patterns, not raw paths", async () => {
  const { app } = makeApp();
  await app.request("/v1/kv/users/1", jsonInit("PUT", { value: 1 }));
  await app.request("/v1/kv/users/2");
  await app.request("/nope");
  await app.request("/nope", { method: "BREW" });
  const res = await app.request("/metrics");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  assert.match(
    text,
    /raftkv_http_requests_total\{code="200",method="PUT",route="\/v1\/kv\/:key\{\.\+\}"\} 1/,
  );
  assert.match(
    text,
    /raftkv_http_requests_total\{code="404",method="GET",route="\/v1\/kv\/:key\{\.\+\}"\} 1/,
  );
  assert.match(text, /raftkv_http_requests_total\{code="404",method="GET",route="unmatched"\} 1/);
  assert.match(
    text,
    /raftkv_http_request_duration_seconds_count\{code="404",route="\/v1\/kv\/:key\{\.\+\}"\} 1/,
  );
  assert.match(text, /raftkv_http_requests_total\{code="404",method="OTHER",route="unmatched"\} 1/);
  assert.doesNotMatch(text, /users\/1|BREW/);
});
