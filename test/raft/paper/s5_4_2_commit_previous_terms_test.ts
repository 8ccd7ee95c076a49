/**
 * §5.4.2 Committing entries from previous terms: "Raft never commits log
 * entries from previous terms by counting replicas. Only log entries from
 * the leader's current term are committed by counting replicas" (Figure 8).
 */
import assert from "node:assert/strict";
import { makeLeader, Peer } from "../_util/peer.ts";
import { Network } from "../_util/network.ts";
import { appResp, log, ofType } from "../_util/entries.ts";

Deno.test("§5.4.2 a leader commits only by counting replicas of a current-term entry", async (t) => {
  // Leader log: terms 1 1 2 (from earlier terms); it is elected in term 3
  // and appends its no-op at index 4.
  const cases: { ackIndex: number; commit: number }[] = [
    { ackIndex: 1, commit: 0 },
    { ackIndex: 2, commit: 0 },
    { ackIndex: 3, commit: 0 },
    { ackIndex: 4, commit: 4 },
  ];
  for (const c of cases) {
    await t.step(`a majority stores index ${c.ackIndex}: commit ${c.commit}`, () => {
      const p = new Peer("a", ["a", "b", "c"], {
        entries: log(1, 1, 2),
        hardState: { term: 2, vote: "", commit: 0 },
      });
      makeLeader(p, ["b"]);
      assert.equal(p.status().term, 3);
      p.step(appResp({ from: "b", to: "a", term: 3, index: c.ackIndex }));
      p.drain();
      assert.equal(p.status().commit, c.commit);
    });
  }
});

Deno.test("§5.4.2 a new leader appends a no-op so earlier entries commit", () => {
  const p = new Peer("a", ["a", "b", "c"], {
    entries: log(1, 2),
    hardState: { term: 2, vote: "", commit: 0 },
  });
  const msgs = makeLeader(p, ["b"]);
  const noop = p.log().at(-1)!;
  assert.deepEqual([noop.index, noop.term, noop.type, noop.data], [3, 3, "normal", ""]);
  assert.ok(ofType(msgs, "app").every((m) => m.entries.at(-1)?.index === 3));
});

Deno.test("§5.4.2 Figure 8: an old-term entry commits only with a current-term entry", () => {
  const ids = ["s1", "s2", "s3", "s4", "s5"];
  const net = new Network(ids);
  // (a) s1 leads term 1; index 2 reaches s2 only.
  net.elect("s1");
  for (const id of ["s3", "s4", "s5"]) net.cut("s1", id);
  net.propose("s1", "x");
  // (b) s1 is gone; s5 wins term 2 with s3 and s4, but its entries go nowhere.
  net.recover();
  net.isolate("s1");
  net.drop((m) => m.from === "s5" && m.type === "app");
  net.elect("s5");
  assert.equal(net.raw("s5").status().role, "leader");
  assert.equal(net.raw("s5").status().term, 2);
  // (c) s5 is gone; s1 returns and wins term 3 (s3, s4 voted in term 2 already).
  net.recover();
  net.isolate("s5");
  net.restart("s1"); // it crashed: back as a follower of term 1
  net.elect("s1");
  if (net.raw("s1").status().role !== "leader") net.elect("s1");
  assert.equal(net.raw("s1").status().role, "leader");
  assert.equal(net.raw("s1").status().term, 3);
  const s1 = net.node("s1").storage;
  assert.equal(s1.entries(2, 3, Infinity)[0]?.data, "x");
  assert.equal(s1.term(net.raw("s1").status().commit), 3, "commit points at a term-3 entry");
  // (d) s5's uncommitted term-2 entry is overwritten when it rejoins.
  net.recover();
  net.tickAll(3); // heartbeats reach s5
  for (const id of ids) assert.deepEqual(net.appliedData(id), ["x"], id);
  assert.equal(net.node("s5").storage.term(2), 1);
});
