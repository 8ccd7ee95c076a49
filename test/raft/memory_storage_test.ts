import assert from "node:assert/strict";
import {
  CompactedError,
  MemoryStorage,
  SnapshotOutOfDateError,
  UnavailableError,
} from "../../src/raft/mod.ts";
import { ent, ents, log, snapshot } from "./_util/entries.ts";

const conf = { voters: ["a", "b"], learners: [] };

function storage(): MemoryStorage {
  // Compaction point 3 (term 3), entries 4 and 5.
  return new MemoryStorage({
    snapshot: { index: 3, term: 3, confState: conf },
    entries: ents(4, 4, 5),
  });
}

Deno.test("MemoryStorage reads", async (t) => {
  await t.step("first/last index around the compaction point", () => {
    const s = storage();
    assert.equal(s.firstIndex(), 4);
    assert.equal(s.lastIndex(), 5);
  });
  await t.step("term() from the compaction point on", () => {
    const s = storage();
    assert.equal(s.term(3), 3);
    assert.equal(s.term(5), 5);
    assert.throws(() => s.term(2), CompactedError);
    assert.throws(() => s.term(6), UnavailableError);
  });
  await t.step("entries() is bounded by size but returns at least one", () => {
    const s = new MemoryStorage({
      entries: [ent(1, 1, "aaaa"), ent(1, 2, "bbbb"), ent(1, 3, "c")],
    });
    assert.equal(s.entries(1, 4, 0).length, 1);
    assert.equal(s.entries(1, 4, 8).length, 2);
    assert.equal(s.entries(1, 4, Infinity).length, 3);
    assert.throws(() => s.entries(0, 2, 9), CompactedError);
    assert.throws(() => s.entries(1, 5, 9), UnavailableError);
  });
  await t.step("initialState() carries the hard state and membership", () => {
    const hs = { term: 5, vote: "a", commit: 4 };
    const s = new MemoryStorage({
      hardState: hs,
      snapshot: { index: 0, term: 0, confState: conf },
    });
    assert.deepEqual(s.initialState(), { hardState: hs, confState: conf });
    s.setConfState({ voters: ["a"], learners: ["b"] });
    assert.deepEqual(s.initialState().confState, { voters: ["a"], learners: ["b"] });
  });
});

Deno.test("MemoryStorage.append() overwrites a suffix and refuses gaps", () => {
  const cases: { name: string; append: ReturnType<typeof ents>; want: number[] | "gap" }[] = [
    { name: "same entries", append: ents(4, 4, 5), want: [3, 4, 5] },
    { name: "overwrite the tail", append: ents(4, 6, 6), want: [3, 6, 6] },
    { name: "extend", append: ents(4, 4, 5, 5), want: [3, 4, 5, 5] },
    { name: "skip compacted part", append: ents(2, 3, 3, 5), want: [3, 5] },
    { name: "all compacted: no-op", append: ents(1, 1, 2), want: [3, 4, 5] },
    { name: "append at the end", append: ents(6, 5), want: [3, 4, 5, 5] },
    { name: "gap", append: ents(7, 5), want: "gap" },
  ];
  for (const c of cases) {
    const s = storage();
    if (c.want === "gap") {
      assert.throws(() => s.append(c.append), RangeError, c.name);
      continue;
    }
    s.append(c.append);
    const terms = [s.term(3), ...s.entries(4, s.lastIndex() + 1, Infinity).map((e) => e.term)];
    assert.deepEqual(terms, c.want, c.name);
  }
});

Deno.test("MemoryStorage.compact() drops entries but keeps the boundary term", () => {
  const s = new MemoryStorage({ entries: log(1, 2, 3, 4) });
  s.compact(2);
  assert.equal(s.firstIndex(), 3);
  assert.equal(s.term(2), 2);
  s.compact(1);
  assert.equal(s.firstIndex(), 3, "compacting less is a no-op");
  assert.throws(() => s.compact(5), RangeError);
});

Deno.test("MemoryStorage snapshots", async (t) => {
  await t.step("createSnapshot() records meta at an index without compacting", () => {
    const s = new MemoryStorage({ entries: log(1, 2, 3) });
    const snap = s.createSnapshot(2, conf, "state");
    assert.deepEqual(snap.meta, { index: 2, term: 2, confState: conf });
    assert.equal(s.snapshot(), snap);
    assert.equal(s.firstIndex(), 1);
    assert.throws(() => s.createSnapshot(4, conf, ""), RangeError);
    assert.throws(() => s.createSnapshot(1, conf, ""), SnapshotOutOfDateError);
  });
  await t.step("applySnapshot() replaces the log and membership", () => {
    const s = new MemoryStorage({ entries: log(1, 2, 3) });
    s.setConfState({ voters: ["z"], learners: [] });
    s.applySnapshot(snapshot(10, 4, ["a", "b", "c"]));
    assert.equal(s.firstIndex(), 11);
    assert.equal(s.lastIndex(), 10);
    assert.equal(s.term(10), 4);
    assert.deepEqual(s.initialState().confState.voters, ["a", "b", "c"]);
    assert.throws(() => s.applySnapshot(snapshot(9, 4, ["a"])), SnapshotOutOfDateError);
  });
});
