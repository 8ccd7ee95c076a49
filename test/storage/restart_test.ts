/**
 * Restart recovery end to end below the engine: the state machine applies
 * commands, each batch is drained into the kv engine next to its log
 * entries in the raft engine, the process "restarts", and loadNode() plus
 * KvStateMachine.load() give back the same state, which then keeps going.
 * @module
 */
import assert from "node:assert/strict";
import { decodeCommand, encodeCommand } from "../../src/kv/codec.ts";
import { KvStateMachine } from "../../src/kv/state_machine.ts";
import type { KvCommand } from "../../src/kv/types.ts";
import type { Entry } from "../../src/raft/types.ts";
import { DenoKvDataEngine } from "../../src/storage/deno_kv_data_engine.ts";
import { DenoRaftEngine } from "../../src/storage/deno_raft_engine.ts";
import { loadNode } from "../../src/storage/load.ts";
import {
  MemoryDataStore,
  MemoryKvDataEngine,
  MemoryRaftEngine,
  MemoryRaftStore,
} from "../../src/storage/memory_engines.ts";
import type { KvDataEngine, RaftEngine } from "../../src/storage/stores.ts";
import { MEMBERSHIP, SEED, tempDir } from "./helpers.ts";

/** Batch b of 50 commands: puts, overwrites, deletes, a range delete, a txn. */
function commands(b: number): KvCommand[] {
  const out: KvCommand[] = [];
  for (let i = 0; i < 50; i++) {
    const key = `k/${(b * 31 + i * 7) % 300}`;
    if (i % 10 === 3) out.push({ type: "delete", key });
    else if (i === 25) out.push({ type: "deleteRange", range: { start: "k/2", end: "k/21" } });
    else if (i === 40) {
      out.push({
        type: "txn",
        compare: [{ key, target: "exists", op: "==", value: true }],
        success: [{ op: "put", key: `${key}/t`, value: "true" }],
        failure: [],
      });
    } else out.push({ type: "put", key, value: JSON.stringify({ b, i, s: "é😀" }) });
  }
  return out;
}

/** Runs `batches` batches starting at log index `from`; returns the next index. */
async function run(
  sm: KvStateMachine,
  raft: RaftEngine,
  data: KvDataEngine,
  from: number,
  batches: number,
) {
  let index = from;
  for (let b = 0; b < batches; b++) {
    const entries: Entry[] = commands(b).map((c) => ({
      index: index++,
      term: 1,
      type: "normal",
      data: encodeCommand(c),
    }));
    await raft.write({
      snapshot: null,
      entries,
      hardState: { term: 1, vote: "n1", commit: index - 1 },
    });
    for (const e of entries) sm.apply(e.index, decodeCommand(e.data));
    const { puts, deletes } = sm.drain();
    await data.write({
      puts,
      deletes,
      appliedIndex: index - 1,
      appliedTerm: 1,
      membership: MEMBERSHIP,
    });
  }
  return index;
}

async function restartScenario(open: () => Promise<{ raft: RaftEngine; data: KvDataEngine }>) {
  const reference = new KvStateMachine();
  let e = await open();
  await loadNode({ ...e, seed: SEED });
  const next = await run(reference, e.raft, e.data, 1, 20);
  e.raft.close();
  e.data.close();
  e = await open();
  const loaded = await loadNode({ ...e, seed: SEED });
  const sm = new KvStateMachine();
  sm.load(loaded.data.records);
  assert.deepEqual([...sm.entries()], [...reference.entries()]);
  assert.equal(loaded.data.appliedIndex, next - 1);
  assert.equal(loaded.raft.entries.length, next - 1);
  assert.deepEqual(loaded.data.membership, MEMBERSHIP);
  await run(sm, e.raft, e.data, next, 3);
  e.raft.close();
  e.data.close();
  const scratch = { raft: new MemoryRaftEngine(), data: new MemoryKvDataEngine() };
  await loadNode({ ...scratch, seed: SEED });
  await scratch.raft.write({
    snapshot: { ...SEED, index: next - 1, term: 1 },
    entries: [],
    hardState: null,
  });
  await run(reference, scratch.raft, scratch.data, next, 3);
  assert.deepEqual([...sm.entries()], [...reference.entries()], "both go on alike");
}

Deno.test("restart recovers the state machine from Deno KV engines", async () => {
  const dir = await tempDir();
  try {
    await restartScenario(async () => ({
      raft: await DenoRaftEngine.open(`${dir.path}/raft.kv`),
      data: await DenoKvDataEngine.open(`${dir.path}/data.kv`),
    }));
  } finally {
    await dir.cleanup();
  }
});

Deno.test("restart recovers the state machine from memory engines", async () => {
  const rs = new MemoryRaftStore();
  const ds = new MemoryDataStore();
  await restartScenario(() =>
    Promise.resolve({ raft: new MemoryRaftEngine(rs), data: new MemoryKvDataEngine(ds) })
  );
});

Deno.test("memory engines with failWrites reject writes and keep their state", async () => {
  const rs = new MemoryRaftStore();
  const ds = new MemoryDataStore();
  const raft = new MemoryRaftEngine(rs);
  const data = new MemoryKvDataEngine(ds);
  await loadNode({ raft, data, seed: SEED });
  rs.failWrites = ds.failWrites = true;
  const entry: Entry = { index: 1, term: 1, type: "normal", data: "" };
  await assert.rejects(raft.write({ snapshot: null, entries: [entry], hardState: null }));
  await assert.rejects(
    data.write({ puts: [], deletes: [], appliedIndex: 1, appliedTerm: 1, membership: null }),
  );
  assert.deepEqual([rs.entries, ds.appliedIndex], [[], 0]);
});
