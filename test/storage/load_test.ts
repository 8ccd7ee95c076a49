import assert from "node:assert/strict";
import { loadNode, StorageMismatchError } from "../../src/storage/load.ts";
import {
  MemoryDataStore,
  MemoryKvDataEngine,
  MemoryRaftEngine,
  MemoryRaftStore,
} from "../../src/storage/memory_engines.ts";
import { DenoRaftEngine } from "../../src/storage/deno_raft_engine.ts";
import { DenoKvDataEngine } from "../../src/storage/deno_kv_data_engine.ts";
import { batches, entries, MEMBERSHIP, record, SEED, tempDir } from "./helpers.ts";

function engines() {
  const raftStore = new MemoryRaftStore();
  const dataStore = new MemoryDataStore();
  return {
    raftStore,
    dataStore,
    raft: new MemoryRaftEngine(raftStore),
    data: new MemoryKvDataEngine(dataStore),
  };
}

Deno.test("loadNode() on a new data dir gives the seed and empty data", async () => {
  const { raft, data } = engines();
  const n = await loadNode({ raft, data, seed: SEED });
  assert.deepEqual(n.raft, {
    hardState: { term: 0, vote: "", commit: 0 },
    snapshot: SEED,
    entries: [],
  });
  assert.deepEqual(n.data, { appliedIndex: 0, appliedTerm: 0, membership: null, records: [] });
});

Deno.test("loadNode() keeps a consistent log and clamps commit to the applied index", async () => {
  const { raft, data } = engines();
  await raft.load(SEED);
  await raft.write({
    snapshot: null,
    entries: entries(1, 10, 1),
    hardState: { term: 1, vote: "n1", commit: 4 },
  });
  await data.load();
  await data.write({
    puts: [record("a", 1, 6)],
    deletes: [],
    appliedIndex: 6,
    appliedTerm: 1,
    membership: null,
  });
  const n = await loadNode({ raft, data, seed: SEED });
  assert.equal(n.raft.entries.length, 10);
  assert.equal(n.raft.hardState.commit, 6);
  assert.equal(n.data.records.length, 1);
});

Deno.test("loadNode() adopts data's point when an install beat the log compaction", async (t) => {
  await t.step("data ahead of the log: the log is discarded", async () => {
    const { raft, data, raftStore } = engines();
    await raft.load(SEED);
    await raft.write({
      snapshot: null,
      entries: entries(1, 5, 1),
      hardState: { term: 2, vote: "n2", commit: 5 },
    });
    await data.load();
    await data.install(
      { appliedIndex: 40, appliedTerm: 3, membership: MEMBERSHIP },
      batches([record("a", 1, 40)], 1),
    );
    const n = await loadNode({ raft, data, seed: SEED });
    const snapshot = { index: 40, term: 3, confState: { voters: ["n1"], learners: ["n2"] } };
    assert.deepEqual(n.raft, {
      snapshot,
      entries: [],
      hardState: { term: 3, vote: "", commit: 40 },
    });
    assert.deepEqual(raftStore.snapshot, snapshot, "persisted");
    assert.deepEqual(raftStore.entries, []);
  });
  await t.step("same index, other term: the log is discarded", async () => {
    const { raft, data } = engines();
    await raft.load(SEED);
    await raft.write({
      snapshot: null,
      entries: entries(1, 8, 1),
      hardState: { term: 4, vote: "", commit: 3 },
    });
    await data.load();
    await data.install({ appliedIndex: 6, appliedTerm: 2, membership: MEMBERSHIP }, batches([], 1));
    const n = await loadNode({ raft, data, seed: SEED });
    assert.equal(n.raft.snapshot.index, 6);
    assert.deepEqual(n.raft.entries, []);
    assert.deepEqual(n.raft.hardState, { term: 4, vote: "", commit: 6 });
  });
});

Deno.test("loadNode() refuses data behind the log's compaction point", async () => {
  const { raft, data } = engines();
  await raft.load(SEED);
  await raft.write({ snapshot: null, entries: entries(1, 8, 1), hardState: null });
  await raft.compact({ index: 5, term: 1, confState: SEED.confState });
  await assert.rejects(loadNode({ raft, data, seed: SEED }), StorageMismatchError);
});

Deno.test("loadNode() refuses applied data over an empty raft log (raft.kv lost)", async () => {
  const { raft, data, dataStore } = engines();
  await data.load();
  await data.install({ appliedIndex: 6, appliedTerm: 2, membership: MEMBERSHIP }, batches([], 1));
  // A restart on the same data, with a brand-new raft engine.
  const after = new MemoryKvDataEngine(dataStore);
  await assert.rejects(
    loadNode({ raft, data: after, seed: SEED }),
    (e: Error) => e instanceof StorageMismatchError && /raft\.kv was lost/.test(e.message),
  );
});

Deno.test("loadNode() reconciles the Deno KV engines after a restart", async () => {
  const dir = await tempDir();
  try {
    const raft = await DenoRaftEngine.open(`${dir.path}/raft.kv`);
    const data = await DenoKvDataEngine.open(`${dir.path}/data.kv`);
    await raft.load(SEED);
    await raft.write({
      snapshot: null,
      entries: entries(1, 30, 1),
      hardState: { term: 1, vote: "n1", commit: 30 },
    });
    await data.load();
    await data.install(
      { appliedIndex: 90, appliedTerm: 2, membership: MEMBERSHIP },
      batches([record("k", 1, 90)], 1),
    );
    raft.close();
    data.close();
    for (let boot = 0; boot < 2; boot++) {
      const r = await DenoRaftEngine.open(`${dir.path}/raft.kv`);
      const d = await DenoKvDataEngine.open(`${dir.path}/data.kv`);
      try {
        const n = await loadNode({ raft: r, data: d, seed: SEED });
        assert.equal(n.raft.snapshot.index, 90);
        assert.deepEqual(n.raft.entries, []);
        assert.equal(n.raft.hardState.commit, 90);
        assert.equal(n.data.records.length, 1);
      } finally {
        r.close();
        d.close();
      }
    }
  } finally {
    await dir.cleanup();
  }
});
