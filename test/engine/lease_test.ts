/**
 * Lease reads (`consistency=lease`): the leader serves alone while a quorum
 * confirmed it within the lease, and falls back to ReadIndex after.
 * @module
 */
import assert from "node:assert/strict";
import { NotLeaderError, TimeoutError } from "../../src/engine/errors.ts";
import { Cluster, countRounds, put, settle, track } from "./_harness.ts";

/** Counts every ReadIndex request (read rounds and lease renewals) of `id`. */
function countCoreRounds(c: Cluster, id: string): { count: number } {
  const counter = { count: 0 };
  const node = c.region(id).node;
  const readIndex = node.readIndex.bind(node);
  node.readIndex = (ctx: string) => (counter.count++, readIndex(ctx));
  return counter;
}

async function leaderWithLease(): Promise<{ c: Cluster; leader: string }> {
  const c = await Cluster.create();
  const leader = await c.elect("n1");
  await c.engine(leader).asyncWrite(put("x", "old"));
  await c.tick(c.opts.heartbeatTicks); // a lease-renewal round
  return { c, leader };
}

Deno.test("a lease read is served by the leader alone while the lease holds", async (t) => {
  const { c, leader } = await leaderWithLease();

  await t.step("no ReadIndex round, and the latest write is visible", async () => {
    const core = countCoreRounds(c, leader);
    const view = await c.engine(leader).asyncSnapshot("lease");
    assert.equal(view.get("x")?.value, '"old"');
    assert.equal(core.count, 0);
  });

  await t.step("a follower refuses lease reads, naming the leader", async () => {
    const f = c.followers(leader)[0]!;
    await assert.rejects(
      () => c.engine(f).asyncSnapshot("lease"),
      (e: unknown) => e instanceof NotLeaderError && e.leaderId === leader,
    );
  });

  await t.step("past the lease it falls back to a ReadIndex round", async () => {
    const rounds = countRounds(c.region(leader));
    c.now += c.opts.leaseMs; // the clock moves, no tick renews the lease
    const view = await c.until(c.engine(leader).asyncSnapshot("lease"));
    assert.equal(view.get("x")?.value, '"old"');
    assert.equal(rounds.count, 1);
  });
});

Deno.test("an isolated leader whose lease ran out returns no stale data", async (t) => {
  const { c, leader: old } = await leaderWithLease();
  c.isolate(old);
  c.now += c.opts.leaseMs;
  assert.equal(c.region(old).isLeader(), true);
  const read = track(c.engine(old).asyncSnapshot("lease"));
  await settle();
  assert.equal(read.done, false);

  const leader = await c.awaitLeader(old);
  await c.until(c.engine(leader).asyncWrite(put("x", "new")));

  await t.step("the pending lease read times out", async () => {
    await c.tick(c.opts.requestTimeoutMs / c.opts.tickMs);
    assert.equal(read.done, true);
    assert.ok(read.error instanceof TimeoutError, String(read.error));
  });

  await t.step("a new lease read on the deposed leader fails", async () => {
    const again = c.until(c.engine(old).asyncSnapshot("lease"));
    await assert.rejects(
      () => again,
      (e: unknown) => e instanceof NotLeaderError || e instanceof TimeoutError,
    );
  });

  await t.step("the new leader serves the new value", async () => {
    const view = await c.until(c.engine(leader).asyncSnapshot("lease"));
    assert.equal(view.get("x")?.value, '"new"');
  });
});

Deno.test("a leader that handed over leadership unaware serves no lease read", async () => {
  const { c, leader: old } = await leaderWithLease();
  const [next, other] = c.followers(old) as [string, string];
  // Only the old leader's own messages get through: TimeoutNow reaches
  // `next`, which wins a forced election (§3.10) the old leader never hears of.
  c.hub.cut.add(`${next}->${old}`).add(`${other}->${old}`);
  c.region(old).node.transferLeader(next);
  c.region(old).fsm.kick();
  await settle();
  assert.equal(c.region(next).isLeader(), true);
  assert.equal(c.region(old).isLeader(), true);
  await c.engine(next).asyncWrite(put("x", "new"));

  const read = track(c.engine(old).asyncSnapshot("lease"));
  await settle();
  assert.equal(read.done, false, "served from a lease the transfer voided");
  await c.tick(c.opts.requestTimeoutMs / c.opts.tickMs);
  assert.equal(read.done, true);
  assert.ok(read.error instanceof TimeoutError, String(read.error));
});
