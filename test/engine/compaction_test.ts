import assert from "node:assert/strict";
import { COMPACT_STEP, compactionTarget } from "../../src/engine/compaction.ts";
import { MemoryStorage } from "../../src/raft/memory_storage.ts";
import { Cluster, put } from "./_harness.ts";

Deno.test("compaction: waits for snapshotEntries plus a margin, then trims a step at a time", () => {
  // 10,000 entries to keep plus a margin of 5,000.
  assert.equal(compactionTarget(14_999, 0, 10_000), null);
  assert.equal(compactionTarget(15_000, 0, 10_000), COMPACT_STEP);
  assert.equal(compactionTarget(15_000, COMPACT_STEP, 10_000), null);
  assert.equal(compactionTarget(40_000, 0, 10_000), COMPACT_STEP, "one step, not 35,000 at once");
  // Busy (writes queued): a whole step or nothing, so a node that is never idle still compacts.
  assert.equal(compactionTarget(15_000, 0, 10_000, true), null);
  assert.equal(compactionTarget(15_000 + COMPACT_STEP - 1, 0, 10_000, true), null);
  assert.equal(compactionTarget(15_000 + COMPACT_STEP, 0, 10_000, true), COMPACT_STEP);
  // Small settings: the margin is half, and the step never passes durable - keep.
  assert.equal(compactionTarget(30, 0, 20), 20);
  assert.equal(compactionTarget(29, 0, 20), null);
});

Deno.test("a log of big entries is compacted by size, whatever its entry count", async () => {
  const c = await Cluster.create({ logUnitsMax: 200_000 });
  const leader = await c.elect("n1");
  const value = "v".repeat(20_000);
  for (let i = 0; i < 30; i++) await c.engine(leader).asyncWrite(put(`k${i % 3}`, value));
  await c.tick(c.opts.heartbeatTicks * 3);
  for (const id of c.nodes.keys()) {
    const mem = c.region(id).storage.mem;
    assert.ok(c.region(id).status().snapshotIndex > 0, `${id} compacted`);
    assert.ok(mem.dataUnits() <= 200_000, `${id} holds ${mem.dataUnits()} units`);
  }
  // Far below the entry count that compaction waits for otherwise.
  assert.ok(c.region(leader).status().lastIndex < 100);
});

Deno.test("MemoryStorage counts its data and finds where to compact for a budget", () => {
  const e = (index: number, n: number) => ({
    index,
    term: 1,
    type: "normal" as const,
    data: "x".repeat(n),
  });
  const m = new MemoryStorage();
  m.append([e(1, 10), e(2, 20), e(3, 30), e(4, 40)]);
  assert.equal(m.dataUnits(), 100);
  m.append([e(3, 5)]); // a new leader's suffix replaces 3 and 4
  assert.equal(m.dataUnits(), 35);
  m.append([e(4, 40), e(5, 50)]);
  assert.equal(m.compactionPointFor(90, 5), 3, "keep 4 and 5 (90 units)");
  assert.equal(m.compactionPointFor(89, 5), 4);
  assert.equal(m.compactionPointFor(89, 3), 3, "never past upTo");
  assert.equal(m.compactionPointFor(1000, 5), 0, "everything fits");
  m.compact(2);
  assert.equal(m.dataUnits(), 95);
});
