import assert from "node:assert/strict";
import { Unstable } from "../../src/raft/log_unstable.ts";
import type { Entry, Snapshot } from "../../src/raft/mod.ts";
import { ents, snapshot } from "./_util/entries.ts";

function unstable(
  init: { entries?: Entry[]; offset: number; snap?: Snapshot; inProgress?: number },
): Unstable {
  const u = new Unstable(init.offset);
  u.entries = init.entries ?? [];
  u.snapshot = init.snap ?? null;
  u.offsetInProgress = init.inProgress ?? init.offset;
  return u;
}

Deno.test("Unstable.maybeFirstIndex() is the snapshot's index + 1, else null", () => {
  const cases: [Unstable, number | null][] = [
    [unstable({ offset: 5, entries: ents(5, 1) }), null],
    [unstable({ offset: 0 }), null],
    [unstable({ offset: 5, entries: ents(5, 1), snap: snapshot(4, 1, ["a"]) }), 5],
    [unstable({ offset: 5, snap: snapshot(4, 1, ["a"]) }), 5],
  ];
  for (const [u, want] of cases) assert.equal(u.maybeFirstIndex(), want);
});

Deno.test("Unstable.maybeLastIndex() is the last entry, else the snapshot, else null", () => {
  const cases: [Unstable, number | null][] = [
    [unstable({ offset: 5, entries: ents(5, 1) }), 5],
    [unstable({ offset: 5, entries: ents(5, 1), snap: snapshot(4, 1, ["a"]) }), 5],
    [unstable({ offset: 5, snap: snapshot(4, 1, ["a"]) }), 4],
    [unstable({ offset: 0 }), null],
  ];
  for (const [u, want] of cases) assert.equal(u.maybeLastIndex(), want);
});

Deno.test("Unstable.maybeTerm() answers only for what it holds", () => {
  const cases: [Unstable, number, number | null][] = [
    [unstable({ offset: 5, entries: ents(5, 1) }), 5, 1],
    [unstable({ offset: 5, entries: ents(5, 1) }), 6, null],
    [unstable({ offset: 5, entries: ents(5, 1) }), 4, null],
    [unstable({ offset: 5, entries: ents(5, 1), snap: snapshot(4, 1, ["a"]) }), 4, 1],
    [unstable({ offset: 5, entries: ents(5, 1), snap: snapshot(4, 1, ["a"]) }), 3, null],
    [unstable({ offset: 5, snap: snapshot(4, 1, ["a"]) }), 5, null],
    [unstable({ offset: 0 }), 5, null],
  ];
  for (const [u, i, want] of cases) assert.equal(u.maybeTerm(i), want, `term(${i})`);
});

Deno.test("Unstable.restore() replaces everything with the snapshot", () => {
  const u = unstable({
    offset: 5,
    entries: ents(5, 1),
    snap: snapshot(4, 1, ["a"]),
    inProgress: 6,
  });
  u.snapshotInProgress = true;
  const s = snapshot(6, 2, ["a"]);
  u.restore(s);
  assert.equal(u.offset, 7);
  assert.equal(u.offsetInProgress, 7);
  assert.deepEqual(u.entries, []);
  assert.equal(u.snapshot, s);
  assert.equal(u.snapshotInProgress, false);
});

Deno.test("Unstable.nextEntries() skips entries already handed out", async (t) => {
  await t.step("nothing in progress: all entries", () => {
    const u = unstable({ offset: 5, entries: ents(5, 1, 1) });
    assert.deepEqual(u.nextEntries(), ents(5, 1, 1));
  });
  await t.step("acceptInProgress() hides them until more arrive", () => {
    const u = unstable({ offset: 5, entries: ents(5, 1, 1) });
    u.acceptInProgress();
    assert.deepEqual(u.nextEntries(), []);
    u.truncateAndAppend(ents(7, 1));
    assert.deepEqual(u.nextEntries(), ents(7, 1));
  });
  await t.step("nextSnapshot() likewise", () => {
    const u = unstable({ offset: 5, snap: snapshot(4, 1, ["a"]) });
    assert.notEqual(u.nextSnapshot(), null);
    u.acceptInProgress();
    assert.equal(u.nextSnapshot(), null);
  });
});

Deno.test("Unstable.stableTo() drops durable entries unless replaced", () => {
  const cases: {
    name: string;
    u: Unstable;
    index: number;
    term: number;
    offset: number;
    len: number;
  }[] = [
    { name: "empty", u: unstable({ offset: 0 }), index: 4, term: 1, offset: 0, len: 0 },
    {
      name: "stable to the first entry",
      u: unstable({ offset: 5, entries: ents(5, 1) }),
      index: 5,
      term: 1,
      offset: 6,
      len: 0,
    },
    {
      name: "stable to the first of two",
      u: unstable({ offset: 5, entries: ents(5, 1, 1) }),
      index: 5,
      term: 1,
      offset: 6,
      len: 1,
    },
    {
      name: "term mismatch: entry was replaced",
      u: unstable({ offset: 6, entries: ents(6, 2) }),
      index: 6,
      term: 1,
      offset: 6,
      len: 1,
    },
    {
      name: "index below offset (old entry)",
      u: unstable({ offset: 5, entries: ents(5, 1) }),
      index: 4,
      term: 1,
      offset: 5,
      len: 1,
    },
    {
      name: "index matches the snapshot only",
      u: unstable({ offset: 5, entries: ents(5, 1), snap: snapshot(4, 1, ["a"]) }),
      index: 4,
      term: 1,
      offset: 5,
      len: 1,
    },
  ];
  for (const c of cases) {
    c.u.stableTo(c.index, c.term);
    assert.equal(c.u.offset, c.offset, c.name);
    assert.equal(c.u.entries.length, c.len, c.name);
    assert.ok(c.u.offsetInProgress >= c.u.offset, c.name);
  }
});

Deno.test("Unstable.truncateAndAppend() keeps a contiguous log", () => {
  const cases: {
    name: string;
    u: Unstable;
    append: Entry[];
    offset: number;
    entries: Entry[];
    inProgress: number;
  }[] = [
    {
      name: "append to the end",
      u: unstable({ offset: 5, entries: ents(5, 1), inProgress: 6 }),
      append: ents(6, 1, 1),
      offset: 5,
      entries: ents(5, 1, 1, 1),
      inProgress: 6,
    },
    {
      name: "replace everything from the offset",
      u: unstable({ offset: 5, entries: ents(5, 1), inProgress: 6 }),
      append: ents(5, 2, 2),
      offset: 5,
      entries: ents(5, 2, 2),
      inProgress: 5,
    },
    {
      name: "replace into the stable log",
      u: unstable({ offset: 5, entries: ents(5, 1) }),
      append: ents(4, 2, 2, 2),
      offset: 4,
      entries: ents(4, 2, 2, 2),
      inProgress: 4,
    },
    {
      name: "truncate a suffix in progress",
      u: unstable({ offset: 5, entries: ents(5, 1, 1, 1), inProgress: 8 }),
      append: ents(6, 2),
      offset: 5,
      entries: ents(5, 1, 2),
      inProgress: 6,
    },
    {
      name: "truncate a suffix beyond what is in progress",
      u: unstable({ offset: 5, entries: ents(5, 1, 1, 1), inProgress: 6 }),
      append: ents(7, 2, 2),
      offset: 5,
      entries: ents(5, 1, 1, 2, 2),
      inProgress: 6,
    },
  ];
  for (const c of cases) {
    c.u.truncateAndAppend(c.append);
    assert.equal(c.u.offset, c.offset, c.name);
    assert.deepEqual(c.u.entries, c.entries, c.name);
    assert.equal(c.u.offsetInProgress, c.inProgress, c.name);
  }
});
