/**
 * Nodes on addresses other than 127.0.0.1, as in separate network
 * namespaces: each binds exactly its `--listen` address (the three share one
 * port) and reaches its peers only at their member URLs.
 */
import assert from "node:assert/strict";
import { get, put, until, withCluster } from "./_cluster.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const hosts = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];

Deno.test("three nodes on their own addresses and one port", opts, async (t) => {
  await withCluster({ size: 3, hosts }, async (c) => {
    const leader = await c.waitLeader();
    const port = c.nodes[0]!.spec.port;

    await t.step("nothing listens on 127.0.0.1 at the shared port", async () => {
      await assert.rejects(() => Deno.connect({ hostname: "127.0.0.1", port }));
    });

    await t.step("/v1/cluster names the members at their own addresses", async () => {
      const body = await (await fetch(`${c.nodes[0]!.url}/v1/cluster`)).json();
      const urls = body.members.map((m: { url: string }) => m.url).sort();
      assert.deepEqual(urls, hosts.map((h) => `http://${h}:${port}`));
    });

    await t.step("a write through a follower reaches every node", async () => {
      const follower = c.nodes.find((n) => n.spec.id !== leader)!;
      const w = await put(follower.url, "k", "v");
      assert.equal(w.status, 200);
      assert.equal(w.headers.get("x-raftkv-leader"), leader);
      for (const n of c.nodes) {
        assert.equal((await get(n.url, "k")).body.value, "v", n.spec.id);
      }
      // A txn that reads is forwarded over HTTP, to the leader's member URL.
      const txn = await fetch(`${follower.url}/v1/txn`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"success":[{"op":"get","key":"k"}]}',
      });
      assert.equal(txn.status, 200);
      assert.equal((await txn.json()).results[0].value, "v");
    });

    await t.step("the leader killed: the others elect one and take writes", async () => {
      await c.node(leader).kill();
      const next = await until("a new leader", async () => {
        const l = await c.waitLeader();
        return l !== leader ? l : undefined;
      });
      const w = await until("a write after failover", async () => {
        const res = await put(c.node(next).url, "k", "w");
        return res.status === 200 ? res : undefined;
      });
      assert.equal(w.body.version, 2);
    });
  });
});
