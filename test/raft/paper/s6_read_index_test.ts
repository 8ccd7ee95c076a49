/**
 * Thesis §6.4 linearizable reads with ReadIndex: the leader records its
 * commit index, confirms it is still the leader with a heartbeat round to
 * a majority, and then the read may be served once applied that far.
 */
import assert from "node:assert/strict";
import { Network } from "../_util/network.ts";
import { makeLeader, Peer } from "../_util/peer.ts";
import { appResp, heartbeat, ofType } from "../_util/entries.ts";

function cluster(ids = ["a", "b", "c"], opts = {}): Network {
  const net = new Network(ids, { preVote: true, checkQuorum: true, ...opts });
  net.elect("a");
  assert.equal(net.leader(), "a");
  return net;
}

Deno.test("§6.4 a leader answers a read after a heartbeat round reaches a majority", () => {
  const net = cluster();
  const { index } = net.propose("a", "x");
  net.delivered = [];
  assert.equal(net.raw("a").readIndex("r1"), true);
  assert.deepEqual(net.node("a").readStates, [], "not before the round");
  net.stabilize();
  assert.deepEqual(net.node("a").readStates, [{ index, context: "r1" }]);
  const rounds = ofType(net.delivered, "heartbeat").filter((m) => m.context !== "");
  assert.deepEqual(rounds.map((m) => m.to), ["b", "c"]);
});

Deno.test("§6.4 one round confirms every read waiting for it", () => {
  const net = cluster();
  net.delivered = [];
  for (const ctx of ["r1", "r2", "r3"]) net.raw("a").readIndex(ctx);
  net.stabilize();
  assert.deepEqual(net.node("a").readStates.map((s) => s.context), ["r1", "r2", "r3"]);
  const rounds = ofType(net.delivered, "heartbeat").filter((m) => m.context !== "");
  assert.equal(rounds.length, 2, "one heartbeat per follower");
});

Deno.test("§6.4 a leader cut off from the majority never answers; a later round completes", () => {
  const net = cluster();
  net.isolate("a");
  net.raw("a").readIndex("r1");
  net.stabilize();
  assert.deepEqual(net.node("a").readStates, []);
  net.recover();
  net.tickAll(1); // the regular heartbeat carries the pending round
  assert.deepEqual(net.node("a").readStates.map((s) => s.context), ["r1"]);
});

Deno.test("§6.4 a new leader defers reads until it commits an entry of its term", () => {
  const p = new Peer("a", ["a", "b", "c"]);
  const msgs = makeLeader(p, ["b", "c"]);
  assert.equal(p.raw.readIndex("early"), true);
  const before = ofType(p.drain(), "heartbeat");
  assert.deepEqual(before, [], "no round yet: the commit index may be stale");
  assert.equal(p.status().committedInTerm, false);
  const app = ofType(msgs, "app")[0]!;
  p.step(appResp({ from: "b", to: "a", term: 1, index: app.index + app.entries.length }));
  const round = ofType(p.drain(), "heartbeat").filter((m) => m.context !== "");
  assert.equal(round.length, 2, "the round starts after the first commit");
  p.step({ type: "heartbeatResp", from: "c", to: "a", term: 1, context: round[0]!.context });
  p.drain();
  assert.deepEqual(p.readStates, [{ index: 1, context: "early" }]);
});

Deno.test("§6.4 a single voter is its own quorum and answers at once", () => {
  const net = new Network(["a"]);
  net.elect("a");
  const { index } = net.propose("a", "x");
  net.raw("a").readIndex("r");
  const rd = net.processReady("a");
  assert.deepEqual(rd?.readStates, [{ index, context: "r" }]);
});

Deno.test("§6.4 a follower forwards the read to the leader and receives the index", async (t) => {
  await t.step("voter", () => {
    const net = cluster();
    const { index } = net.propose("a", "x");
    assert.equal(net.raw("b").readIndex("rb"), true);
    const rd = net.processReady("b");
    assert.equal(rd?.persistedMessages[0]?.type, "readIndex");
    net.stabilize();
    assert.deepEqual(net.node("b").readStates, [{ index, context: "rb" }]);
    assert.deepEqual(net.node("a").readStates, [], "the leader keeps none of it");
  });
  await t.step("learner", () => {
    const net = cluster(["a", "b", "c"], { learners: ["l"] });
    const { index } = net.propose("a", "x");
    net.raw("l").readIndex("rl");
    net.stabilize();
    assert.deepEqual(net.node("l").readStates, [{ index, context: "rl" }]);
  });
});

Deno.test("§6.4 readIndex() is dropped when no leader is known", () => {
  const p = new Peer("b", ["a", "b", "c"]);
  assert.equal(p.raw.readIndex("r"), false);
  p.step(heartbeat({ from: "a", to: "b", term: 1 }));
  assert.equal(p.raw.readIndex("r"), true);
});

Deno.test("§6.4 a leader that steps down drops its pending reads", () => {
  const net = cluster();
  net.isolate("a");
  net.raw("a").readIndex("r1");
  net.stabilize();
  net.raw("a").step(heartbeat({ from: "b", to: "a", term: 9 }));
  net.recover();
  net.stabilize();
  net.tickAll(2);
  assert.deepEqual(net.node("a").readStates, []);
});
