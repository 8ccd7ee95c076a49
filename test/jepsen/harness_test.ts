import assert from "node:assert/strict";
import { checkDurability, FINAL_PROCESS, indexRegressions } from "./checks.ts";
import { writeFailure } from "./client.ts";
import { History } from "./history.ts";
import { cutLink, FAULT_KINDS, isolate, mute, planNemesis } from "./nemesis.ts";
import { Rng } from "./rng.ts";
import { Builder } from "./testing.ts";
import { checkBank } from "./workload_bank.ts";

Deno.test("nemesis plans", async (t) => {
  await t.step("the same seed gives the same schedule", () => {
    const a = planNemesis(new Rng(42), 20_000, FAULT_KINDS);
    const b = planNemesis(new Rng(42), 20_000, FAULT_KINDS);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, planNemesis(new Rng(43), 20_000, FAULT_KINDS));
  });

  await t.step("faults do not overlap and end before the load does", () => {
    for (let seed = 0; seed < 200; seed++) {
      const plan = planNemesis(new Rng(seed), 20_000, FAULT_KINDS);
      assert.ok(plan.length >= 3, `seed ${seed}: ${plan.length} faults`);
      let free = 0;
      for (const f of plan) {
        assert.ok(f.at >= free && f.duration > 0, `seed ${seed}`);
        free = f.at + f.duration;
      }
      assert.ok(free <= 19_000, `seed ${seed} ends at ${free}`);
    }
  });

  await t.step("every plan kills all nodes at least once", () => {
    for (let seed = 0; seed < 200; seed++) {
      const plan = planNemesis(new Rng(seed), 20_000, FAULT_KINDS);
      assert.ok(plan.some((f) => f.kind === "kill-all"), `seed ${seed}`);
    }
  });

  await t.step("only the kinds asked for", () => {
    const plan = planNemesis(new Rng(1), 20_000, ["pause-leader"]);
    assert.ok(plan.every((f) => f.kind === "pause-leader"));
    assert.deepEqual(planNemesis(new Rng(1), 20_000, []), []);
  });
});

Deno.test("partitions as send-drop lists", async (t) => {
  const all = ["n1", "n2", "n3"];
  await t.step("isolating a node cuts both directions", () => {
    assert.deepEqual(
      Object.fromEntries(isolate(["n2"], all)),
      { n2: ["n1", "n3"], n1: ["n2"], n3: ["n2"] },
    );
  });
  await t.step("cutting one link leaves the third node a bridge", () => {
    assert.deepEqual(Object.fromEntries(cutLink("n1", "n3")), {
      n1: ["n3"],
      n3: ["n1"],
    });
  });
  await t.step("muting a node is one-way", () => {
    assert.deepEqual(Object.fromEntries(mute("n1", all)), { n1: ["n2", "n3"] });
  });
});

Deno.test("answers map to outcomes as API.md §2 says", () => {
  const err = (status: number, code: string) => ({
    status,
    body: { error: { code, message: "" } },
  });
  assert.equal(writeFailure(err(400, "invalid_request")).status, "fail");
  assert.equal(writeFailure(err(503, "no_leader")).status, "fail");
  assert.equal(writeFailure(err(503, "unavailable")).status, "fail");
  assert.equal(writeFailure(err(503, "leadership_changed")).status, "info");
  assert.equal(writeFailure(err(504, "timeout")).status, "info");
  assert.equal(writeFailure(err(500, "internal")).status, "info");
  assert.equal(writeFailure({ error: "client timeout" }).status, "info");
  assert.equal(writeFailure({ error: "network: refused" }).status, "info");
});

Deno.test("history recording", async (t) => {
  let now = 0;
  const h = new History(() => now);
  await t.step("an ok op keeps its times and result", async () => {
    const op = await h.record({ process: 1, key: "k", f: "put", value: 1 }, () => {
      now = 5;
      return Promise.resolve({ status: "ok", result: { modIndex: 3 }, index: 3 });
    });
    assert.deepEqual([op.start, op.end, op.status, op.index], [0, 5, "ok", 3]);
  });
  await t.step("an unknown outcome never completes", async () => {
    const op = await h.record({ process: 1, key: "k", f: "delete" }, () => {
      now = 9;
      return Promise.resolve({ status: "info", error: "504 timeout" });
    });
    assert.equal(op.end, Infinity);
  });
  await t.step("a call that throws is recorded as unknown", async () => {
    const op = await h.record(
      { process: 2, key: "k", f: "put", value: 2 },
      () => Promise.reject(new Error("boom")),
    );
    assert.equal(op.status, "info");
    assert.match(op.error ?? "", /boom/);
  });
  await t.step("ops come out by invocation time with unique ids", () => {
    const ops = h.ops();
    assert.deepEqual(ops.map((o) => o.id), [0, 1, 2]);
  });
});

Deno.test("durability after crashes", async (t) => {
  await t.step("the final state holds the last acknowledged write", () => {
    const b = new Builder();
    b.put(1, [0, 1], { mod: 5 });
    b.put(2, [2, 3], { mod: 6 });
    b.get(2, [10, 11], { mod: 6, process: FINAL_PROCESS });
    assert.deepEqual(checkDurability(b.ops), []);
  });
  await t.step("an acknowledged write missing afterwards is lost", () => {
    const b = new Builder();
    b.put(1, [0, 1], { mod: 5 });
    b.put(2, [2, 3], { mod: 6 });
    b.get(1, [10, 11], { mod: 5, process: FINAL_PROCESS });
    const problems = checkDurability(b.ops);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? "", /acknowledged write lost: .*put\(k, 2\)/);
  });
  await t.step("a delete that may come later explains an absent key", () => {
    const b = new Builder();
    b.put(1, [0, 1], { mod: 5 });
    b.del([0.5]);
    b.get(undefined, [10, 11], { process: FINAL_PROCESS });
    assert.deepEqual(checkDurability(b.ops), []);
  });
});

Deno.test("index regressions are noticed", () => {
  const b = new Builder();
  b.put(1, [0, 1], { mod: 5, index: 5 });
  b.get(1, [2, 3], { mod: 5, index: 5 });
  assert.deepEqual(indexRegressions(b.ops), []);
  b.get(1, [4, 6], { mod: 5, index: 4, consistency: "lease" });
  b.get(1, [5, 7], { mod: 5, index: 3, consistency: "stale" });
  assert.equal(indexRegressions(b.ops).length, 1);
});

Deno.test("bank reads must add up", () => {
  const opening = { "bank/a0": 10, "bank/a1": 20 };
  const read = (consistency: "linearizable" | "stale", balances: Record<string, number>) => ({
    process: 1,
    node: "n1",
    consistency,
    start: 0,
    end: 1,
    ok: true,
    balances,
  });
  assert.deepEqual(checkBank([read("linearizable", { "bank/a0": 5, "bank/a1": 25 })], opening), []);
  assert.deepEqual(checkBank([read("stale", {})], opening), []);
  assert.equal(checkBank([read("linearizable", {})], opening).length, 1);
  assert.equal(checkBank([read("stale", { "bank/a0": 5, "bank/a1": 20 })], opening).length, 1);
  assert.equal(checkBank([read("stale", { "bank/a0": 10 })], opening).length, 1);
  assert.equal(checkBank([read("stale", { "bank/a0": -5, "bank/a1": 35 })], opening).length, 1);
});
