/**
 * Linearizable reads through ReadIndex (thesis §6.4) on leader and
 * followers, shared rounds, and a partitioned old leader.
 * @module
 */
import assert from "node:assert/strict";
import { LeadershipChangedError, NotLeaderError, TimeoutError } from "../../src/engine/errors.ts";
import { outcomeOf } from "../../src/engine/raft_kv.ts";
import { Cluster, countRounds, put, settle, track } from "./_harness.ts";

Deno.test("a linearizable read sees every write acknowledged before it started", async (t) => {
  const c = await Cluster.create();
  const leader = await c.elect("n1");
  const [lagging, other] = c.followers(leader) as [string, string];

  await t.step("on the leader", async () => {
    for (let i = 1; i <= 5; i++) await c.engine(leader).asyncWrite(put("x", i));
    const view = await c.until(c.engine(leader).asyncSnapshot("linearizable"));
    assert.equal(view.get("x")?.value, "5");
  });

  await t.step("on a follower that has not applied the write yet", async () => {
    // The write commits with `other` alone while `lagging` hears nothing.
    c.hub.cut.add(`${leader}->${lagging}`);
    const w = await c.engine(leader).asyncWrite(put("x", 6));
    assert.equal(c.engine(lagging).sm.get("x")?.value, "5");
    c.heal();
    const view = await c.until(c.engine(lagging).asyncSnapshot("linearizable"));
    assert.equal(view.get("x")?.value, "6");
    assert.ok(view.index >= w.index);
  });

  await t.step("on every follower", async () => {
    const w = await c.engine(leader).asyncWrite(put("x", 7));
    for (const id of [lagging, other]) {
      const view = await c.until(c.engine(id).asyncSnapshot("linearizable"));
      assert.equal(view.get("x")?.value, "7");
      assert.ok(view.index >= w.index);
    }
  });
});

Deno.test("reads that arrive together share one ReadIndex round", async (t) => {
  const c = await Cluster.create();
  const leader = await c.elect("n1");
  await c.engine(leader).asyncWrite(put("x", 1));

  for (const id of [leader, c.followers(leader)[0]!]) {
    await t.step(id === leader ? "on the leader" : "on a follower", async () => {
      const rounds = countRounds(c.region(id));
      const reads = Array.from({ length: 10 }, () => c.engine(id).asyncSnapshot("linearizable"));
      const views = await c.until(Promise.all(reads));
      for (const v of views) assert.equal(v.get("x")?.value, "1");
      assert.equal(rounds.count, 1);
    });
  }
});

Deno.test("reads arriving while a round is in flight share the next round", async () => {
  const c = await Cluster.create();
  const leader = await c.elect("n1");
  await c.engine(leader).asyncWrite(put("x", 1));
  const rounds = countRounds(c.region(leader));
  for (const f of c.followers(leader)) c.hub.cut.add(`${leader}->${f}`);
  const first = track(c.engine(leader).asyncSnapshot("linearizable"));
  await settle();
  const later = Array.from({ length: 5 }, () => c.engine(leader).asyncSnapshot("linearizable"));
  await settle();
  assert.equal(first.done, false);
  assert.equal(rounds.count, 1);
  c.heal();
  const views = await c.until(Promise.all(later));
  assert.equal(first.done, true);
  for (const v of views) assert.equal(v.get("x")?.value, "1");
  assert.equal(rounds.count, 2);
});

Deno.test("a partitioned old leader serves no linearizable read", async (t) => {
  const c = await Cluster.create();
  const old = await c.elect("n1");
  await c.engine(old).asyncWrite(put("x", "old"));
  c.isolate(old);
  const read = track(c.engine(old).asyncSnapshot("linearizable"));

  const leader = await c.awaitLeader(old);
  await t.step("the majority elects a new leader that writes and serves", async () => {
    await c.until(c.engine(leader).asyncWrite(put("x", "new")));
    const view = await c.until(c.engine(leader).asyncSnapshot("linearizable"));
    assert.equal(view.get("x")?.value, '"new"');
  });

  await t.step("the old leader's read times out on the fake clock", async () => {
    assert.equal(read.done, false);
    await c.tick(c.opts.requestTimeoutMs / c.opts.tickMs);
    await settle();
    assert.equal(read.done, true);
    assert.ok(read.error instanceof TimeoutError, String(read.error));
  });
});

Deno.test("read failures are counted under snake_case outcomes, not class names", () => {
  assert.equal(outcomeOf(new NotLeaderError(null, null)), "not_leader");
  assert.equal(outcomeOf(new LeadershipChangedError()), "leadership_changed");
  assert.equal(outcomeOf(new DOMException("gone", "AbortError")), "abort");
  assert.equal(outcomeOf("weird"), "error");
});
