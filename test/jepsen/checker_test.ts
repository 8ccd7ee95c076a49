import assert from "node:assert/strict";
import { checkHistory, explain } from "./checker.ts";
import { Builder } from "./testing.ts";

const valid = (b: Builder) => checkHistory(b.ops, { budgetMs: 5000 }).valid;

Deno.test("register histories", async (t) => {
  await t.step("a sequential history is linearizable", () => {
    const b = new Builder();
    b.get(undefined, [0, 1]);
    b.put(1, [2, 3], { mod: 5 });
    b.get(1, [4, 5], { mod: 5 });
    b.put(2, [6, 7], { mod: 6 });
    b.get(2, [8, 9], { mod: 6 });
    b.del([10, 11], 1);
    b.get(undefined, [12, 13]);
    assert.equal(valid(b), true);
  });

  await t.step("a read concurrent with a write may see either value", () => {
    for (const seen of [1, 2]) {
      const b = new Builder();
      b.put(1, [0, 1], { mod: 5 });
      b.put(2, [2, 10], { mod: 6 });
      b.get(seen, [3, 4], { mod: seen === 1 ? 5 : 6 });
      assert.equal(valid(b), true, `reading ${seen}`);
    }
  });

  await t.step("once a concurrent write is seen, older reads are stale", () => {
    const b = new Builder();
    b.put(1, [0, 1], { mod: 5 });
    b.put(2, [2, 20], { mod: 6 });
    b.get(2, [3, 4], { mod: 6 });
    b.get(1, [5, 6], { mod: 5 });
    assert.equal(valid(b), false);
  });

  for (const consistency of ["linearizable", "lease"] as const) {
    await t.step(`a stale ${consistency} read is a violation`, () => {
      const b = new Builder();
      b.put(1, [0, 10], { mod: 5 });
      b.put(2, [20, 30], { mod: 6 });
      const stale = b.get(1, [40, 50], { mod: 5, consistency });
      const r = checkHistory(b.ops);
      assert.equal(r.valid, false);
      const k = r.keys[0];
      assert.equal(k?.blocker?.id, stale.id);
      assert.deepEqual(k?.states, ["2 (#1)"]);
      assert.match(explain(r), /cannot linearize #2/);
    });
  }

  await t.step("a stale read tells which value a modIndex holds (jepsen seed 812)", () => {
    // The put's answer was lost; only a stale read saw where it landed. A
    // cas on that modIndex is then a cas on its value, and it may succeed.
    const b = new Builder();
    b.put(1, [0, 10], { mod: 5 });
    b.put(2, [20]);
    b.get(2, [40, 50], { mod: 7, consistency: "stale" });
    b.cas({ target: "modIndex", value: 7 }, 3, [60, 70], { mod: 9 });
    b.get(3, [80, 90], { mod: 9 });
    assert.equal(valid(b), true);
  });

  await t.step("stale-consistency reads need only a written value", () => {
    const b = new Builder();
    b.put(1, [0, 10], { mod: 5 });
    b.put(2, [20, 30], { mod: 6 });
    b.get(1, [40, 50], { mod: 5, consistency: "stale" });
    b.get(undefined, [40, 50], { consistency: "stale" });
    assert.equal(valid(b), true);
    b.get(7, [60, 70], { mod: 9, consistency: "stale" });
    const r = checkHistory(b.ops);
    assert.equal(r.valid, false);
    assert.match(r.anomalies[0]?.message ?? "", /7, which no op wrote/);
  });

  await t.step("a lost acknowledged write is a violation", () => {
    const b = new Builder();
    b.put(1, [0, 10], { mod: 5 });
    b.get(undefined, [20, 30]);
    assert.equal(valid(b), false);
  });

  await t.step("an unknown write may appear later, and then stays", () => {
    const b = new Builder();
    b.put(1, [0, 10], { mod: 5 });
    b.put(2, [20]);
    b.get(1, [30, 40], { mod: 5 });
    b.get(2, [50, 60], { mod: 9 });
    b.get(2, [70, 80], { mod: 9 });
    assert.equal(valid(b), true);
    b.get(1, [90, 100], { mod: 5 });
    assert.equal(valid(b), false);
  });

  await t.step("an unknown write may never appear", () => {
    const b = new Builder();
    b.put(1, [0, 10], { mod: 5 });
    b.put(2, [20]);
    b.cas({ target: "value", value: 3 }, 4, [25]);
    b.del([26]);
    for (let t = 30; t < 200; t += 20) b.get(1, [t, t + 10], { mod: 5 });
    assert.equal(valid(b), true);
  });

  await t.step("an unknown write cannot take effect before it is invoked", () => {
    const b = new Builder();
    b.get(2, [0, 10], { mod: 3 });
    b.put(2, [20]);
    assert.equal(valid(b), false);
  });

  await t.step("a failed write that is read anyway is an anomaly", () => {
    const b = new Builder();
    b.put(1, [0, 10], { mod: 5 });
    b.put(2, [20, 30], { fail: true });
    b.get(2, [40, 50], { mod: 6 });
    const r = checkHistory(b.ops);
    assert.equal(r.valid, false);
    assert.match(r.anomalies[0]?.message ?? "", /answered as failed/);
    assert.equal(r.keys[0]?.result, "ok");
  });
});

Deno.test("compare-and-set semantics", async (t) => {
  await t.step("cas on value succeeds only when the value matches", () => {
    const b = new Builder();
    b.put(1, [0, 1], { mod: 5 });
    b.cas({ target: "value", value: 1 }, 2, [2, 3], { mod: 6 });
    b.cas({ target: "value", value: 1 }, 3, [4, 5], { ok: false });
    b.get(2, [6, 7], { mod: 6 });
    assert.equal(valid(b), true);
    b.cas({ target: "value", value: 1 }, 4, [8, 9], { mod: 7 });
    assert.equal(valid(b), false);
  });

  await t.step("a failed cas while the value matched is a violation", () => {
    const b = new Builder();
    b.put(1, [0, 1], { mod: 5 });
    b.cas({ target: "value", value: 1 }, 2, [2, 3], { ok: false });
    assert.equal(valid(b), false);
  });

  await t.step("an unknown write explains a failed cas", () => {
    const b = new Builder();
    b.put(1, [0, 1], { mod: 5 });
    b.put(9, [1.5]);
    b.cas({ target: "value", value: 1 }, 2, [2, 3], { ok: false });
    assert.equal(valid(b), true);
  });

  await t.step("cas on modIndex compares the record's modIndex", () => {
    const b = new Builder();
    b.put(1, [0, 1], { mod: 5 });
    b.get(1, [2, 3], { mod: 5 });
    b.cas({ target: "modIndex", value: 5 }, 2, [4, 5], { mod: 7 });
    b.cas({ target: "modIndex", value: 5 }, 3, [6, 7], { ok: false });
    b.get(2, [8, 9], { mod: 7 });
    assert.equal(valid(b), true);
    b.cas({ target: "modIndex", value: 5 }, 4, [10, 11], { mod: 8 });
    assert.equal(valid(b), false);
  });

  await t.step("cas on exists creates only absent keys", () => {
    const b = new Builder();
    b.cas({ target: "exists", value: false }, 1, [0, 1], { mod: 5 });
    b.cas({ target: "exists", value: false }, 2, [2, 3], { ok: false });
    b.del([4, 5], 1);
    b.del([6, 7], 0);
    b.cas({ target: "exists", value: false }, 3, [8, 9], { mod: 7 });
    assert.equal(valid(b), true);
    b.cas({ target: "exists", value: false }, 4, [10, 11], { mod: 8 });
    assert.equal(valid(b), false);
  });

  await t.step("an unknown cas takes effect only if its compare held", () => {
    const b = new Builder();
    b.put(1, [0, 1], { mod: 5 });
    b.cas({ target: "value", value: 7 }, 2, [2]);
    b.get(2, [3, 4], { mod: 6 });
    assert.equal(valid(b), false);
  });
});

Deno.test("modIndex consistency", async (t) => {
  await t.step("a value read at another modIndex than acked", () => {
    const b = new Builder();
    b.put(1, [0, 1], { mod: 5 });
    b.get(1, [2, 3], { mod: 6 });
    const r = checkHistory(b.ops);
    assert.equal(r.valid, false);
    assert.match(r.anomalies[0]?.message ?? "", /seen at modIndex 5 and 6/);
  });

  await t.step("writes must be linearized in modIndex order", () => {
    const b = new Builder();
    b.put(1, [0, 1], { mod: 9 });
    b.put(2, [2, 3], { mod: 8 });
    assert.equal(valid(b), false);
  });

  await t.step("a delete needs a record to delete", () => {
    const b = new Builder();
    b.del([0, 1], 1);
    assert.equal(valid(b), false);
  });
});

Deno.test("violations are explained by the smallest window", () => {
  const b = new Builder();
  let mod = 1;
  for (let i = 0; i < 200; i++) {
    b.put(i, [i * 10, i * 10 + 5], { mod: mod++, process: i % 3 });
    b.get(i, [i * 10 + 6, i * 10 + 9], { mod: mod - 1, process: 3 });
  }
  const bad = b.get(150, [2001, 2003], { mod: 151, process: 4 });
  const r = checkHistory(b.ops);
  assert.equal(r.valid, false);
  const k = r.keys[0];
  assert.equal(k?.blocker?.id, bad.id);
  assert.ok(k?.proof, "a window proof");
  assert.ok(k.proof.ops.length <= 6, `window of ${k.proof.ops.length} ops`);
  assert.match(explain(r), /no linearization of the \d ops overlapping/);
});

Deno.test("a search over its budget answers unknown", async (t) => {
  const b = new Builder();
  for (let i = 0; i < 3000; i++) {
    b.put(i, [i * 10, i * 10 + 5], { mod: i + 1 });
    b.get(i, [i * 10 + 6, i * 10 + 9], { mod: i + 1 });
  }
  await t.step("over its time budget", () => {
    const r = checkHistory(b.ops, { budgetMs: 0 });
    assert.equal(r.valid, "unknown");
    assert.equal(r.keys[0]?.result, "unknown");
    assert.match(explain(r), /UNKNOWN \(search budget exceeded\): key k/);
  });
  await t.step("over its configuration bound", () => {
    const r = checkHistory(b.ops, { maxConfigs: 100 });
    assert.equal(r.valid, "unknown");
  });
  await t.step("and within them, an answer", () => {
    assert.equal(checkHistory(b.ops).valid, true);
  });
});

Deno.test("a violation explained by a write answered as failed says so", () => {
  const b = new Builder();
  b.put(1, [0, 1], { mod: 5 });
  const gone = b.del([2, 3], 1, { fail: true });
  b.cas({ target: "exists", value: false }, 2, [4, 5], { mod: 7 });
  const r = checkHistory(b.ops);
  assert.equal(r.valid, false);
  assert.deepEqual(r.keys[0]?.failedMayExplain?.map((o) => o.id), [gone.id]);
  assert.match(explain(r), /linearizable if writes answered as failed took effect/);
});
