/**
 * `--quota-bytes` through main.ts and HTTP (etcd's space quota): writes that
 * would take the live keys and values past it are a 507 `no_space` and
 * change nothing; deletes still go through and make room; the count
 * survives a restart (rebuilt from the stored state).
 */
import assert from "node:assert/strict";
import { freePort, TestNode, until } from "./_cluster.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const QUOTA = 300;

async function call(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("--quota-bytes: writes past it are 507, deletes make room", opts, async (t) => {
  const root = await Deno.makeTempDir({ prefix: "raftkv-quota-" });
  const port = freePort();
  const args = ["--listen", `127.0.0.1:${port}`, "--data-dir", `${root}/n1`];
  const node = new TestNode({ id: "n1", port, dataDir: `${root}/n1` }, [
    ...args,
    "--quota-bytes",
    String(QUOTA),
  ], {});
  const up = () =>
    until("n1 ready", async () => {
      const res = await fetch(`${node.url}/readyz`).catch(() => null);
      await res?.body?.cancel();
      return res?.ok || undefined;
    });
  const big = "x".repeat(198); // 200 code units as JSON text, + 1 for the key
  try {
    node.start();
    await up();

    await t.step("a put within the quota is stored; the next one is a 507", async () => {
      assert.equal((await call(node.url, "PUT", "/v1/kv/a", { value: big })).status, 200);
      const refused = await call(node.url, "PUT", "/v1/kv/b", { value: big });
      assert.equal(refused.status, 507);
      assert.equal(refused.body.error.code, "no_space");
      assert.deepEqual(
        [refused.body.error.quota, refused.body.error.live, refused.body.error.adding],
        [QUOTA, 201, 201],
      );
      assert.equal((await call(node.url, "GET", "/v1/kv/b")).status, 404);
      const txn = { success: [{ op: "put", key: "c", value: big }] };
      assert.equal((await call(node.url, "POST", "/v1/txn", txn)).status, 507);
      assert.equal((await call(node.url, "GET", "/v1/kv/c")).status, 404);
    });

    await t.step("small writes still fit; the count survives a restart", async () => {
      assert.equal((await call(node.url, "PUT", "/v1/kv/s", { value: 1 })).status, 200);
      await node.kill();
      node.start();
      await up();
      assert.equal((await call(node.url, "PUT", "/v1/kv/b", { value: big })).status, 507);
    });

    await t.step(
      "at the quota, a smaller value still fits; a txn counts its larger branch",
      async () => {
        const fill = "y".repeat(QUOTA - 203 - 1 - 2); // live = QUOTA with key "f"
        assert.equal((await call(node.url, "PUT", "/v1/kv/f", { value: fill })).status, 200);
        assert.equal((await call(node.url, "PUT", "/v1/kv/g", { value: 1 })).status, 507);
        assert.equal((await call(node.url, "PUT", "/v1/kv/f", { value: "short" })).status, 200);
        const branches = {
          compare: [{ key: "f", target: "exists", op: "==", value: true }],
          success: [{ op: "put", key: "h", value: "x".repeat(60) }],
          failure: [{ op: "put", key: "i", value: "x".repeat(60) }],
        };
        const txn = await call(node.url, "POST", "/v1/txn", branches);
        assert.equal(txn.status, 200, JSON.stringify(txn.body)); // 63 added, not 126
        await call(node.url, "DELETE", "/v1/kv/h");
        await call(node.url, "DELETE", "/v1/kv/f");
      },
    );

    await t.step("deletes go through and make room", async () => {
      const del = await call(node.url, "DELETE", "/v1/kv/a");
      assert.deepEqual([del.status, del.body.deleted], [200, 1]);
      assert.equal((await call(node.url, "PUT", "/v1/kv/b", { value: big })).status, 200);
      assert.equal((await call(node.url, "GET", "/v1/kv/b")).body.value, big);
      // Live now: s=1 (2 code units) and b (201); the gauge follows within a tick.
      await until("raftkv_live_bytes 203", async () => {
        const text = await (await fetch(`${node.url}/metrics`)).text();
        return /^raftkv_live_bytes 203$/m.test(text) || undefined;
      });
    });
  } catch (e) {
    console.error(node.output.slice(-3000));
    throw e;
  } finally {
    await node.kill();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
