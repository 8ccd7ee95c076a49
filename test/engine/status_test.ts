/**
 * What the engine reports about the cluster (`GET /v1/cluster`, readiness),
 * and follower reads across a leader change.
 * @module
 */
import assert from "node:assert/strict";
import { Cluster, put, settle, track } from "./_harness.ts";

Deno.test("cluster status", async (t) => {
  const c = await Cluster.create();
  const leader = await c.elect("n2");
  const w = await c.engine(leader).asyncWrite(put("x", 1));
  await c.tick(c.opts.heartbeatTicks);

  await t.step("the leader reports every member with its match index", () => {
    const st = c.engine(leader).status();
    assert.equal(st.clusterId, "test-cluster");
    assert.equal(st.leader, leader);
    assert.equal(st.self.state, "leader");
    assert.equal(st.self.appliedIndex, w.index);
    assert.deepEqual(st.members.map((m) => [m.id, m.url]), [
      ["n1", Cluster.url("n1")],
      ["n2", Cluster.url("n2")],
      ["n3", Cluster.url("n3")],
    ]);
    for (const m of st.members) assert.equal(m.matchIndex, w.index, m.id);
    assert.equal(st.members.find((m) => m.id === leader)?.lastContactMs, 0);
  });

  await t.step("last contact is measured on the region's clock", () => {
    for (const m of c.engine(leader).status().members) {
      assert.ok(typeof m.lastContactMs === "number", m.id);
      const maxMs = c.opts.heartbeatTicks * c.opts.tickMs;
      assert.ok(m.lastContactMs >= 0 && m.lastContactMs <= maxMs, `${m.id}: ${m.lastContactMs}`);
    }
  });

  await t.step("a member never heard from has lastContactMs null, not a missing key", async () => {
    const url = "http://127.0.0.1:9/ghost";
    await c.engine(leader).addMember({ id: "ghost", url, learner: true });
    const ghost = c.engine(leader).status().members.find((m) => m.id === "ghost");
    assert.deepEqual(ghost, {
      id: "ghost",
      url,
      role: "learner",
      matchIndex: 0,
      lastContactMs: null,
    });
    await c.engine(leader).removeMember("ghost");
  });

  await t.step("a candidate's requests are no contact (it may be unreachable)", () => {
    // A node restarted at another address reaches its peers, which cannot
    // reach it: its pre-votes must not make it look in contact.
    const region = c.region(leader);
    const before = region.lastContact.get("n3");
    c.now += 5_000;
    const preVote = { type: "preVote", from: "n3", to: leader, term: 9, index: 0, logTerm: 0 };
    region.receiveMessages({ region: 1, messages: [preVote] } as never, undefined as never);
    assert.equal(region.lastContact.get("n3"), before);
    const resp = { type: "heartbeatResp", from: "n3", to: leader, term: 1, context: "" };
    region.receiveMessages({ region: 1, messages: [resp] } as never, undefined as never);
    assert.equal(region.lastContact.get("n3"), c.now);
  });

  await t.step("followers report the leader and are ready once caught up", () => {
    for (const id of c.followers(leader)) {
      const st = c.engine(id).status();
      assert.equal(st.leader, leader);
      assert.equal(st.self.state, "follower");
      assert.equal(c.engine(id).ready(), true);
    }
  });

  await t.step("an isolated node without a leader is not ready", async () => {
    const f = c.followers(leader)[0]!;
    c.isolate(f);
    await c.tick(3 * c.opts.electionTicks);
    assert.equal(c.engine(f).ready(), false);
    c.heal();
  });
});

Deno.test("a follower read whose round was lost completes through the new leader", async () => {
  const c = await Cluster.create();
  const old = await c.elect("n1");
  await c.engine(old).asyncWrite(put("x", "old"));
  const f = c.followers(old)[0]!;
  c.hub.cut.add(`${f}->${old}`); // the forwarded MsgReadIndex is lost
  const read = track(c.engine(f).asyncSnapshot("linearizable"));
  await settle();
  c.isolate(old);

  const leader = await c.awaitLeader(old);
  await c.until(c.engine(leader).asyncWrite(put("x", "new")));
  const view = await c.until(
    (async () => {
      while (!read.done) await Promise.resolve();
      if (read.failed) throw read.error;
      return read.value!;
    })(),
  );
  assert.equal(view.get("x")?.value, '"new"');
});
