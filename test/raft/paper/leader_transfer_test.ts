/**
 * Thesis §3.10 leadership transfer: the leader brings the target up to date,
 * sends it MsgTimeoutNow, and the target campaigns at once (skipping
 * pre-vote and leader stickiness). Proposals are dropped meanwhile; the
 * transfer aborts after an election timeout.
 */
import assert from "node:assert/strict";
import { ProposalDroppedError } from "../../../src/raft/mod.ts";
import { Network } from "../_util/network.ts";
import { ofType } from "../_util/entries.ts";

function cluster(opts = {}): Network {
  const net = new Network(["a", "b", "c"], { preVote: true, checkQuorum: true, ...opts });
  net.elect("a");
  net.propose("a", "x");
  return net;
}

Deno.test("§3.10 transfer to an up-to-date voter: it campaigns at once and wins", () => {
  const net = cluster();
  const term = net.raw("a").status().term;
  net.delivered = [];
  net.raw("a").transferLeader("b");
  net.stabilize();
  assert.equal(net.leader(), "b");
  assert.equal(net.raw("b").status().term, term + 1);
  assert.equal(ofType(net.delivered, "timeoutNow").length, 1);
  assert.deepEqual(ofType(net.delivered, "preVote"), [], "no pre-vote");
  const votes = ofType(net.delivered, "vote");
  assert.ok(votes.length > 0 && votes.every((m) => m.transfer), "votes carry the transfer flag");
  assert.equal(net.raw("a").status().role, "follower");
});

Deno.test("§3.10 a lagging target is caught up before MsgTimeoutNow", () => {
  const net = cluster();
  net.cut("a", "c");
  for (let i = 0; i < 3; i++) net.propose("a", `y${i}`);
  net.recover();
  net.delivered = [];
  net.raw("a").transferLeader("c");
  net.stabilize();
  assert.equal(net.leader(), "c");
  const firstTimeoutNow = net.delivered.findIndex((m) => m.type === "timeoutNow");
  const lastAppToC = net.delivered.findLastIndex((m) =>
    m.type === "app" && m.to === "c" && m.entries.length > 0
  );
  assert.ok(lastAppToC >= 0 && lastAppToC < firstTimeoutNow, "append first, then timeoutNow");
  assert.deepEqual(net.appliedData("c"), ["x", "y0", "y1", "y2"]);
});

Deno.test("§3.10 proposals are dropped while a transfer is in progress", () => {
  const net = cluster();
  net.cut("a", "b");
  net.raw("a").transferLeader("b");
  assert.equal(net.raw("a").status().leadTransferee, "b");
  assert.throws(() => net.raw("a").propose("z"), ProposalDroppedError);
});

Deno.test("§3.10 a transfer that does not complete aborts after an election timeout", () => {
  const net = cluster();
  net.cut("a", "b");
  net.raw("a").transferLeader("b");
  net.tickAll(10);
  assert.equal(net.raw("a").status().leadTransferee, "");
  assert.equal(net.leader(), "a");
  net.propose("a", "z");
  assert.deepEqual(net.appliedData("c"), ["x", "z"]);
});

Deno.test("§3.10 only another voter can be the target", async (t) => {
  for (const target of ["a", "l", "zz"]) {
    await t.step(`transferLeader("${target}") is ignored`, () => {
      const net = cluster({ learners: ["l"] });
      net.raw("a").transferLeader(target);
      net.stabilize();
      assert.equal(net.raw("a").status().leadTransferee, "");
      assert.equal(net.leader(), "a");
    });
  }
  await t.step("a follower ignores transferLeader()", () => {
    const net = cluster();
    net.raw("b").transferLeader("c");
    net.stabilize();
    assert.equal(net.leader(), "a");
  });
});

Deno.test("§3.10 a new target replaces a pending transfer", () => {
  const net = cluster();
  net.cut("a", "b");
  net.raw("a").transferLeader("b");
  net.raw("a").transferLeader("c");
  assert.equal(net.raw("a").status().leadTransferee, "c");
  net.stabilize();
  assert.equal(net.leader(), "c");
});
