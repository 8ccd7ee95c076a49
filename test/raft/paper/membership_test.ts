/**
 * Thesis §4 cluster membership changes, one server at a time, applied when
 * the conf entry is applied (an etcd-style deviation documented in
 * `src/raft/membership.ts`); learners (non-voting members, thesis §4.2.1).
 */
import assert from "node:assert/strict";
import {
  type ConfChange,
  decodeConfChange,
  encodeConfChange,
  ProposalDroppedError,
} from "../../../src/raft/mod.ts";
import { bootstrap, Network } from "../_util/network.ts";
import { makeLeader, Peer } from "../_util/peer.ts";

const add = (nodeId: string): ConfChange => ({ type: "addVoter", nodeId, context: "" });
const learner = (nodeId: string): ConfChange => ({ type: "addLearner", nodeId, context: "" });
const remove = (nodeId: string): ConfChange => ({ type: "remove", nodeId, context: "" });

function cluster(ids = ["a", "b", "c"], opts = {}): Network {
  const net = new Network(ids, opts);
  net.elect("a");
  return net;
}

/** Applies `cc` through the leader and lets the network settle. */
function change(net: Network, leader: string, cc: ConfChange): void {
  net.raw(leader).proposeConfChange(cc);
  net.stabilize();
}

Deno.test("§4.1 a voter added by a conf change joins the quorum once applied", () => {
  const net = cluster();
  net.add("d", bootstrap(["a", "b", "c"])); // joiners start from the founders' conf
  change(net, "a", add("d"));
  for (const id of ["a", "b", "c", "d"]) {
    assert.deepEqual(net.raw(id).status().confState.voters, ["a", "b", "c", "d"], id);
  }
  net.isolate("b");
  net.isolate("c");
  const { index } = net.raw("a").propose("x");
  net.stabilize();
  assert.ok(net.raw("a").status().commit < index, "a and d are 2 of 4: no majority");
  net.recover();
  net.tickAll(2); // heartbeats make the leader resend what was lost
  assert.equal(net.raw("a").status().commit, index);
  assert.deepEqual(net.appliedData("d"), ["x"]);
});

Deno.test("§4.1 a conf change takes effect when applied, not when appended", () => {
  const net = cluster();
  net.add("d", bootstrap(["a", "b", "c"]));
  net.isolate("b");
  net.isolate("c");
  net.raw("a").proposeConfChange(add("d"));
  net.stabilize();
  assert.deepEqual(
    net.raw("a").status().confState.voters,
    ["a", "b", "c"],
    "appended, not applied",
  );
  net.recover();
  net.tickAll(2);
  assert.deepEqual(net.raw("a").status().confState.voters, ["a", "b", "c", "d"]);
  const conf = net.node("a").applied.find((e) => e.type === "conf");
  assert.deepEqual(conf && decodeConfChange(conf.data), add("d"), "the node sees the change");
});

Deno.test("§4.1 only one conf change may be pending at a time", () => {
  const net = cluster();
  net.isolate("b");
  net.isolate("c");
  net.raw("a").proposeConfChange(learner("l"));
  assert.throws(() => net.raw("a").proposeConfChange(learner("m")), ProposalDroppedError);
  net.recover();
  net.tickAll(2);
  net.raw("a").proposeConfChange(learner("m"));
});

Deno.test("§4.1 a new leader changes membership only after committing an entry of its term", () => {
  const p = new Peer("a", ["a", "b", "c"]);
  makeLeader(p, ["b"]);
  assert.throws(() => p.raw.proposeConfChange(add("d")), ProposalDroppedError);
  assert.throws(
    () => new Peer("b", ["a", "b"]).raw.proposeConfChange(add("d")),
    ProposalDroppedError,
  );
  assert.throws(
    () => p.raw.proposeConfChange({ type: "addVoter", nodeId: "Bad Id", context: "" }),
    TypeError,
  );
});

Deno.test("§4.2.1 learners receive the log but never vote, campaign or count", async (t) => {
  await t.step("a learner applies committed entries", () => {
    const net = cluster(["a", "b", "c"], { learners: ["l"] });
    net.propose("a", "x");
    assert.deepEqual(net.appliedData("l"), ["x"]);
  });
  await t.step("a learner never campaigns", () => {
    const net = cluster(["a", "b", "c"], { learners: ["l"] });
    net.isolate("l");
    for (let i = 0; i < 100; i++) net.raw("l").tick();
    net.stabilize();
    assert.equal(net.raw("l").status().role, "follower");
    assert.equal(net.raw("l").status().term, 1);
  });
  await t.step("a learner does not count towards commit", () => {
    const net = cluster(["a", "b", "c"], { learners: ["l"] });
    net.isolate("b");
    net.isolate("c");
    const { index } = net.raw("a").propose("x");
    net.stabilize();
    assert.ok(net.raw("a").status().commit < index);
  });
  await t.step("a learner is not asked for its vote", () => {
    const net = new Network(["a", "b", "c"], { learners: ["l"] });
    net.elect("a");
    assert.ok(!net.delivered.some((m) => m.type === "vote" && m.to === "l"));
  });
  await t.step("addVoter promotes a learner", () => {
    const net = cluster(["a", "b", "c"], { learners: ["l"] });
    change(net, "a", add("l"));
    assert.deepEqual(net.raw("l").status().confState, {
      voters: ["a", "b", "c", "l"],
      learners: [],
    });
  });
});

Deno.test("§4.2.2 a leader that removes itself steps down once the removal is applied", () => {
  const net = cluster();
  change(net, "a", remove("a"));
  const st = net.raw("a").status();
  assert.equal(st.role, "follower");
  assert.deepEqual(st.confState.voters, ["b", "c"]);
  assert.equal(net.raw("b").status().commit, st.commit, "it told the others what is committed");
  net.isolate("a");
  net.tickAll(40);
  const leader = net.leader();
  assert.ok(leader === "b" || leader === "c", `new leader ${leader}`);
  assert.equal(net.raw("a").status().role, "follower", "a removed node never campaigns");
  net.propose(leader, "after");
  assert.deepEqual(net.appliedData(leader === "b" ? "c" : "b"), ["after"]);
});

Deno.test("§4.1 a removed follower never campaigns", () => {
  const net = cluster();
  change(net, "a", remove("c"));
  net.isolate("c");
  net.tickAll(50);
  assert.equal(net.raw("c").status().role, "follower");
  assert.equal(net.leader(), "a");
});

Deno.test("§4.1 a node does not campaign with a committed but unapplied conf change", () => {
  const entries = [
    { term: 1, index: 1, type: "normal" as const, data: "" },
    { term: 1, index: 2, type: "conf" as const, data: encodeConfChange(remove("c")) },
  ];
  const p = new Peer("a", ["a", "b", "c"], {
    entries,
    hardState: { term: 1, vote: "", commit: 2 },
  });
  p.raw.campaign();
  assert.equal(p.status().role, "follower", "membership may be stale until applied");
  p.drain();
  assert.deepEqual(p.status().confState.voters, ["a", "b"]);
  p.raw.campaign();
  assert.equal(p.status().role, "candidate");
});
