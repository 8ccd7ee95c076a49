/**
 * Watching over HTTP against real processes (API.md §5): a watch on a
 * follower sees the leader's writes in modIndex order; a client that
 * reconnects with Last-Event-ID misses nothing and sees nothing twice;
 * history past the retention is 410; SIGTERM ends the streams and exits.
 */
import assert from "node:assert/strict";
import { type TestCluster, until, withCluster } from "./_cluster.ts";
import { SseReader } from "../routes/_sse.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const H = { "content-type": "application/json" };

async function send(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: H,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `${method} ${path}: ${text}`);
  return { index: Number(res.headers.get("x-raftkv-index")), body: JSON.parse(text) };
}

async function openWatch(url: string, query: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v1/watch?${query}`, { headers });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  return { index: Number(res.headers.get("x-raftkv-index")), sse: new SseReader(res.body!) };
}

async function watchers(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^raftkv_watchers (\d+)$/m.exec(text)?.[1]);
}

async function roles(c: TestCluster) {
  const leader = await c.waitLeader();
  const follower = c.nodes.find((n) => n.spec.id !== leader)!;
  return { leader: c.node(leader).url, follower };
}

Deno.test("watch on a follower: writes in order, resume by Last-Event-ID", opts, async (t) => {
  await withCluster({ size: 3 }, async (c) => {
    const { leader, follower } = await roles(c);
    const first = await openWatch(follower.url, "prefix=u/");
    const expected: string[] = [];
    let cut = "";

    await t.step("put, txn, delete and range delete arrive in modIndex order", async () => {
      const a = await send(leader, "PUT", "/v1/kv/u/1", { value: 1 });
      const b = await send(leader, "PUT", "/v1/kv/u/2", { value: 2 });
      await send(leader, "PUT", "/v1/kv/other", { value: 0 });
      const tx = await send(leader, "POST", "/v1/txn", {
        success: [{ op: "put", key: "u/3", value: 3 }, { op: "delete", key: "u/1" }],
      });
      const d = await send(leader, "DELETE", "/v1/kv/u/2");
      const e = await send(leader, "PUT", "/v1/kv/u/4", { value: 4 });
      const r = await send(leader, "DELETE", "/v1/kv?prefix=u/");
      assert.equal(r.body.deleted, 2);
      expected.push(
        `${a.index}:put:u/1`,
        `${b.index}:put:u/2`,
        `${tx.index}:put:u/3`,
        `${tx.index}:delete:u/1`,
        `${d.index}:delete:u/2`,
        `${e.index}:put:u/4`,
        `${r.index}:delete:u/3`,
        `${r.index}:delete:u/4`,
      );
      assert.ok(first.index < a.index);
      await first.sse.take(expected.length);
      assert.deepEqual(first.sse.summary(), expected);
      assert.deepEqual(JSON.parse(first.sse.events[0]!.data), {
        key: "u/1",
        value: 1,
        version: 1,
        createIndex: a.index,
        modIndex: a.index,
      });
      cut = first.sse.events[3]!.id; // after the whole txn entry
    });

    await t.step("a client that hangs up is unregistered", async () => {
      assert.equal(await watchers(follower.url), 1);
      await first.sse.cancel();
      await until(
        "the watcher to go",
        async () => (await watchers(follower.url)) === 0 || undefined,
      );
    });

    await t.step("Last-Event-ID resumes after that event: nothing missing or twice", async () => {
      const more = await send(leader, "PUT", "/v1/kv/u/5", { value: 5 });
      const again = await openWatch(follower.url, "prefix=u/&fromIndex=1", {
        "last-event-id": cut,
      });
      await again.sse.take(expected.length - 4 + 1);
      const all = [...expected.slice(0, 4), ...again.sse.summary()];
      assert.deepEqual(all, [...expected, `${more.index}:put:u/5`]);
      await again.sse.cancel();
    });
  });
});

Deno.test("watch history: beyond the retained 10000 changes is 410 compacted", opts, async () => {
  await withCluster({ size: 3 }, async (c) => {
    const { leader, follower } = await roles(c);
    let last = 0;
    for (let t = 0; t < 80; t++) { // 80 entries of 128 puts: 10240 changes
      const success = Array.from(
        { length: 128 },
        (_, i) => ({ op: "put", key: `k${i}`, value: t }),
      );
      last = (await send(leader, "POST", "/v1/txn", { success })).index;
    }
    await until("the follower to apply", async () => {
      const res = await fetch(`${follower.url}/v1/kv/k0?consistency=stale`);
      await res.body?.cancel();
      return Number(res.headers.get("x-raftkv-index")) >= last || undefined;
    });
    const res = await fetch(`${follower.url}/v1/watch?prefix=&fromIndex=1`);
    assert.equal(res.status, 410);
    const err = (await res.json()).error;
    assert.equal(err.code, "compacted");
    assert.ok(err.oldestIndex > 1 && err.oldestIndex <= last - 77, `oldest ${err.oldestIndex}`);
    const w = await openWatch(follower.url, `prefix=k1&fromIndex=${err.oldestIndex}`);
    await w.sse.take(1);
    assert.equal(w.sse.events[0]!.id, String(err.oldestIndex), "replays from the oldest held");
    await w.sse.cancel();
  });
});

Deno.test("SIGTERM ends open watch streams and the node exits", opts, async () => {
  await withCluster({ size: 3 }, async (c) => {
    const { follower } = await roles(c);
    const w = await openWatch(follower.url, "prefix=");
    const exited = follower.kill("SIGTERM");
    await w.sse.end(10_000);
    assert.deepEqual(w.sse.comments, ["end shutdown"]);
    assert.equal((await exited)?.code, 0);
  });
});
