/**
 * The KvDataEngine contract, run against every implementation.
 * @module
 */
import assert from "node:assert/strict";
import type { KvRecord } from "../../src/kv/types.ts";
import type { DataState, KvDataEngine } from "../../src/storage/stores.ts";
import { batches, bigText, byKey, MEMBERSHIP, record } from "./helpers.ts";
import { type Harness, runContract } from "./helpers.ts";

/** Durable state an engine can be (re)opened on. */
export type DataHarness = Harness<KvDataEngine>;

/** Runs the contract as steps of `t`; `make` gives a fresh harness. */
export function dataEngineContract(
  t: Deno.TestContext,
  make: () => Promise<DataHarness>,
): Promise<void> {
  return runContract(t, make, CASES);
}

/** Opens, loads, runs `fn`, closes. */
export async function withData<T>(
  h: DataHarness,
  fn: (e: KvDataEngine, s: DataState) => Promise<T>,
): Promise<T> {
  const e = await h.open();
  try {
    return await fn(e, await e.load());
  } finally {
    e.close();
  }
}

/** A restart: the state a fresh engine loads. */
export function reloadData(h: DataHarness): Promise<DataState> {
  return withData(h, (_e, s) => Promise.resolve(s));
}

function write(
  e: KvDataEngine,
  applied: number,
  puts: KvRecord[],
  deletes: string[] = [],
) {
  return e.write({
    puts,
    deletes,
    appliedIndex: applied,
    appliedTerm: 2,
    membership: null,
  });
}

function many(n: number, mod: number, prefix = "k"): KvRecord[] {
  return Array.from(
    { length: n },
    (_, i) => record(`${prefix}${String(i).padStart(6, "0")}`, { i }, mod),
  );
}

const CASES: Record<string, (h: DataHarness) => Promise<void>> = {
  "load() of a new dir is empty with no membership": async (h) => {
    const s = await reloadData(h);
    assert.deepEqual(s, {
      appliedIndex: 0,
      appliedTerm: 0,
      membership: null,
      records: [],
    });
  },
  "write() persists records, applied index and membership": async (h) => {
    const a = record("a", 1, 3);
    const b = record("b/😀", "é", 4);
    await withData(h, async (e) => {
      await e.write({
        puts: [a, b],
        deletes: [],
        appliedIndex: 4,
        appliedTerm: 1,
        membership: MEMBERSHIP,
      });
      await write(e, 6, [{ ...a, value: "2", version: 2, modIndex: 6 }], ["b/😀"]);
    });
    const s = await reloadData(h);
    assert.deepEqual(s.records, [{ ...a, value: "2", version: 2, modIndex: 6 }]);
    assert.equal(s.appliedIndex, 6);
    assert.equal(s.appliedTerm, 2);
    assert.deepEqual(s.membership, MEMBERSHIP, "null membership keeps it");
  },
  "a 1 MiB value with non-ASCII and astral chars round-trips": async (h) => {
    const value = JSON.stringify(bigText(1024 * 1024 - 100));
    const big = { ...record("big", null, 5), value };
    await withData(h, (e) => write(e, 5, [big]));
    assert.deepEqual((await reloadData(h)).records, [big]);
    const small = { ...record("big", 1, 6), version: 2, createIndex: 5 };
    await withData(h, (e) => write(e, 6, [small]));
    assert.deepEqual((await reloadData(h)).records, [small]);
    await withData(h, (e) => write(e, 7, [{ ...big, modIndex: 7 }]));
    await withData(h, (e) => write(e, 8, [], ["big"]));
    assert.deepEqual((await reloadData(h)).records, []);
  },
  "big text with lone surrogates round-trips unchanged": async (h) => {
    const odd = { ...record("odd", null, 3), value: "\ud800".repeat(40_000) };
    await withData(h, (e) => write(e, 3, [odd]));
    assert.deepEqual((await reloadData(h)).records, [odd]);
  },
  "5000 puts in one write, then a delete of 3000 records": async (h) => {
    const recs = many(5000, 10);
    await withData(h, (e) => write(e, 10, recs));
    assert.deepEqual(byKey((await reloadData(h)).records), recs);
    const gone = recs.slice(1000, 4000).map((r) => r.key);
    await withData(h, (e) => write(e, 11, [], gone));
    const s = await reloadData(h);
    assert.deepEqual(byKey(s.records), [...recs.slice(0, 1000), ...recs.slice(4000)]);
    assert.equal(s.appliedIndex, 11);
  },
  "install() replaces the whole state with 100k records": async (h) => {
    await withData(h, (e) => write(e, 3, many(10, 3, "old")));
    const recs = many(100_000, 50);
    const state = { appliedIndex: 50, appliedTerm: 4, membership: MEMBERSHIP };
    await withData(h, (e) => e.install(state, batches(recs, 1000)));
    const s = await reloadData(h);
    assert.equal(s.records.length, 100_000);
    assert.deepEqual(byKey(s.records), recs);
    assert.deepEqual({ ...s, records: [] }, { ...state, records: [] });
  },
  "install() keeps big values, and writes continue on the new state": async (h) => {
    const big = { ...record("b", null, 9), value: JSON.stringify(bigText(200_000)) };
    await withData(h, (e) => write(e, 2, [{ ...big, modIndex: 2 }]));
    const state = { appliedIndex: 9, appliedTerm: 2, membership: null };
    await withData(h, async (e) => {
      await e.install(state, batches([big, record("c", 1, 9)], 1));
      await write(e, 10, [record("d", 1, 10)], ["c"]);
    });
    const s = await reloadData(h);
    assert.deepEqual(byKey(s.records), [big, record("d", 1, 10)]);
    assert.equal(s.appliedIndex, 10);
  },
};
