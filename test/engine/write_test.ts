/**
 * Writes through the engine: results, NotLeaderError, batching.
 * @module
 */
import assert from "node:assert/strict";
import { NotLeaderError, UnavailableError } from "../../src/engine/errors.ts";
import { Cluster, put, settle } from "./_harness.ts";

Deno.test("writes on the leader", async (t) => {
  const c = await Cluster.create();
  const leader = await c.elect("n1");
  const kv = c.engine(leader);

  await t.step("a put resolves with the applied record and its index", async () => {
    const res = await kv.asyncWrite(put("a", 1));
    assert.equal(res.result.type, "put");
    if (res.result.type !== "put") return;
    assert.equal(res.result.record.value, "1");
    assert.equal(res.result.record.version, 1);
    assert.equal(res.result.record.modIndex, res.index);
    assert.equal(c.region(leader).appliedIndex >= res.index, true);
  });

  await t.step("a second put bumps the version and returns the previous record", async () => {
    const res = await kv.asyncWrite({ ...put("a", 2), prev: true });
    assert.equal(res.result.type, "put");
    if (res.result.type !== "put") return;
    assert.equal(res.result.record.version, 2);
    assert.equal(res.result.prev?.value, "1");
  });

  await t.step("a failed precondition is a result, not an error", async () => {
    const res = await kv.asyncWrite({ ...put("a", 3), ifModIndex: 1 });
    assert.equal(res.result.type, "preconditionFailed");
    if (res.result.type !== "preconditionFailed") return;
    assert.equal(res.result.current?.value, "2");
  });

  await t.step("a delete resolves with the number deleted", async () => {
    assert.deepEqual((await kv.asyncWrite({ type: "delete", key: "a" })).result, {
      type: "delete",
      deleted: 1,
    });
    assert.deepEqual((await kv.asyncWrite({ type: "delete", key: "a" })).result, {
      type: "delete",
      deleted: 0,
    });
  });

  await t.step("a txn runs the branch its compares select", async () => {
    const res = await kv.asyncWrite({
      type: "txn",
      compare: [{ key: "b", target: "exists", op: "==", value: false }],
      success: [{ op: "put", key: "b", value: '"x"' }, { op: "get", key: "b" }],
      failure: [],
    });
    assert.equal(res.result.type, "txn");
    if (res.result.type !== "txn") return;
    assert.equal(res.result.succeeded, true);
    assert.equal(res.result.results.length, 2);
  });

  await t.step("followers apply the same records", async () => {
    await c.tick(c.opts.heartbeatTicks);
    for (const id of c.followers(leader)) {
      const view = await c.engine(id).asyncSnapshot("stale");
      assert.equal(view.get("b")?.value, '"x"');
      assert.equal(view.get("a"), null);
    }
  });
});

Deno.test("a write on a follower rejects with NotLeaderError naming the leader", async () => {
  const c = await Cluster.create();
  const leader = await c.elect("n2");
  for (const id of c.followers(leader)) {
    await assert.rejects(
      () => c.engine(id).asyncWrite(put("k", 1)),
      (e: unknown) => {
        assert.ok(e instanceof NotLeaderError);
        assert.equal(e.leaderId, leader);
        assert.equal(e.leaderUrl, Cluster.url(leader));
        return true;
      },
    );
  }
});

Deno.test("a write during a leadership transfer is retryable, not sent back to this node", async () => {
  const c = await Cluster.create();
  const leader = await c.elect("n1");
  const target = c.followers(leader)[1]!;
  c.hub.cut.add(`${leader}->${target}`); // the transfer waits for the target to catch up
  await c.engine(leader).asyncWrite(put("x", 1));
  c.region(leader).node.transferLeader(target);
  await settle();
  assert.equal(c.region(leader).status().leadTransferee, target);
  await assert.rejects(() => c.engine(leader).asyncWrite(put("x", 2)), UnavailableError);
});

Deno.test("concurrent writes on the leader are batched", async (t) => {
  const c = await Cluster.create();
  const leader = await c.elect("n1");
  const raftCommits = (id: string) => c.node(id).metrics.kvCommits.value({ engine: "raft" });
  const before = new Map(c.live().map((id) => [id, raftCommits(id)]));
  const links = c.followers(leader).map((f) => `${leader}->${f}`);
  const batchesBefore = links.map((l) => c.hub.batches.get(l) ?? 0);
  let readies = 0;
  const node = c.region(leader).node;
  const ready = node.ready.bind(node);
  node.ready = () => (readies++, ready());

  const results = await Promise.all(
    Array.from({ length: 100 }, (_, i) => c.engine(leader).asyncWrite(put(`k${i}`, i))),
  );

  await t.step("every write is applied at its own index", () => {
    const indexes = new Set(results.map((r) => r.index));
    assert.equal(indexes.size, 100);
    for (const r of results) assert.equal(r.result.type, "put");
  });

  await t.step("far fewer raft-engine commits than writes, on every node", () => {
    for (const id of c.live()) {
      const commits = raftCommits(id) - before.get(id)!;
      assert.ok(commits >= 1 && commits <= 5, `${id}: ${commits} commits`);
    }
  });

  await t.step("at most one message batch per follower per Ready", () => {
    links.forEach((l, i) => {
      const batches = (c.hub.batches.get(l) ?? 0) - batchesBefore[i]!;
      assert.ok(batches >= 1 && batches <= readies, `${l}: ${batches} > ${readies}`);
      assert.ok(batches <= 5, `${l}: ${batches} batches`);
    });
  });
});
