/**
 * What happens to proposals and reads that cannot complete: leadership
 * lost (outcome unknown), deadline passed, node shutting down.
 * @module
 */
import assert from "node:assert/strict";
import { LeadershipChangedError, TimeoutError, UnavailableError } from "../../src/engine/errors.ts";
import { Cluster, put, settle, track } from "./_harness.ts";

/** A cluster whose leader is cut off, with a write pending on it. */
async function pendingOnIsolatedLeader() {
  const c = await Cluster.create();
  const leader = await c.elect("n1");
  await c.engine(leader).asyncWrite(put("x", 1));
  c.isolate(leader);
  const write = track(c.engine(leader).asyncWrite(put("x", 2)));
  await settle();
  assert.equal(write.done, false);
  return { c, leader, write };
}

Deno.test("losing leadership rejects pending proposals with LeadershipChangedError", async (t) => {
  const { c, leader: old, write } = await pendingOnIsolatedLeader();

  await t.step("the isolated leader steps down (check quorum) and rejects", async () => {
    for (let i = 0; i < 3 * c.opts.electionTicks && !write.done; i++) await c.tick();
    assert.equal(c.region(old).isLeader(), false);
    assert.ok(write.error instanceof LeadershipChangedError, String(write.error));
    assert.equal(c.region(old).proposals.size, 0);
  });

  await t.step("after healing, the entry it held is overwritten, never applied", async () => {
    const leader = await c.awaitLeader(old);
    await c.until(c.engine(leader).asyncWrite(put("y", 1)));
    c.heal();
    await c.tick(3 * c.opts.heartbeatTicks);
    for (const id of c.live()) {
      assert.equal(c.engine(id).sm.get("x")?.value, "1", id);
      assert.equal(c.engine(id).sm.get("y")?.value, "1", id);
    }
  });
});

Deno.test("a proposal past its deadline rejects with TimeoutError", async () => {
  const { c, leader, write } = await pendingOnIsolatedLeader();
  c.now += c.opts.requestTimeoutMs - c.opts.tickMs;
  await c.tick(); // one core tick: still leader, but the deadline passed
  assert.equal(c.region(leader).isLeader(), true);
  assert.ok(write.error instanceof TimeoutError, String(write.error));
});

Deno.test("stopping a region", async (t) => {
  const { c, leader, write } = await pendingOnIsolatedLeader();
  const read = track(c.engine(leader).asyncSnapshot("linearizable"));
  await settle();
  await c.region(leader).stop();
  await settle();

  await t.step("rejects pending proposals as outcome unknown (they may still commit)", () => {
    assert.ok(write.error instanceof LeadershipChangedError, String(write.error));
  });

  await t.step("rejects pending reads with UnavailableError", () => {
    assert.ok(read.error instanceof UnavailableError, String(read.error));
  });

  await t.step("rejects later proposals and reads at once", async () => {
    const r = c.region(leader);
    await assert.rejects(
      () => r.propose('{"type":"delete","key":"x"}', undefined),
      UnavailableError,
    );
    await assert.rejects(() => r.readIndex(), UnavailableError);
  });
});

Deno.test("stopping a region rejects requests waiting for a leader", async () => {
  const c = await Cluster.create();
  const write = track(c.engine("n1").asyncWrite(put("x", 1)));
  const read = track(c.engine("n1").asyncSnapshot("linearizable"));
  await settle();
  assert.equal(write.done || read.done, false);
  await c.region("n1").stop();
  await settle();
  assert.ok(write.error instanceof UnavailableError, String(write.error));
  assert.ok(read.error instanceof UnavailableError, String(read.error));
});

Deno.test("the leader applies the put it proposed as built; every node ends equal", async () => {
  const c = await Cluster.create();
  const leader = await c.elect("n1");
  const queue = c.region(leader).proposals;
  const asked: [number, number, boolean][] = [];
  const proposed = queue.proposed.bind(queue);
  queue.proposed = (i, t) => {
    const cmd = proposed(i, t);
    asked.push([i, t, cmd !== undefined]);
    return cmd;
  };
  const engine = c.engine(leader);
  await c.until(engine.asyncWrite(put("a", { n: 1, s: "é\u{1F600}" })));
  await c.until(engine.asyncWrite({ ...put("a", 2), ifModIndex: 2, prev: true }));
  await c.until(engine.asyncWrite({ type: "delete", key: "a" }));
  await c.until(engine.asyncWrite({ ...put("b", [null]), ifAbsent: true }));
  // The puts came from the queue, the delete was decoded (no command kept for it).
  assert.deepEqual(asked.map(([, , hit]) => hit), [true, true, false, true]);
  assert.equal(queue.proposed(99, 1), undefined, "nothing waits at another index");
  await c.tick(3 * c.opts.heartbeatTicks);
  const dumps = c.live().map((id) => JSON.stringify([...c.engine(id).sm.entries()]));
  assert.ok(dumps.every((d) => d === dumps[0]), dumps.join("\n"));
  assert.equal(c.engine(leader).sm.get("b")?.value, "[null]");
});
