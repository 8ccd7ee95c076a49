/**
 * Writes a follower forwards to the leader on the peer transport: results
 * and errors come back as the leader saw them, and a reply that never comes
 * leaves the outcome unknown (LeadershipChangedError or TimeoutError).
 * @module
 */
import assert from "node:assert/strict";
import {
  LeadershipChangedError,
  NoSpaceError,
  NotLeaderError,
  TimeoutError,
} from "../../src/engine/errors.ts";
import { encodeCommand } from "../../src/kv/codec.ts";
import { Cluster, put, settle } from "./_harness.ts";

Deno.test("forwarded writes", async (t) => {
  const c = await Cluster.create({ forwardWrites: true });
  const leader = await c.elect("n1");
  const kv = c.engine("n2");

  await t.step("a follower's put resolves with the leader's record and index", async () => {
    const res = await kv.asyncWrite(put("a", 1));
    assert.equal(res.result.type, "put");
    if (res.result.type !== "put") return;
    assert.equal(res.result.record.value, "1");
    assert.equal(res.result.record.modIndex, res.index);
    assert.equal(c.region(leader).appliedIndex >= res.index, true);
    assert.equal(c.node("n2").metrics.forwarded.value({ method: "PUT" }), 1);
    assert.equal(c.region("n2").forwards.size, 0);
  });

  await t.step("concurrent forwards each get their own result", async () => {
    const all = await Promise.all(
      Array.from({ length: 20 }, (_, i) => kv.asyncWrite(put(`k${i}`, i))),
    );
    const indexes = all.map((w) => w.index);
    assert.equal(new Set(indexes).size, 20);
    all.forEach((w, i) => {
      assert.equal(w.result.type === "put" && w.result.record.key, `k${i}`);
    });
  });

  await t.step("the leader's space quota comes back as NoSpaceError, not unknown", async () => {
    const live = c.engine(leader).sm.liveBytes;
    c.engine(leader).quotaBytes = live + 5; // the follower has none: the leader decides
    try {
      const cmd = put("q", "0123456789");
      await assert.rejects(kv.asyncWrite(cmd), (e: unknown) => {
        assert.ok(e instanceof NoSpaceError, String(e));
        const adding = cmd.key.length + cmd.value.length;
        assert.deepEqual([e.quota, e.live, e.adding], [live + 5, live, adding]);
        return true;
      });
    } finally {
      c.engine(leader).quotaBytes = 0;
    }
  });

  await t.step("a failed precondition comes back as a result", async () => {
    const res = await kv.asyncWrite({ ...put("a", 2), ifModIndex: 1 });
    assert.equal(res.result.type, "preconditionFailed");
  });

  await t.step(
    "a node that is not the leader answers NotLeaderError (nothing changed)",
    async () => {
      // n2 forwards to n3, a follower: n3 must not forward again.
      const data = encodeCommand(put("x", 1));
      await assert.rejects(c.region("n2").forwardWrite("n3", data), (e) => {
        assert.ok(e instanceof NotLeaderError);
        assert.equal(e.leaderId, leader);
        return true;
      });
      assert.equal(c.engine(leader).sm.get("x"), null);
    },
  );

  await t.step("a lost forward times out: outcome unknown", async () => {
    c.hub.cut.add("n2->n1");
    const w = kv.asyncWrite(put("lost", 1));
    const failed = assert.rejects(w, TimeoutError);
    await c.tick(Math.ceil((c.opts.requestTimeoutMs + 1000) / c.opts.tickMs) + 1);
    await failed;
    c.hub.heal();
    assert.equal(c.engine(leader).sm.get("lost"), null);
  });

  await t.step("a leader change while waiting: outcome unknown", async () => {
    c.hub.cut.add("n2->n1");
    const w = kv.asyncWrite(put("moved", 1));
    const failed = assert.rejects(w, LeadershipChangedError);
    await settle();
    c.hub.heal();
    const moved = c.engine("n1").transferLeader("n3");
    for (let i = 0; i < 20 && c.leader() !== "n3"; i++) await c.tick();
    await moved;
    assert.equal(c.leader(), "n3");
    await c.tick(2);
    await failed;
    assert.equal(c.region("n2").forwards.size, 0);
  });

  await t.step("writes forward to the new leader", async () => {
    const res = await kv.asyncWrite(put("after", 1));
    assert.equal(c.engine("n3").sm.get("after")?.modIndex, res.index);
  });
});

Deno.test("without forwardWrites a follower answers NotLeaderError", async () => {
  const c = await Cluster.create();
  await c.elect("n1");
  await assert.rejects(c.engine("n2").asyncWrite(put("a", 1)), NotLeaderError);
});
