import assert from "node:assert/strict";
import { COMPACT_STEP, compactionTarget } from "../../src/engine/compaction.ts";

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
