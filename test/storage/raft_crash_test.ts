import assert from "node:assert/strict";
import type { Entry } from "../../src/raft/types.ts";
import type { EngineHooks } from "../../src/storage/committer.ts";
import { CHUNK_BYTES, needsChunks } from "../../src/storage/chunks.ts";
import { utf8Length } from "../../src/kv/key_order.ts";
import { DenoRaftEngine } from "../../src/storage/deno_raft_engine.ts";
import type { RaftState, RaftWrite } from "../../src/storage/stores.ts";
import { assertSplit, type CrashSpec, eq, everyCrashPoint } from "./crash_harness.ts";
import { bigText, entries, SEED } from "./helpers.ts";

const OLD_HS = { term: 1, vote: "n1", commit: 900 };
const NEW_HS = { term: 2, vote: "n2", commit: 950 };
const pad = (e: Entry): Entry => ({ ...e, data: e.data + "#".repeat(300) });
const padMore = (e: Entry): Entry => ({ ...e, data: e.data + "#".repeat(3000) });

/** The log indexes a stored row covers: a block `{b: heads}` or one bare head. */
function rowIndexes(k: Deno.KvEntry<unknown>): number[] {
  const first = k.key[3] as number;
  const b = (k.value as { b?: unknown[] }).b;
  return Array.from({ length: b ? b.length : 1 }, (_, i) => first + i);
}

/**
 * raft.kv holds exactly the loaded log: no stale entries (only a block that
 * straddles the compaction point holds entries below it), no stray chunks.
 */
function inspectRaft(keys: Deno.KvEntry<unknown>[], s: RaftState): void {
  const rows = keys.filter((k) => k.key[2] === "log").map(rowIndexes);
  const snap = s.snapshot.index;
  assert.ok(rows.every((r) => r.at(-1)! > snap), "no row wholly compacted away");
  const stored = rows.flat().filter((i) => i > snap);
  assert.deepEqual(stored, s.entries.map((e) => e.index), "log rows = log");
  const chunks = keys.filter((k) => k.key[2] === "lc");
  const want = s.entries.filter((e) => needsChunks(e.data))
    .reduce((n, e) => n + Math.ceil((utf8Length(e.data) + 1) / CHUNK_BYTES), 0);
  assert.equal(chunks.length, want, "chunk keys = chunks of live entries");
}

/**
 * Writes `w` one entry per write: one log row (block) each, so that
 * replacing or compacting the log takes many deletes, over several commits.
 */
async function writeRowPerEntry(e: DenoRaftEngine, w: RaftWrite): Promise<void> {
  for (const entry of w.entries) {
    await e.write({ snapshot: null, entries: [entry], hardState: null });
  }
  await e.write({ ...w, entries: [] });
}

/** A scenario: `old` written first (a row per entry), then `next` crashes somewhere. */
function raftSpec(
  old: RaftWrite,
  next: RaftWrite,
  check: (s: RaftState) => void,
): CrashSpec<DenoRaftEngine, RaftState> {
  return {
    open: (p: string, h: EngineHooks) => DenoRaftEngine.open(p, h),
    load: (e) => e.load(SEED),
    setup: (e) => writeRowPerEntry(e, old),
    act: (e) => e.write(next),
    check,
    inspect: inspectRaft,
  };
}

/** The log must be a prefix of `oldLog` or of `newLog`, keeping `keep`. */
function prefixOf(oldLog: Entry[], newLog: Entry[], keep: number) {
  return (s: RaftState) => {
    const n = s.entries.length;
    const isOld = s.entries.every((e, i) => eq(e, oldLog[i]));
    const isNew = s.entries.every((e, i) => eq(e, newLog[i]));
    assert.ok(isOld || isNew, `log of ${n} entries is a mix`);
    assert.ok(n >= keep, `log lost entries it had to keep: ${n}`);
    if (eq(s.hardState, NEW_HS)) assert.equal(n, newLog.length);
    else assert.deepEqual(s.hardState, OLD_HS);
  };
}

Deno.test("DenoRaftEngine: a crash while a suffix is replaced leaves the old or the new log", async () => {
  const oldLog = entries(1, 1500, 1).map(pad);
  // Big enough new entries that the new blocks need several commits too.
  const newLog = [...oldLog.slice(0, 999), ...entries(1000, 2600, 2).map(padMore)];
  const commits = await everyCrashPoint(raftSpec(
    { snapshot: null, entries: oldLog, hardState: OLD_HS },
    { snapshot: null, entries: newLog.slice(999), hardState: NEW_HS },
    prefixOf(oldLog, newLog, 999),
  ));
  assertSplit(commits, 3);
});

Deno.test("DenoRaftEngine: a crash while big entries replace big entries leaves no mix and no stray chunks", async () => {
  const big = (i: number, term: number): Entry => ({
    index: i,
    term,
    type: "normal",
    data: `${i}/${term}:` + bigText(1_100_000),
  });
  const oldLog = [...entries(1, 2, 1), big(3, 1), big(4, 1), ...entries(5, 6, 1)];
  const newLog = [...oldLog.slice(0, 3), big(4, 2), big(5, 2), big(6, 2), ...entries(7, 8, 2)];
  const commits = await everyCrashPoint(raftSpec(
    { snapshot: null, entries: oldLog, hardState: OLD_HS },
    { snapshot: null, entries: newLog.slice(3), hardState: NEW_HS },
    prefixOf(oldLog, newLog, 3),
  ));
  assertSplit(commits, 4);
});

Deno.test("DenoRaftEngine: a crash while a conflicting snapshot replaces a long log", async () => {
  const meta = { index: 2000, term: 2, confState: SEED.confState };
  const log = entries(1, 3000, 1).map(pad);
  const commits = await everyCrashPoint(raftSpec(
    { snapshot: null, entries: log, hardState: OLD_HS },
    { snapshot: meta, entries: [], hardState: NEW_HS },
    (s) => {
      if (s.snapshot.index === 0) {
        assert.ok(s.entries.every((e, i) => eq(e, log[i])));
        assert.ok(s.entries.length >= 900, "committed entries kept");
        assert.deepEqual(s.hardState, OLD_HS);
      } else {
        assert.deepEqual([s.snapshot, s.entries], [meta, []]);
      }
    },
  ));
  assertSplit(commits, 4);
});

Deno.test("DenoRaftEngine: a crash during compaction keeps a valid log", async () => {
  const log = entries(1, 3000, 1).map(pad);
  const meta = { index: 2500, term: 1, confState: SEED.confState };
  const commits = await everyCrashPoint({
    ...raftSpec(
      { snapshot: null, entries: log, hardState: OLD_HS },
      { snapshot: null, entries: [], hardState: null },
      (s) => {
        const from = s.snapshot.index;
        assert.ok(from === 0 || from === 2500);
        assert.deepEqual(s.entries, log.slice(from));
      },
    ),
    act: (e) => e.compact(meta),
  });
  assertSplit(commits, 3);
});
