import assert from "node:assert/strict";
import { createFastPut } from "../../routes/fast_put.ts";
import { parseConfig } from "../../src/config.ts";
import { Failpoints } from "../../src/failpoints/registry.ts";
import { createNodeMetrics } from "../../src/telemetry/node_metrics.ts";
import { FakeEngine } from "./_fake_engine.ts";

Deno.test("the put fast path takes plain puts and leaves the rest to the app", async () => {
  const engine = new FakeEngine();
  const deps = {
    engine,
    config: parseConfig([], {}),
    metrics: createNodeMetrics(),
    failpoints: new Failpoints(),
  };
  const full = () => new Response("full");
  const fast = createFastPut(deps, full, (res) => res);
  const put = (path: string, headers: Record<string, string> = {}, body = '{"value":1}') =>
    new Request(`http://localhost${path}`, {
      method: "PUT",
      headers: {
        "content-type": "application/json",
        "content-length": String(body.length),
        ...headers,
      },
      body,
    });
  const taken = fast(put("/v1/kv/a%2Fb", { "if-none-match": "*" }));
  assert.ok(taken, "a plain put takes the fast path");
  const res = await taken;
  assert.equal(res.status, 200);
  assert.match(engine.dump(), /"key":"a\/b","value":"1"/);
  const left = [
    put("/v1/kv/a?prev=true"),
    put("/v1/kv/"),
    put("/v1/kva"),
    put("/v1/kv/a", { "content-type": "text/plain" }),
    new Request("http://localhost/v1/kv/a", { method: "GET" }),
    new Request("http://localhost/v1/kv/a", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: ReadableStream.from([new TextEncoder().encode('{"value":1}')]),
    }),
  ];
  for (const req of left) assert.equal(fast(req), null, `${req.method} ${req.url}`);
});
