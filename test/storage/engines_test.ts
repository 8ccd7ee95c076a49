/**
 * Runs the engine contracts against the memory engines and the Deno KV
 * engines (real files in temp dirs).
 * @module
 */
import { DenoRaftEngine } from "../../src/storage/deno_raft_engine.ts";
import { DenoKvDataEngine } from "../../src/storage/deno_kv_data_engine.ts";
import {
  MemoryDataStore,
  MemoryKvDataEngine,
  MemoryRaftEngine,
  MemoryRaftStore,
} from "../../src/storage/memory_engines.ts";
import { raftEngineContract } from "./raft_engine_contract.ts";
import { dataEngineContract } from "./data_engine_contract.ts";
import { tempDir } from "./helpers.ts";

Deno.test("MemoryRaftEngine meets the RaftEngine contract", async (t) => {
  await raftEngineContract(t, () => {
    const store = new MemoryRaftStore();
    return Promise.resolve({
      open: () => Promise.resolve(new MemoryRaftEngine(store)),
      cleanup: () => Promise.resolve(),
    });
  });
});

Deno.test("DenoRaftEngine meets the RaftEngine contract", async (t) => {
  await raftEngineContract(t, async () => {
    const dir = await tempDir();
    return {
      open: () => DenoRaftEngine.open(`${dir.path}/raft.kv`),
      cleanup: dir.cleanup,
    };
  });
});

Deno.test("MemoryKvDataEngine meets the KvDataEngine contract", async (t) => {
  await dataEngineContract(t, () => {
    const store = new MemoryDataStore();
    return Promise.resolve({
      open: () => Promise.resolve(new MemoryKvDataEngine(store)),
      cleanup: () => Promise.resolve(),
    });
  });
});

Deno.test("DenoKvDataEngine meets the KvDataEngine contract", async (t) => {
  await dataEngineContract(t, async () => {
    const dir = await tempDir();
    return {
      open: () => DenoKvDataEngine.open(`${dir.path}/data.kv`),
      cleanup: dir.cleanup,
    };
  });
});
