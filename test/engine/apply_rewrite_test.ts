/**
 * The apply loop compacts a log-structured kv engine: once data.kv's
 * segments outgrow the data, the next flush hands it the whole state.
 */
import assert from "node:assert/strict";
import { ApplyFsm } from "../../src/engine/apply_fsm.ts";
import { encodeCommand } from "../../src/kv/codec.ts";
import { KvStateMachine } from "../../src/kv/state_machine.ts";
import type { Entry } from "../../src/raft/types.ts";
import { DenoKvDataEngine } from "../../src/storage/deno_kv_data_engine.ts";
import { createNodeMetrics } from "../../src/telemetry/node_metrics.ts";
import { rawEntries } from "../storage/crash_harness.ts";
import { loadData, withDataKv } from "../storage/helpers.ts";

const membership = { voters: [{ id: "n1", url: "http://127.0.0.1:1" }], learners: [] };
const put = (index: number, key: string): Entry => ({
  index,
  term: 1,
  type: "normal",
  data: encodeCommand({ type: "put", key, value: JSON.stringify({ index }) }),
});

Deno.test("ApplyFsm rewrites data.kv into a new generation once segments outgrow the data", () =>
  withDataKv(async (path) => {
    const data = await DenoKvDataEngine.open(path, {}, { rewriteSlack: 5_000 });
    await data.load();
    const sm = new KvStateMachine();
    const observer = { applied() {}, advanced() {} };
    const fsm = new ApplyFsm(sm, data, observer, createNodeMetrics(), 0, 0, membership);
    // Twenty keys written over and over: the segments grow, the data does not.
    for (let i = 1; i <= 400; i++) {
      fsm.enqueue([put(i, `k${i % 20}`)]);
      if (i % 10 === 0) await fsm.flush();
    }
    await fsm.flush();
    assert.equal(fsm.durableIndex, 400);
    data.close();
    const gens = new Set(
      (await rawEntries(path)).filter((k) => k.key[2] === "s").map((k) => k.key[3]),
    );
    assert.equal(gens.size, 1, "one generation left");
    assert.ok(Number([...gens][0]) > 0, "at least one rewrite happened");
    const loaded = await loadData(path);
    assert.equal(loaded.appliedIndex, 400);
    assert.deepEqual(loaded.membership, membership);
    assert.deepEqual(loaded.records, [...sm.entries()]);
  }));
