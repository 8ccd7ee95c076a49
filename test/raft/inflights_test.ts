import assert from "node:assert/strict";
import { Inflights } from "../../src/raft/inflights.ts";

Deno.test("Inflights bounds the MsgApps in flight", async (t) => {
  await t.step("add() fills up to capacity, then full()", () => {
    const w = new Inflights(3);
    w.add(1);
    w.add(4);
    assert.equal(w.full(), false);
    w.add(9);
    assert.equal(w.full(), true);
    assert.throws(() => w.add(10), RangeError);
  });
  await t.step("add() requires increasing indexes", () => {
    const w = new Inflights(3);
    w.add(5);
    assert.throws(() => w.add(5), RangeError);
  });
  await t.step("freeLE() frees every message acknowledged", () => {
    const w = new Inflights(10);
    for (const i of [2, 4, 6, 8]) w.add(i);
    w.freeLE(5);
    assert.equal(w.count, 2);
    w.freeLE(5);
    assert.equal(w.count, 2, "stale ack frees nothing more");
    w.freeLE(100);
    assert.equal(w.count, 0);
  });
  await t.step("reset() empties the window", () => {
    const w = new Inflights(1);
    w.add(1);
    w.reset();
    assert.equal(w.full(), false);
  });
});
