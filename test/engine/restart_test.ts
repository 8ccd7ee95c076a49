/**
 * Crash and restart from the memory engines: term, vote, log and applied
 * state recover, and no entry is applied twice or skipped.
 * @module
 */
import assert from "node:assert/strict";
import { Cluster, put, track } from "./_harness.ts";

/** Puts `key` `n` times through `leader`; returns the versions it got. */
async function bump(c: Cluster, leader: string, key: string, n: number): Promise<number[]> {
  const versions: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await c.until(c.engine(leader).asyncWrite(put(key, i)));
    if (res.result.type !== "put") throw new Error(`Unexpected ${res.result.type}`);
    versions.push(res.result.record.version);
  }
  return versions;
}

/** Every live node holds `key` at `version` and the same applied index. */
async function assertConverged(c: Cluster, key: string, version: number): Promise<void> {
  await c.tick(3 * c.opts.heartbeatTicks);
  const applied = new Set<number>();
  for (const id of c.live()) {
    assert.equal(c.engine(id).sm.get(key)?.version, version, `${id}: ${key}`);
    applied.add(c.region(id).appliedIndex);
  }
  assert.equal(applied.size, 1, `applied indexes differ: ${[...applied]}`);
}

function durable(c: Cluster, id: string) {
  const st = c.region(id).status();
  return { term: st.term, vote: st.vote, lastIndex: st.lastIndex, commit: st.commit };
}

Deno.test("a restarted follower recovers term, vote, log and applied state", async () => {
  const c = await Cluster.create();
  const leader = await c.elect("n1");
  await bump(c, leader, "c", 10);
  await c.tick(c.opts.heartbeatTicks);
  const f = c.followers(leader)[0]!;
  const before = durable(c, f);
  const applied = c.region(f).appliedIndex;
  const records = [...c.engine(f).sm.entries()];
  assert.equal(before.vote, leader);

  await c.restart(f);
  assert.deepEqual(durable(c, f), before);
  assert.equal(c.region(f).appliedIndex, applied);
  assert.deepEqual([...c.engine(f).sm.entries()], records);

  assert.deepEqual(await bump(c, leader, "c", 3), [11, 12, 13]);
  await assertConverged(c, "c", 13);
});

Deno.test("a restarted node whose kv engine lagged replays exactly the missing entries", async () => {
  const c = await Cluster.create();
  const leader = await c.elect("n1");
  await bump(c, leader, "c", 5);
  const f = c.followers(leader)[0]!;
  c.freezeData(f);
  await bump(c, leader, "c", 10);
  await c.tick(c.opts.heartbeatTicks);
  const lag = c.node(f).dataStore.appliedIndex;
  assert.ok(lag < c.region(f).appliedIndex, "the kv engine should lag");

  await c.restart(f);
  assert.equal(c.region(f).appliedIndex, lag);
  assert.equal(c.engine(f).sm.get("c")?.version, lag - 1); // entry 1 is the no-op
  await assertConverged(c, "c", 15); // the restarted loop first runs on a tick
});

Deno.test("a crashed leader comes back as a follower; the cluster goes on", async () => {
  const c = await Cluster.create();
  const old = await c.elect("n1");
  await bump(c, old, "c", 5);
  const term = c.region(old).term;
  // Writes in flight when the power goes: their outcome is unknown.
  for (let i = 0; i < 5; i++) void c.engine(old).asyncWrite(put("lost", i)).catch(() => {});
  await Promise.resolve();
  c.crash(old);

  const leader = await c.awaitLeader(old);
  assert.ok(c.region(leader).term > term);
  const lost = c.engine(leader).sm.get("lost")?.version ?? 0;
  assert.deepEqual(await bump(c, leader, "c", 3), [6, 7, 8]);

  await c.restart(old);
  assert.equal(c.region(old).status().term >= term, true);
  await assertConverged(c, "c", 8);
  assert.equal(c.engine(old).sm.get("lost")?.version ?? 0, lost);
});

Deno.test("a crash at any point of a batch applies no entry twice and loses no ack", async (t) => {
  const c = await Cluster.create();
  let leader = await c.elect("n1");
  let acked = 0;
  for (const who of ["follower", "leader"] as const) {
    await t.step(`the ${who} crashes after 0..24 microtask turns`, async () => {
      for (let turns = 0; turns < 25; turns++) {
        const victim = who === "leader" ? leader : c.followers(leader)[turns % 2]!;
        const writes = Array.from(
          { length: 5 },
          () => track(c.engine(leader).asyncWrite(put("c", turns))),
        );
        for (let i = 0; i < turns; i++) await Promise.resolve();
        c.crash(victim);
        await c.restart(victim);
        leader = await c.awaitLeader();
        await c.tick(3 * c.opts.heartbeatTicks);
        if (who === "follower") assert.ok(writes.every((w) => w.done && !w.failed));
        acked += writes.filter((w) => w.done && !w.failed).length;
        const version = c.engine(leader).sm.get("c")?.version ?? 0;
        assert.ok(version >= acked, `turns ${turns}: version ${version} < ${acked} acked`);
        acked = version;
        await assertConverged(c, "c", version);
      }
    });
  }
});

Deno.test("a whole cluster restarted at once keeps every acknowledged write", async () => {
  const c = await Cluster.create();
  const old = await c.elect("n1");
  await bump(c, old, "c", 7);
  const term = c.region(old).term;
  for (const id of c.live()) c.crash(id);
  for (const id of c.nodes.keys()) await c.start(id);
  const leader = await c.awaitLeader();
  assert.ok(c.region(leader).term > term);
  assert.deepEqual(await bump(c, leader, "c", 2), [8, 9]);
  await assertConverged(c, "c", 9);
});
