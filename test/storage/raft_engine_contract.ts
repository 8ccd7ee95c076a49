/**
 * The RaftEngine contract, run against every implementation (the denokv
 * habit: one conformance suite, several backends).
 * @module
 */
import assert from "node:assert/strict";
import type { RaftEngine } from "../../src/storage/stores.ts";
import { bigText, entries, SEED } from "./helpers.ts";
import { type Harness, runContract } from "./helpers.ts";

/** Durable state an engine can be (re)opened on. */
export type RaftHarness = Harness<RaftEngine>;

/** Runs the contract as steps of `t`; `make` gives a fresh harness. */
export function raftEngineContract(
  t: Deno.TestContext,
  make: () => Promise<RaftHarness>,
): Promise<void> {
  return runContract(t, make, CASES);
}

/** Opens, loads with SEED, runs `fn`, closes. */
async function withEngine<T>(
  h: RaftHarness,
  fn: (e: RaftEngine) => Promise<T>,
): Promise<T> {
  const e = await h.open();
  try {
    await e.load(SEED);
    return await fn(e);
  } finally {
    e.close();
  }
}

async function reload(h: RaftHarness) {
  const e = await h.open();
  try {
    return await e.load(SEED);
  } finally {
    e.close();
  }
}

const HS = { term: 3, vote: "n2", commit: 7 };

const CASES: Record<string, (h: RaftHarness) => Promise<void>> = {
  "load() of a new dir returns the seed and persists it": async (h) => {
    const first = await reload(h);
    assert.deepEqual(first.snapshot, SEED);
    assert.deepEqual(first.hardState, { term: 0, vote: "", commit: 0 });
    assert.deepEqual(first.entries, []);
    const other = { ...SEED, confState: { voters: ["x"], learners: [] } };
    const e = await h.open();
    try {
      assert.deepEqual((await e.load(other)).snapshot, SEED);
    } finally {
      e.close();
    }
  },
  "write() appends entries and the hard state durably": async (h) => {
    await withEngine(h, async (e) => {
      await e.write({ snapshot: null, entries: entries(1, 5, 1), hardState: HS });
      await e.write({ snapshot: null, entries: entries(6, 8, 2), hardState: null });
    });
    const s = await reload(h);
    assert.deepEqual(s.entries, [...entries(1, 5, 1), ...entries(6, 8, 2)]);
    assert.deepEqual(s.hardState, HS);
  },
  "write() replaces the suffix from the first new entry": async (h) => {
    await withEngine(h, async (e) => {
      await e.write({ snapshot: null, entries: entries(1, 10, 1), hardState: null });
      await e.write({ snapshot: null, entries: entries(6, 7, 2), hardState: HS });
    });
    const s = await reload(h);
    assert.deepEqual(s.entries, [...entries(1, 5, 1), ...entries(6, 7, 2)]);
  },
  "write() rejects an append that leaves a gap": async (h) => {
    await withEngine(h, async (e) => {
      await e.write({ snapshot: null, entries: entries(1, 3, 1), hardState: null });
      await assert.rejects(
        e.write({ snapshot: null, entries: entries(5, 6, 1), hardState: null }),
        RangeError,
      );
    });
  },
  "compact() drops entries up to the meta and records it": async (h) => {
    const meta = { index: 5, term: 1, confState: SEED.confState };
    await withEngine(h, async (e) => {
      await e.write({ snapshot: null, entries: entries(1, 8, 1), hardState: HS });
      await e.compact(meta);
      await e.compact({ ...meta, index: 3 }); // stale: ignored
      await e.write({ snapshot: null, entries: entries(9, 9, 1), hardState: null });
    });
    const s = await reload(h);
    assert.deepEqual(s.snapshot, meta);
    assert.deepEqual(s.entries, entries(6, 9, 1));
  },
  "a snapshot keeps the log after it when the log holds its entry (§7)": async (h) => {
    const meta = { index: 4, term: 1, confState: SEED.confState };
    await withEngine(h, async (e) => {
      await e.write({ snapshot: null, entries: entries(1, 6, 1), hardState: null });
      await e.write({ snapshot: meta, entries: [], hardState: null });
    });
    const s = await reload(h);
    assert.deepEqual(s.snapshot, meta);
    assert.deepEqual(s.entries, entries(5, 6, 1));
  },
  "a snapshot discards a log that conflicts with it (§7)": async (h) => {
    const meta = { index: 4, term: 2, confState: SEED.confState };
    await withEngine(h, async (e) => {
      await e.write({ snapshot: null, entries: entries(1, 6, 1), hardState: null });
      await e.write({ snapshot: meta, entries: entries(5, 5, 2), hardState: HS });
    });
    const s = await reload(h);
    assert.deepEqual(s.snapshot, meta);
    assert.deepEqual(s.entries, entries(5, 5, 2));
    assert.deepEqual(s.hardState, HS);
  },
  "a snapshot beyond the log replaces it": async (h) => {
    const meta = { index: 50, term: 3, confState: { voters: ["a"], learners: ["b"] } };
    await withEngine(h, async (e) => {
      await e.write({ snapshot: null, entries: entries(1, 6, 1), hardState: null });
      await e.write({ snapshot: meta, entries: [], hardState: null });
      await e.write({ snapshot: null, entries: entries(51, 52, 3), hardState: null });
    });
    const s = await reload(h);
    assert.deepEqual(s.snapshot, meta);
    assert.deepEqual(s.entries, entries(51, 52, 3));
  },
  "a 1.1 MiB entry with non-ASCII data round-trips and truncates": async (h) => {
    const big = { index: 2, term: 1, type: "conf" as const, data: bigText(1_150_000) };
    await withEngine(h, async (e) => {
      await e.write({ snapshot: null, entries: [...entries(1, 1, 1), big], hardState: null });
    });
    assert.deepEqual((await reload(h)).entries[1], big);
    await withEngine(h, async (e) => {
      await e.write({ snapshot: null, entries: entries(2, 3, 2), hardState: null });
    });
    assert.deepEqual((await reload(h)).entries, [...entries(1, 1, 1), ...entries(2, 3, 2)]);
  },
  "a 5000-entry batch round-trips": async (h) => {
    const many = entries(1, 5000, 1).map((e) => ({ ...e, data: "x".repeat(100) + e.index }));
    await withEngine(h, async (e) => {
      await e.write({ snapshot: null, entries: many, hardState: HS });
      await e.write({ snapshot: null, entries: entries(10, 12, 2), hardState: null });
    });
    const s = await reload(h);
    assert.deepEqual(s.entries, [...many.slice(0, 9), ...entries(10, 12, 2)]);
  },
};
