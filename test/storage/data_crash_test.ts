import assert from "node:assert/strict";
import type { KvRecord } from "../../src/kv/types.ts";
import type { EngineHooks } from "../../src/storage/committer.ts";
import { DenoKvDataEngine } from "../../src/storage/deno_kv_data_engine.ts";
import type { DataState } from "../../src/storage/stores.ts";
import { assertSplit, type CrashSpec, eq, everyCrashPoint } from "./crash_harness.ts";
import { batches, bigText, byKey, record } from "./helpers.ts";

/**
 * data.kv holds the loaded state only: no redo, no rows of the older
 * layout, and segments of the meta's generation below its count.
 */
function inspectData(keys: Deno.KvEntry<unknown>[], _s: DataState): void {
  assert.equal(keys.filter((k) => k.key[2] === "redo").length, 0, "no redo");
  assert.equal(keys.filter((k) => k.key[2] === "r" || k.key[2] === "c").length, 0, "no old rows");
  const meta = keys.find((k) => k.key[2] === "meta")?.value as
    | { gen: number; segs: number }
    | undefined;
  for (const { key } of keys.filter((k) => k.key[2] === "s")) {
    assert.equal(key[3], meta?.gen, "segment of the current generation");
    assert.ok((key[4] as number) < meta!.segs, "segment the meta counts");
  }
}

/** Outcomes seen after crashes (only an install's switch commit splits them). */
interface Seen {
  old: number;
  new: number;
}

/** A scenario: `setup`, then `act` crashes; state is old or new. */
function dataSpec(
  want: { old: KvRecord[]; oldApplied: number; new: KvRecord[]; newApplied: number },
  setup: (e: DenoKvDataEngine) => Promise<void>,
  act: (e: DenoKvDataEngine) => Promise<void>,
  seen: Seen,
): CrashSpec<DenoKvDataEngine, DataState> {
  return {
    open: (p: string, h: EngineHooks) => DenoKvDataEngine.open(p, h),
    load: (e) => e.load(),
    setup,
    act,
    check: (s, crashed) => {
      const isOld = s.appliedIndex === want.oldApplied;
      assert.ok(isOld || s.appliedIndex === want.newApplied);
      if (crashed) seen[isOld ? "old" : "new"]++;
      const records = byKey(isOld ? want.old : want.new);
      assert.ok(eq(byKey(s.records), records), `records of ${s.appliedIndex}`);
    },
    inspect: inspectData,
  };
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
  const old = [...recs(1000, 10), bigRecord("big0", 10, 300_000), bigRecord("big1", 10, 100_000)];
  const bigs = [1, 2, 3].map((i) => bigRecord(`big${i}`, 11, 1_000_000));
  const changed = { ...old[1000]!, value: "0", version: 2, modIndex: 11 };
  const puts = [...recs(5000, 11), ...bigs, changed];
  const seen = { old: 0, new: 0 };
  const commits = await everyCrashPoint(dataSpec(
    { old, oldApplied: 10, new: puts, newApplied: 11 },
    (e) => e.write(dw(old, [], 10)),
    (e) => e.write(dw(puts, [], 11)),
    seen,
  ));
  // The meta that counts the segment is the last commit: any crash before it keeps the old state.
  assert.ok(seen.old > 0 && seen.new === 0, "a crash leaves the old state");
  assertSplit(commits, 6);
});

Deno.test("DenoKvDataEngine: a delete of 3000 records is one commit, and a crash keeps the old state", async () => {
  const seen = { old: 0, new: 0 };
  const old = [...recs(4000, 10), bigRecord("k000001x", 10, 200_000)];
  const gone = [...recs(3000, 0).map((r) => r.key), "k000001x"];
  const commits = await everyCrashPoint(dataSpec(
    { old, oldApplied: 10, new: recs(1000, 10, 3000), newApplied: 11 },
    (e) => e.write(dw(old, [], 10)),
    (e) => e.write(dw([], gone, 11)),
    seen,
  ));
  assert.ok(seen.old > 0 && seen.new === 0, "a crash leaves the old state");
  assertSplit(commits, 1);
});

Deno.test("DenoKvDataEngine: a crash during install keeps old or new state", async () => {
  const old = [...recs(2000, 10), bigRecord("big", 10, 100_000)];
  const next = [...recs(6000, 50, 1000), bigRecord("big", 50, 200_000)];
  const state = { appliedIndex: 50, appliedTerm: 3, membership: null };
  const seen = { old: 0, new: 0 };
  const commits = await everyCrashPoint(dataSpec(
    { old, oldApplied: 10, new: next, newApplied: 50 },
    (e) => e.write(dw(old, [], 10)),
    (e) => e.install(state, batches(next, 500)),
    seen,
  ));
  assert.ok(seen.old > 0 && seen.new > 0, "crashes on both sides of the switch");
  assertSplit(commits, 3);
});
