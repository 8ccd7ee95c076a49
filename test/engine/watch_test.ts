/**
 * Watches through the whole engine (API.md §5): the state machine and the
 * ApplyFsm feed each node's WatchHub, on followers as on the leader.
 * @module
 */
import assert from "node:assert/strict";
import { CompactedError, UnavailableError } from "../../src/engine/errors.ts";
import { Cluster, put } from "./_harness.ts";
import { RecordingSink } from "./_watch_sink.ts";

const ALL = { start: "", end: null };

Deno.test("a watch on a follower sees the leader's writes in log order", async () => {
  const c = await Cluster.create();
  const leader = await c.elect("n1");
  const follower = c.followers(leader)[0]!;
  const from = c.region(follower).appliedIndex + 1;
  const sink = new RecordingSink();
  const w = c.engine(follower).watch({ start: "u/", end: "u0" }, null, sink);
  const a = await c.until(c.engine(leader).asyncWrite(put("u/1", 1)));
  await c.until(c.engine(leader).asyncWrite(put("x", 1)));
  const d = await c.until(
    c.engine(leader).asyncWrite({
      type: "deleteRange",
      range: { start: "", end: null },
    }),
  );
  for (let i = 0; i < 20 && c.region(follower).appliedIndex < d.index; i++) await c.tick();
  assert.ok(from <= a.index);
  assert.deepEqual(sink.got, [`${a.index}:put:u/1`, `${d.index}:delete:u/1`]);
  w.cancel();
});

Deno.test("a snapshot install ends the watches of a lagging follower", async () => {
  const c = await Cluster.create({ snapshotEntries: 10 });
  const leader = await c.elect("n1");
  const lagging = c.followers(leader)[1]!;
  const sink = new RecordingSink();
  c.engine(lagging).watch(ALL, null, sink);
  c.isolate(lagging);
  for (let i = 0; i < 40; i++) await c.until(c.engine(leader).asyncWrite(put("k", i)));
  assert.ok(c.region(leader).status().snapshotIndex > c.region(lagging).appliedIndex);
  c.heal();
  for (let i = 0; i < 100 && sink.ended === null; i++) await c.tick();
  assert.equal(sink.ended, "snapshot");
  assert.deepEqual(sink.got, [], "nothing reached the isolated follower before the snapshot");
  const installed = c.region(lagging).appliedIndex;
  assert.throws(
    () => c.engine(lagging).watch(ALL, 1, new RecordingSink()),
    (e) => e instanceof CompactedError && e.oldestIndex === installed + 1,
  );
});

Deno.test("closing the engine ends its watches and refuses new ones", async () => {
  const c = await Cluster.create({ size: 1 });
  const leader = await c.elect("n1");
  const sink = new RecordingSink();
  c.engine(leader).watch(ALL, null, sink);
  c.engine(leader).close();
  assert.equal(sink.ended, "shutdown");
  assert.throws(() => c.engine(leader).watch(ALL, null, new RecordingSink()), UnavailableError);
});
