/**
 * Crashes between the commits of a split write: for every commit number n
 * of a big write, fail commit n (the `beforeCommit` hook throws, as a
 * process killed there would leave the disk), reopen and check that load()
 * gives the old state or the new one, never a mix.
 * @module
 */
import assert from "node:assert/strict";
import type { Entry } from "../../src/raft/types.ts";
import type { KvRecord } from "../../src/kv/types.ts";
import type { EngineHooks } from "../../src/storage/committer.ts";
import { DenoRaftEngine } from "../../src/storage/deno_raft_engine.ts";
import { DenoKvDataEngine } from "../../src/storage/deno_kv_data_engine.ts";
import type { DataState, RaftState } from "../../src/storage/stores.ts";
import { batches, bigText, byKey, entries, record, SEED, tempDir } from "./helpers.ts";

class Crash extends Error {}

/** Hooks that throw before commit `n` (never when n is 0). */
function crashAt(n: number): EngineHooks {
  return {
    beforeCommit: (i) => {
      if (i === n) throw new Crash(`crash before commit ${i}`);
    },
  };
}

/**
 * For n = 1, 2, ...: runs `setup` on a fresh dir, then `act` with a crash
 * at commit n, then `check` on what a reopen loads; stops once `act`
 * completes without reaching commit n. Returns how many commits `act` took.
 */
async function everyCrashPoint<S>(
  open: (path: string, hooks: EngineHooks) => Promise<{ close(): void }>,
  load: (e: never) => Promise<S>,
  setup: (e: never) => Promise<void>,
  act: (e: never) => Promise<void>,
  check: (s: S, crashed: boolean) => void,
): Promise<number> {
  for (let n = 1;; n++) {
    const dir = await tempDir();
    try {
      const path = `${dir.path}/x.kv`;
      const a = await open(path, {});
      await load(a as never);
      await setup(a as never);
      a.close();
      const b = await open(path, crashAt(n));
      let crashed = false;
      try {
        await load(b as never);
        await act(b as never);
      } catch (e) {
        if (!(e instanceof Crash)) throw e;
        crashed = true;
      } finally {
        b.close();
      }
      const c = await open(path, {});
      try {
        check(await load(c as never), crashed);
      } finally {
        c.close();
      }
      if (!crashed) return n - 1;
    } finally {
      await dir.cleanup();
    }
  }
}

const pad = (e: Entry): Entry => ({ ...e, data: e.data + "#".repeat(300) });
const OLD_HS = { term: 1, vote: "n1", commit: 900 };
const NEW_HS = { term: 2, vote: "n2", commit: 950 };

/** The log must be old[..j] or old[..999] + new[1000..j]. */
function checkRaftPrefix(s: RaftState, oldLog: Entry[], newLog: Entry[]) {
  const n = s.entries.length;
  const isOld = s.entries.every((e, i) => e === oldLog[i] || eq(e, oldLog[i]));
  const isNew = s.entries.every((e, i) => eq(e, newLog[i]));
  assert.ok(isOld || isNew, `log of ${n} entries is a mix`);
  assert.ok(n >= 999, `log lost committed entries: ${n}`);
  if (eq(s.hardState, NEW_HS)) assert.equal(n, newLog.length);
  else assert.deepEqual(s.hardState, OLD_HS);
}

function eq(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const openRaft = (p: string, h: EngineHooks) => DenoRaftEngine.open(p, h);
const loadRaft = (e: DenoRaftEngine) => e.load(SEED);

Deno.test("DenoRaftEngine: a crash between split commits leaves the old or the new log", async (t) => {
  const oldLog = entries(1, 1500, 1).map(pad);
  const newLog = [...oldLog.slice(0, 999), ...entries(1000, 2600, 2).map(pad)];
  await t.step("suffix replaced by a longer one", async () => {
    const commits = await everyCrashPoint(
      openRaft,
      loadRaft,
      (e: DenoRaftEngine) => e.write({ snapshot: null, entries: oldLog, hardState: OLD_HS }),
      (e: DenoRaftEngine) =>
        e.write({ snapshot: null, entries: newLog.slice(999), hardState: NEW_HS }),
      (s: RaftState) => checkRaftPrefix(s, oldLog, newLog),
    );
    assert.ok(commits >= 3, `split into ${commits} commits`);
  });
  await t.step("a conflicting snapshot over a long log", async () => {
    const meta = { index: 2000, term: 2, confState: SEED.confState };
    const log = entries(1, 3000, 1).map(pad);
    const commits = await everyCrashPoint(
      openRaft,
      loadRaft,
      (e: DenoRaftEngine) => e.write({ snapshot: null, entries: log, hardState: OLD_HS }),
      (e: DenoRaftEngine) => e.write({ snapshot: meta, entries: [], hardState: NEW_HS }),
      (s: RaftState) => {
        if (s.snapshot.index === 0) {
          assert.ok(s.entries.every((e, i) => eq(e, log[i])) && s.entries.length >= 900);
          assert.deepEqual(s.hardState, OLD_HS);
        } else {
          assert.deepEqual([s.snapshot, s.entries], [meta, []]);
        }
      },
    );
    assert.ok(commits >= 4, `split into ${commits} commits`);
  });
});

const openData = (p: string, h: EngineHooks) => DenoKvDataEngine.open(p, h);
const loadData = (e: DenoKvDataEngine) => e.load();

function dataCheck(
  oldRecs: KvRecord[],
  newRecs: KvRecord[],
  oldApplied: number,
  newApplied: number,
) {
  const seen = { oldAfterCrash: 0, newAfterCrash: 0 };
  const check = (s: DataState, crashed: boolean) => {
    if (crashed && s.appliedIndex === oldApplied) seen.oldAfterCrash++;
    if (crashed && s.appliedIndex === newApplied) seen.newAfterCrash++;
    const want = s.appliedIndex === oldApplied ? oldRecs : newRecs;
    assert.ok(s.appliedIndex === oldApplied || s.appliedIndex === newApplied);
    const got = byKey(s.records);
    assert.equal(got.length, want.length, `applied ${s.appliedIndex}`);
    assert.ok(eq(got, byKey(want)), `records match applied ${s.appliedIndex}`);
  };
  return { check, seen };
}

/** Crashes before the marker keep the old state; after it, the new one. */
function assertBothOutcomes(seen: { oldAfterCrash: number; newAfterCrash: number }) {
  assert.ok(seen.oldAfterCrash > 0, "some crash kept the old state");
  assert.ok(seen.newAfterCrash > 0, "some crash was replayed to the new state");
}

function recs(n: number, mod: number, from = 0): KvRecord[] {
  return Array.from(
    { length: n },
    (_, i) => record(`k${String(from + i).padStart(6, "0")}`, { mod, i: from + i }, mod),
  );
}

/** A DataWrite of term 1. */
function dw(puts: KvRecord[], deletes: string[], appliedIndex: number) {
  return { puts, deletes, appliedIndex, appliedTerm: 1, membership: null };
}

const bigRecord = (key: string, mod: number, bytes: number) => ({
  ...record(key, null, mod),
  value: JSON.stringify(bigText(bytes)),
});

Deno.test("DenoKvDataEngine: a crash in a 5000-put write with 1 MiB values keeps old or new state", async () => {
  const oldRecs = [...recs(1000, 10), bigRecord("big0", 10, 300_000)];
  const bigs = [1, 2, 3].map((i) => bigRecord(`big${i}`, 11, 1_000_000));
  const changed = { ...oldRecs[1000]!, value: "0", version: 2, modIndex: 11 };
  const puts = [...recs(5000, 11), ...bigs, changed];
  const v = dataCheck(oldRecs, puts, 10, 11);
  const commits = await everyCrashPoint(
    openData,
    loadData,
    (e: DenoKvDataEngine) => e.write(dw(oldRecs, [], 10)),
    (e: DenoKvDataEngine) => e.write(dw(puts, [], 11)),
    v.check,
  );
  assertBothOutcomes(v.seen);
  assert.ok(commits >= 6, `split into ${commits} commits`);
});

Deno.test("DenoKvDataEngine: a crash in a delete of 3000 records keeps old or new state", async () => {
  const v = dataCheck(recs(4000, 10), recs(1000, 10, 3000), 10, 11);
  const gone = recs(3000, 0).map((r) => r.key);
  const commits = await everyCrashPoint(
    openData,
    loadData,
    (e: DenoKvDataEngine) => e.write(dw(recs(4000, 10), [], 10)),
    (e: DenoKvDataEngine) => e.write(dw([], gone, 11)),
    v.check,
  );
  assertBothOutcomes(v.seen);
  assert.ok(commits >= 4, `split into ${commits} commits`);
});

Deno.test("DenoKvDataEngine: a crash during install keeps old or new state", async () => {
  const oldRecs = recs(2000, 10);
  const newRecs = [...recs(6000, 50, 1000), bigRecord("big", 50, 200_000)];
  const state = { appliedIndex: 50, appliedTerm: 3, membership: null };
  const v = dataCheck(oldRecs, newRecs, 10, 50);
  const commits = await everyCrashPoint(
    openData,
    loadData,
    (e: DenoKvDataEngine) => e.write(dw(oldRecs, [], 10)),
    (e: DenoKvDataEngine) => e.install(state, batches(newRecs, 500)),
    v.check,
  );
  assertBothOutcomes(v.seen);
  assert.ok(commits >= 8, `install took ${commits} commits`);
});
