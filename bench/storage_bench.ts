/**
 * Raft engine commits per second on real Deno KV files: one `write()` of
 * 1, 16 or 128 entries of 100-byte commands plus the hard state (one
 * atomic commit, as a Ready of that size costs the leader).
 *
 *   deno bench --allow-read --allow-write --allow-env bench/storage_bench.ts
 *
 * Recorded on the dev VM (virtio disk, Deno 2.9.6, a busy host with load
 * average 9-12, so ranges over four runs): the cost is the fsync, not the
 * entry count.
 *
 * | raft write of      | avg/commit  | commits/s | entries/s       |
 * | ------------------ | ----------- | --------- | --------------- |
 * | 1 entry            | 2.5-6.9 ms  | 145-410   | 145-410         |
 * | 16 entries         | 3.1-10 ms   | 100-320   | 1.6k-5.1k       |
 * | 128 entries        | 3.9-6.9 ms  | 145-255   | 18.5k-32.5k     |
 * | data: 1 record     | 2.5-5.4 ms  | 185-400   |                 |
 * | data: 128 records  | 3.2-7.3 ms  | 135-315   |                 |
 * @module
 */
import { DenoRaftEngine } from "../src/storage/deno_raft_engine.ts";
import { DenoKvDataEngine } from "../src/storage/deno_kv_data_engine.ts";
import type { Entry } from "../src/raft/types.ts";
import type { KvRecord } from "../src/kv/types.ts";

const SEED = { index: 0, term: 0, confState: { voters: ["n1"], learners: [] } };
const DATA = JSON.stringify({ type: "put", key: "bench/key-000000", value: "x".repeat(50) })
  .padEnd(100, " ");

const dir = await Deno.makeTempDir({ prefix: "raftkv_bench_" });
const raft = await DenoRaftEngine.open(`${dir}/raft.kv`);
await raft.load(SEED);
const data = await DenoKvDataEngine.open(`${dir}/data.kv`);
await data.load();
let next = 1;

function batch(n: number): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ index: next + i, term: 1, type: "normal", data: DATA });
  }
  next += n;
  return out;
}

for (const size of [1, 16, 128]) {
  Deno.bench(`raft engine write, ${size} entries of 100 B`, {
    group: "raft",
    baseline: size === 1,
  }, async () => {
    const entries = batch(size);
    const commit = next - 1;
    await raft.write({ snapshot: null, entries, hardState: { term: 1, vote: "n1", commit } });
  });
}

let applied = 0;
for (const size of [1, 128]) {
  Deno.bench(`data engine write, ${size} records of 50 B`, { group: "data" }, async () => {
    applied++;
    const puts: KvRecord[] = [];
    for (let i = 0; i < size; i++) {
      puts.push({
        key: `bench/${i}`,
        value: JSON.stringify("x".repeat(48)),
        version: applied,
        createIndex: 1,
        modIndex: applied,
      });
    }
    await data.write({
      puts,
      deletes: [],
      appliedIndex: applied,
      appliedTerm: 1,
      membership: null,
    });
  });
}

globalThis.addEventListener("unload", () => {
  raft.close();
  data.close();
  Deno.removeSync(dir, { recursive: true });
});
