/**
 * Log compaction and snapshots (§7): a follower behind the leader's log
 * start catches up through a snapshot streamed by MemoryTransport.
 * @module
 */
import assert from "node:assert/strict";
import type { SnapshotHeader } from "../../src/transport/snapshot_stream.ts";
import { Cluster, put } from "./_harness.ts";

const SNAPSHOT_ENTRIES = 10;

async function writeMany(c: Cluster, leader: string, n: number, tag: string): Promise<void> {
  const writes = Array.from(
    { length: n },
    (_, i) => c.engine(leader).asyncWrite(put(`k${i}`, tag)),
  );
  await c.until(Promise.all(writes));
  // One batch is one apply: write one by one so the log grows past compaction.
  for (let i = 0; i < n; i++) await c.until(c.engine(leader).asyncWrite(put("seq", `${tag}${i}`)));
}

/** Ticks until `id` has applied what the leader has; returns the ticks it took. */
async function catchUp(c: Cluster, leader: string, id: string, maxTicks = 100): Promise<void> {
  for (let i = 0; i < maxTicks; i++) {
    if (c.region(id).appliedIndex === c.region(leader).appliedIndex) return;
    await c.tick();
  }
  throw new Error(`${id} did not catch up in ${maxTicks} ticks`);
}

function assertSameState(c: Cluster, leader: string, id: string): void {
  assert.equal(c.region(id).appliedIndex, c.region(leader).appliedIndex);
  assert.deepEqual([...c.engine(id).sm.entries()], [...c.engine(leader).sm.entries()]);
}

Deno.test("a follower isolated during many writes catches up via snapshot", async (t) => {
  const c = await Cluster.create({ snapshotEntries: SNAPSHOT_ENTRIES });
  const leader = await c.elect("n1");
  const lagging = c.followers(leader)[1]!;
  c.isolate(lagging);
  await writeMany(c, leader, 20, "a");
  const behind = c.region(lagging).status().lastIndex;

  await t.step("the leader compacted past the follower's log", () => {
    assert.ok(c.region(leader).status().snapshotIndex > behind);
    assert.ok(c.node(leader).raftStore.entries.length < 3 * SNAPSHOT_ENTRIES);
  });

  await t.step("after healing it installs a snapshot and holds the same state", async () => {
    c.heal();
    await catchUp(c, leader, lagging);
    assert.ok(c.node(lagging).metrics.snapshotsReceived.value() >= 1);
    assertSameState(c, leader, lagging);
  });

  await t.step("it then follows by appends, and its stores survive a restart", async () => {
    await c.until(c.engine(leader).asyncWrite(put("after", 1)));
    await catchUp(c, leader, lagging);
    assertSameState(c, leader, lagging);
    await c.restart(lagging);
    assertSameState(c, leader, lagging);
    assert.ok(c.region(lagging).status().snapshotIndex > behind);
  });
});

/*
 * A wiped node lost entries it had acknowledged, which Raft assumes never
 * happens: the leader's match index for it is stale. The leader takes a
 * reject hint below match as a lost log and probes it again (dc9298a).
 */
Deno.test("a node restarted with wiped engines catches up via snapshot", async () => {
  const c = await Cluster.create({ snapshotEntries: SNAPSHOT_ENTRIES });
  const leader = await c.elect("n1");
  await writeMany(c, leader, 20, "a");
  const victim = c.followers(leader)[0]!;
  c.crash(victim);
  c.wipe(victim);
  await c.restart(victim);
  assert.equal(c.region(victim).appliedIndex, 0);

  await catchUp(c, leader, victim);
  assert.equal(c.region(leader).isLeader(), true);
  assert.ok(c.node(victim).metrics.snapshotsReceived.value() >= 1);
  assertSameState(c, leader, victim);

  await writeMany(c, leader, 5, "b");
  await catchUp(c, leader, victim);
  assertSameState(c, leader, victim);
});

const STALE = {
  "a deposed leader's (older term)": (h: SnapshotHeader) => ({ ...h, term: h.term - 1 }),
  "an outdated one (older index)": (h: SnapshotHeader) => ({
    ...h,
    meta: { ...h.meta, index: 2, term: 1 },
  }),
};

for (const [what, staleOf] of Object.entries(STALE)) {
  Deno.test(`a stale snapshot, ${what}, arriving before an accepted one is installed is ignored`, async () => {
    const c = await Cluster.create({ snapshotEntries: SNAPSHOT_ENTRIES });
    const leader = await c.elect("n1");
    const lagging = c.followers(leader)[1]!;
    c.isolate(lagging);
    await writeMany(c, leader, 20, "a");
    // Right behind the leader's snapshot comes a stale one, before the loop runs.
    const router = c.parts(lagging).router;
    const receive = router.receiveSnapshot.bind(router);
    let stale = 0;
    router.receiveSnapshot = (h, records) => {
      receive(h, records);
      if (stale++ === 0) receive(staleOf(h), []);
    };
    const exit = Deno.exit;
    let exitCode: number | undefined;
    Deno.exit = ((code?: number) => void (exitCode = code)) as typeof Deno.exit;
    try {
      c.heal();
      await catchUp(c, leader, lagging);
    } finally {
      Deno.exit = exit;
    }
    assert.equal(exitCode, undefined, "the Ready loop failed");
    assert.ok(stale >= 1);
    assertSameState(c, leader, lagging);
  });
}

Deno.test("a membership change after a snapshot install applies on the snapshot's membership", async () => {
  const c = await Cluster.create({ snapshotEntries: 10 });
  const leader = await c.elect("n1");
  const lag = "n3";
  c.isolate(lag);
  await c.until(c.engine(leader).addMember({ id: "n4", url: "http://n4", learner: true }));
  for (let i = 0; i < 40; i++) await c.until(c.engine(leader).asyncWrite(put("seq", i)));
  c.heal();
  for (let i = 0; i < 100 && c.region(lag).appliedIndex < c.region(leader).appliedIndex; i++) {
    await c.tick();
  }
  assert.ok(c.node(lag).metrics.snapshotsReceived.value() > 0, "caught up through a snapshot");
  await c.until(c.engine(leader).addMember({ id: "n5", url: "http://n5", learner: true }));
  for (let i = 0; i < 100 && c.region(lag).appliedIndex < c.region(leader).appliedIndex; i++) {
    await c.tick();
  }
  // It used to add n5 to its pre-snapshot membership: n4 dropped out, and
  // its streams were refused as a removed node's.
  assert.deepEqual(c.region(lag).members, c.region(leader).members);
  assert.equal(c.region(lag).view.isRemovedPeer("n4"), false);
});
