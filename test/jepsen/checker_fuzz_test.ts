import assert from "node:assert/strict";
import { bruteLinearizable } from "./brute.ts";
import { checkHistory, explain } from "./checker.ts";
import type { Op } from "./history.ts";
import { Rng } from "./rng.ts";
import { simulate } from "./sim_register.ts";
import { proveByWindow } from "./window.ts";

/** Changes one ok op's result to something plausible but maybe wrong. */
function perturb(ops: Op[], rng: Rng): Op[] {
  const oks = ops.filter((o) => o.status === "ok");
  if (oks.length === 0) return ops;
  const victim = rng.pick(oks);
  const writes = ops.filter((o) => o.f === "put" || o.f === "cas");
  const mod = rng.int(1, ops.length + 2);
  let result: Op["result"];
  switch (victim.f) {
    case "get": {
      const w = writes.length > 0 && rng.chance(0.8) ? rng.pick(writes) : null;
      result = w && "value" in w
        ? { found: true, value: w.value, modIndex: modOf(w, ops) ?? mod }
        : { found: false };
      break;
    }
    case "put":
      result = { modIndex: mod };
      break;
    case "cas":
      result = victim.result?.succeeded ? { succeeded: false } : { succeeded: true, modIndex: mod };
      break;
    case "delete":
      result = { deleted: victim.result?.deleted === 1 ? 0 : 1 };
  }
  return ops.map((o) => o.id === victim.id ? { ...o, result } as Op : o);
}

function modOf(w: Op, ops: readonly Op[]): number | undefined {
  if (w.f === "put" && w.result) return w.result.modIndex;
  if (w.f === "cas" && w.result?.modIndex) return w.result.modIndex;
  const v = "value" in w ? JSON.stringify(w.value) : "";
  for (const r of ops) {
    if (r.f === "get" && r.result?.found && JSON.stringify(r.result.value) === v) {
      return r.result.modIndex;
    }
  }
  return undefined;
}

Deno.test("the checker agrees with brute force on small histories", () => {
  let violations = 0;
  for (let seed = 1; seed <= 3000; seed++) {
    const rng = new Rng(seed);
    let ops = simulate({
      seed,
      ops: rng.int(2, 11),
      keys: 1,
      clients: rng.int(1, 4),
      infoRate: rng.pick([0, 0.2, 0.5]),
      slowRate: 0.3,
    });
    for (let n = rng.int(0, 2); n > 0; n--) ops = perturb(ops, rng);
    const want = bruteLinearizable(ops);
    const got = checkHistory(ops).valid;
    if (!want) violations++;
    assert.equal(
      got,
      want,
      `seed ${seed}: brute force says ${want}\n${explain(checkHistory(ops))}\n` +
        JSON.stringify(ops, null, 1),
    );
  }
  assert.ok(violations > 500, `only ${violations} violations generated`);
});

Deno.test("window proofs never convict a linearizable history", () => {
  let proofs = 0;
  for (let seed = 1; seed <= 600; seed++) {
    const rng = new Rng(seed * 7919);
    let ops = simulate({
      seed,
      ops: rng.int(2, 14),
      keys: 1,
      clients: rng.int(1, 5),
      infoRate: rng.pick([0, 0.2, 0.5]),
      slowRate: 0.3,
    }).filter((o) => o.f !== "get" || o.status === "ok");
    for (let n = rng.int(0, 2); n > 0; n--) ops = perturb(ops, rng);
    const linearizable = bruteLinearizable(ops);
    for (const b of ops.filter((o) => o.status === "ok")) {
      const proof = proveByWindow(ops, b, 1000);
      assert.ok(!proof || !linearizable, `seed ${seed}, blocker #${b.id}`);
      if (proof) proofs++;
    }
  }
  assert.ok(proofs > 100, `only ${proofs} proofs`);
});

Deno.test("20k ops over 5 keys with 10% unknown outcomes", async (t) => {
  const ops = simulate({
    seed: 7,
    ops: 20_000,
    keys: 5,
    clients: 10,
    infoRate: 0.1,
  });
  await t.step("a linearizable history passes quickly", () => {
    const t0 = performance.now();
    const r = checkHistory(ops, { budgetMs: 10_000 });
    assert.equal(r.valid, true, explain(r));
    assert.ok(performance.now() - t0 < 10_000);
  });
  await t.step("one stale read in it is found and explained", () => {
    const reads = ops.filter((o) =>
      o.f === "get" && o.status === "ok" && o.result?.found && o.key === "k2"
    );
    const late = reads[Math.floor(reads.length * 0.8)] as Op;
    const old = reads[Math.floor(reads.length * 0.5)] as Op;
    assert.notDeepEqual(old.result, late.result);
    const bad = { ...late, result: old.result } as Op;
    const r = checkHistory(ops.map((o) => o.id === late.id ? bad : o), {
      budgetMs: 10_000,
    });
    assert.equal(r.valid, false);
    const k = r.keys.find((k) => k.result === "violation");
    assert.equal(k?.blocker?.id, late.id);
    assert.ok(k?.proof && k.proof.ops.length < 200, explain(r));
  });
});
