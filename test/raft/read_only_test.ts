import assert from "node:assert/strict";
import { ReadOnly } from "../../src/raft/read_only.ts";

Deno.test("ReadOnly: rounds confirm their reads and every earlier round", async (t) => {
  await t.step("a round carries all queued reads at one index", () => {
    const ro = new ReadOnly();
    ro.add({ context: "r1", from: "a" });
    ro.add({ context: "r2", from: "b" });
    const round = ro.startRound(7, "a");
    assert.equal(ro.hasUnsent(), false);
    assert.deepEqual(ro.recvAck("b", round), new Set(["a", "b"]));
    assert.deepEqual(ro.advance(round).map((r) => [r.context, r.index]), [["r1", 7], ["r2", 7]]);
    assert.equal(ro.pending, 0);
  });
  await t.step("acking a later round releases earlier ones too", () => {
    const ro = new ReadOnly();
    ro.add({ context: "r1", from: "a" });
    const first = ro.startRound(5, "a");
    ro.add({ context: "r2", from: "a" });
    const second = ro.startRound(6, "a");
    assert.equal(ro.lastRound(), second);
    assert.deepEqual(ro.advance(second).map((r) => r.context), ["r1", "r2"]);
    assert.equal(ro.recvAck("b", first), null, "acks of a finished round are ignored");
  });
  await t.step("unknown or malformed round ids are ignored", () => {
    const ro = new ReadOnly();
    for (const ctx of ["", "0", "x", "1e3", "-1"]) assert.equal(ro.recvAck("b", ctx), null, ctx);
  });
  await t.step("deferred reads wait until taken", () => {
    const ro = new ReadOnly();
    ro.defer({ context: "d", from: "a" });
    assert.equal(ro.pending, 1);
    assert.deepEqual(ro.takeDeferred().map((r) => r.context), ["d"]);
    assert.deepEqual(ro.takeDeferred(), []);
  });
  await t.step("reset() drops everything; round ids keep increasing", () => {
    const ro = new ReadOnly();
    ro.add({ context: "r1", from: "a" });
    const old = ro.startRound(1, "a");
    ro.reset();
    assert.equal(ro.pending, 0);
    ro.add({ context: "r2", from: "a" });
    assert.notEqual(ro.startRound(1, "a"), old);
    assert.equal(ro.recvAck("b", old), null);
  });
});
