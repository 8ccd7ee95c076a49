import assert from "node:assert/strict";
import { RaftLog } from "../../src/raft/log.ts";
import { CompactedError, type Entry, MemoryStorage, UnavailableError } from "../../src/raft/mod.ts";
import { ent, ents, log, snapshot } from "./_util/entries.ts";

/** A log whose storage holds `stable` and whose unstable part holds `unstable`. */
function raftLog(stable: Entry[], unstable: Entry[] = [], compactTo = 0): RaftLog {
  const storage = new MemoryStorage({ entries: stable });
  if (compactTo > 0) storage.compact(compactTo);
  const l = new RaftLog(storage);
  l.append(unstable);
  return l;
}

Deno.test("RaftLog.findConflict() finds the first mismatching entry", () => {
  const l = raftLog(log(1, 2, 3));
  const cases: [Entry[], number][] = [
    [[], 0],
    [ents(1, 1, 2, 3), 0],
    [ents(2, 2, 3), 0],
    [ents(3, 3), 0],
    [ents(1, 1, 2, 3, 4, 4), 4],
    [ents(2, 2, 3, 4, 5), 4],
    [ents(4, 4, 4), 4],
    [ents(1, 4, 4), 1],
    [ents(2, 1, 4, 4), 2],
    [ents(3, 1, 2, 4, 4), 3],
  ];
  for (const [es, want] of cases) {
    assert.equal(l.findConflict(es), want, JSON.stringify(es));
  }
});

Deno.test("RaftLog.findConflictByTerm() returns the last index with term <= the given term", () => {
  const cases: {
    name: string;
    stable: Entry[];
    compact?: number;
    index: number;
    term: number;
    want: [number, number];
  }[] = [
    // Log: terms 2 2 5 5 5 at 1..5 (after a dummy at 0).
    { name: "match at index", stable: log(2, 2, 5, 5, 5), index: 5, term: 5, want: [5, 5] },
    { name: "skip higher terms", stable: log(2, 2, 5, 5, 5), index: 5, term: 4, want: [2, 2] },
    { name: "index past the log", stable: log(2, 2, 5, 5, 5), index: 10, term: 3, want: [2, 2] },
    { name: "no such term", stable: log(2, 2, 5, 5, 5), index: 5, term: 1, want: [0, 0] },
    { name: "term higher than all", stable: log(2, 2, 5), index: 3, term: 6, want: [3, 5] },
    {
      name: "compacted: unknown term at the boundary",
      stable: log(2, 2, 5, 5, 5),
      compact: 3,
      index: 5,
      term: 4,
      want: [2, 0],
    },
    {
      name: "below the compaction point: term 0",
      stable: log(2, 2, 5, 5, 5),
      compact: 4,
      index: 5,
      term: 1,
      want: [3, 0],
    },
  ];
  for (const c of cases) {
    const l = raftLog(c.stable, [], c.compact ?? 0);
    const got = l.findConflictByTerm(c.index, c.term);
    assert.deepEqual([got.index, got.term], c.want, c.name);
  }
});

Deno.test("RaftLog.isUpToDate() compares last term, then last index (§5.4.1)", () => {
  const l = raftLog(log(1, 2, 3));
  const cases: [number, number, boolean][] = [
    [2, 4, true], // higher term wins whatever the index
    [3, 4, true],
    [4, 4, true],
    [2, 2, false], // lower term loses
    [3, 2, false],
    [4, 2, false],
    [2, 3, false], // same term: longer or equal wins
    [3, 3, true],
    [4, 3, true],
  ];
  for (const [index, term, want] of cases) {
    assert.equal(l.isUpToDate(index, term), want, `(${index}, ${term})`);
  }
});

Deno.test("RaftLog.maybeAppend() follows the AppendEntries receiver rules (§5.3)", () => {
  const cases: {
    name: string;
    prev: [number, number];
    commit: number;
    entries: Entry[];
    want: number | null;
    wantCommit: number;
    wantLog?: number[];
  }[] = [
    {
      name: "prev term mismatch",
      prev: [3, 2],
      commit: 3,
      entries: ents(4, 4),
      want: null,
      wantCommit: 1,
    },
    {
      name: "prev past the end",
      prev: [4, 4],
      commit: 3,
      entries: ents(5, 4),
      want: null,
      wantCommit: 1,
    },
    {
      name: "heartbeat-like: no entries",
      prev: [3, 3],
      commit: 3,
      entries: [],
      want: 3,
      wantCommit: 3,
    },
    {
      name: "commit limited by last new index",
      prev: [1, 1],
      commit: 3,
      entries: [],
      want: 1,
      wantCommit: 1,
    },
    {
      name: "append new entries",
      prev: [3, 3],
      commit: 5,
      entries: ents(4, 4, 4),
      want: 5,
      wantCommit: 5,
      wantLog: [1, 2, 3, 4, 4],
    },
    {
      name: "matching entries change nothing",
      prev: [1, 1],
      commit: 2,
      entries: ents(2, 2),
      want: 2,
      wantCommit: 2,
      wantLog: [1, 2, 3],
    },
    {
      name: "a conflicting suffix is replaced",
      prev: [1, 1],
      commit: 1,
      entries: ents(2, 4, 4),
      want: 3,
      wantCommit: 1,
      wantLog: [1, 4, 4],
    },
    {
      name: "conflict with a committed entry is refused",
      prev: [0, 0],
      commit: 0,
      entries: ents(1, 9),
      want: null,
      wantCommit: 1,
      wantLog: [1, 2, 3],
    },
  ];
  for (const c of cases) {
    const l = raftLog(log(1, 2, 3));
    l.commitTo(1);
    const got = l.maybeAppend({ index: c.prev[0], term: c.prev[1] }, c.commit, c.entries);
    assert.equal(got, c.want, c.name);
    assert.equal(l.committed, c.wantCommit, c.name);
    if (c.wantLog) {
      const terms = l.slice(1, l.lastIndex() + 1, Infinity).map((e) => e.term);
      assert.deepEqual(terms, c.wantLog, c.name);
    }
  }
});

Deno.test("RaftLog.term() is valid from the compaction point to the last index", () => {
  const l = raftLog(log(1, 1, 2, 3, 3), [ent(4, 6)], 2);
  const cases: [number, number | "compacted" | "unavailable"][] = [
    [0, "compacted"],
    [1, "compacted"],
    [2, 1], // the compaction point keeps its term
    [3, 2],
    [5, 3],
    [6, 4],
    [7, "unavailable"],
  ];
  for (const [i, want] of cases) {
    if (want === "compacted") assert.throws(() => l.term(i), CompactedError);
    else if (want === "unavailable") assert.throws(() => l.term(i), UnavailableError);
    else assert.equal(l.term(i), want, `term(${i})`);
  }
  assert.equal(l.termOrZero(1), 0);
  assert.equal(l.termOrZero(7), 0);
});

Deno.test("RaftLog.slice() spans storage and unstable entries, bounded by size", () => {
  const stable = [ent(1, 1, "aa"), ent(1, 2, "bb"), ent(1, 3, "cc")];
  const unstable = [ent(2, 4, "dd"), ent(2, 5, "ee")];
  const l = raftLog(stable, unstable);
  const idx = (es: Entry[]) => es.map((e) => e.index);
  assert.deepEqual(idx(l.slice(1, 6, Infinity)), [1, 2, 3, 4, 5]);
  assert.deepEqual(idx(l.slice(2, 5, Infinity)), [2, 3, 4]);
  assert.deepEqual(idx(l.slice(4, 6, Infinity)), [4, 5]);
  assert.deepEqual(idx(l.slice(1, 6, 0)), [1], "at least one entry");
  assert.deepEqual(idx(l.slice(1, 6, 4)), [1, 2]);
  assert.deepEqual(idx(l.slice(2, 6, 6)), [2, 3, 4], "limit applies across the boundary");
  assert.deepEqual(l.slice(3, 3, Infinity), []);
  assert.throws(() => l.slice(0, 2, Infinity), CompactedError);
  assert.throws(() => l.slice(1, 7, Infinity), UnavailableError);
});

Deno.test("RaftLog.nextCommittedEnts() never hands out an entry not yet durable", async (t) => {
  await t.step("committed unstable entries wait for stableTo()", () => {
    const l = raftLog(log(1, 1), ents(3, 1, 1));
    l.commitTo(4);
    assert.deepEqual(l.nextCommittedEnts().map((e) => e.index), [1, 2]);
    (l.storage as MemoryStorage).append(ents(3, 1, 1));
    l.stableTo({ index: 4, term: 1 });
    assert.deepEqual(l.nextCommittedEnts().map((e) => e.index), [1, 2, 3, 4]);
  });
  await t.step("entries handed out (applying) are not repeated", () => {
    const l = raftLog(log(1, 1, 1));
    l.commitTo(3);
    l.acceptApplying(2);
    assert.deepEqual(l.nextCommittedEnts().map((e) => e.index), [3]);
    l.appliedTo(3);
    assert.equal(l.hasNextCommittedEnts(), false);
  });
  await t.step("nothing while a snapshot is pending", () => {
    const l = raftLog(log(1, 1, 1));
    l.commitTo(2);
    l.restore(snapshot(5, 2, ["a"]));
    assert.equal(l.hasNextCommittedEnts(), false);
    assert.equal(l.committed, 5);
    l.stableSnapTo(5);
    assert.equal(l.applied, 5);
  });
});

Deno.test("RaftLog.commitTo() never decreases and never passes the last index", () => {
  const l = raftLog(log(1, 2, 3));
  l.commitTo(2);
  l.commitTo(1);
  assert.equal(l.committed, 2);
  assert.throws(() => l.commitTo(4), RangeError);
});

Deno.test("RaftLog.maybeCommit() commits only entries of the given term (§5.4.2)", () => {
  const l = raftLog(log(1, 2, 2));
  assert.equal(l.maybeCommit(3, 1), false);
  assert.equal(l.maybeCommit(1, 2), false);
  assert.equal(l.maybeCommit(2, 2), true);
  assert.equal(l.committed, 2);
  assert.equal(l.maybeCommit(2, 2), false, "no change");
});

Deno.test("RaftLog.append() refuses to overwrite committed entries", () => {
  const l = raftLog(log(1, 1, 1));
  l.commitTo(2);
  assert.throws(() => l.append(ents(2, 2)), RangeError);
  assert.equal(l.append(ents(3, 2, 2)), 4);
  assert.deepEqual(l.nextUnstableEnts().map((e) => [e.index, e.term]), [[3, 2], [4, 2]]);
});

Deno.test("RaftLog.restore() resets the log to the snapshot", () => {
  const l = raftLog(log(1, 1, 1));
  l.restore(snapshot(10, 3, ["a"]));
  assert.equal(l.firstIndex(), 11);
  assert.equal(l.lastIndex(), 10);
  assert.equal(l.lastTerm(), 3);
  assert.equal(l.committed, 10);
  assert.equal(l.nextUnstableSnapshot()?.meta.index, 10);
  assert.throws(() => l.term(9), CompactedError);
});
