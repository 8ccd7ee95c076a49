/**
 * Thesis §9.6 pre-vote and §6.2 check-quorum / leader stickiness (§4.2.3):
 * a partitioned node must not disrupt a healthy leader, and a leader that
 * cannot reach a majority steps down.
 */
import assert from "node:assert/strict";
import { Network } from "../_util/network.ts";
import { Peer } from "../_util/peer.ts";
import { heartbeat, ofType, vote } from "../_util/entries.ts";

const ON = { preVote: true, checkQuorum: true };

Deno.test("§9.6 pre-vote requests carry term + 1 and change no term", async (t) => {
  await t.step("the pre-candidate keeps its term", () => {
    const p = new Peer("a", ["a", "b", "c"], {
      ...ON,
      hardState: { term: 4, vote: "", commit: 0 },
    });
    p.raw.campaign();
    const reqs = ofType(p.drain(), "preVote");
    assert.deepEqual(reqs.map((m) => [m.to, m.term]), [["b", 5], ["c", 5]]);
    assert.equal(p.status().role, "precandidate");
    assert.equal(p.status().term, 4);
    assert.equal(p.status().vote, "");
  });
  await t.step("a responder grants at the requested term without adopting it", () => {
    const p = new Peer("b", ["a", "b", "c"], {
      ...ON,
      hardState: { term: 4, vote: "c", commit: 0 },
    });
    p.step({ ...vote({ from: "a", to: "b", term: 5 }), type: "preVote" });
    const [resp] = ofType(p.drain(), "preVoteResp");
    assert.deepEqual([resp?.term, resp?.reject], [5, false]);
    assert.deepEqual([p.status().term, p.status().vote], [4, "c"]);
  });
  await t.step("winning the pre-vote starts the real election", () => {
    const p = new Peer("a", ["a", "b", "c"], ON);
    p.raw.campaign();
    p.drain();
    p.step({ type: "preVoteResp", from: "b", to: "a", term: 1, reject: false });
    const votes = ofType(p.drain(), "vote");
    assert.equal(p.status().role, "candidate");
    assert.equal(p.status().term, 1);
    assert.deepEqual(votes.map((m) => m.term), [1, 1]);
  });
  await t.step("losing the pre-vote returns to follower at the same term", () => {
    const p = new Peer("a", ["a", "b", "c"], ON);
    p.raw.campaign();
    p.drain();
    p.step({ type: "preVoteResp", from: "b", to: "a", term: 0, reject: true });
    p.step({ type: "preVoteResp", from: "c", to: "a", term: 0, reject: true });
    assert.deepEqual([p.status().role, p.status().term], ["follower", 0]);
  });
  await t.step("a rejection from a higher term is adopted", () => {
    const p = new Peer("a", ["a", "b", "c"], ON);
    p.raw.campaign();
    p.drain();
    p.step({ type: "preVoteResp", from: "b", to: "a", term: 7, reject: true });
    assert.deepEqual([p.status().role, p.status().term], ["follower", 7]);
  });
});

Deno.test("§9.6 a partitioned node neither inflates its term nor disrupts the leader", () => {
  const net = new Network(["a", "b", "c"], ON);
  net.elect("a");
  const term = net.raw("a").status().term;
  net.isolate("c");
  for (let i = 0; i < 100; i++) net.raw("c").tick();
  net.stabilize();
  assert.equal(net.raw("c").status().term, term, "pre-vote never succeeded");
  net.recover();
  net.tickAll(5);
  assert.equal(net.leader(), "a");
  assert.equal(net.raw("a").status().term, term);
  assert.equal(net.raw("c").status().lead, "a");
});

Deno.test("§6.2 check-quorum: a leader cut off from the majority steps down", () => {
  const net = new Network(["a", "b", "c"], ON);
  net.elect("a");
  net.isolate("a");
  let ticks = 0;
  while (net.raw("a").status().role === "leader") {
    net.raw("a").tick();
    net.stabilize();
    ticks++;
    assert.ok(ticks <= 10, "within one election timeout of the last contact");
  }
  assert.equal(net.raw("a").status().lead, "");
});

Deno.test("§6.2 a leader hearing from a majority stays leader", () => {
  const net = new Network(["a", "b", "c", "d", "e"], ON);
  net.elect("a");
  net.isolate("d");
  net.isolate("e");
  net.tickAll(50);
  assert.equal(net.leader(), "a");
  assert.equal(net.raw("a").status().term, 1);
});

Deno.test("§4.2.3 leader stickiness: a follower in contact with a leader ignores votes", async (t) => {
  for (const type of ["vote", "preVote"] as const) {
    await t.step(`${type} from a disruptive node is ignored`, () => {
      const p = new Peer("b", ["a", "b", "c"], ON);
      p.step(heartbeat({ from: "a", to: "b", term: 1 })).drain();
      p.step({ ...vote({ from: "c", to: "b", term: 2, index: 5, logTerm: 1 }), type });
      assert.deepEqual(p.drain(), [], "no answer at all");
      assert.deepEqual([p.status().term, p.status().vote, p.status().lead], [1, "", "a"]);
    });
    await t.step(`${type} is answered once the leader is silent for electionTick`, () => {
      const p = new Peer("b", ["a", "b", "c"], { ...ON, seed: 3 });
      p.step(heartbeat({ from: "a", to: "b", term: 1 })).drain();
      p.tick(10);
      p.drain();
      const term = p.status().term;
      p.step({ ...vote({ from: "c", to: "b", term: term + 1, index: 5, logTerm: 1 }), type });
      const resps = p.drain().filter((m) => m.type === "voteResp" || m.type === "preVoteResp");
      assert.deepEqual(resps.map((m) => [m.type, "reject" in m && m.reject]), [[
        `${type}Resp`,
        false,
      ]]);
    });
  }
  await t.step("a transfer vote bypasses stickiness", () => {
    const p = new Peer("b", ["a", "b", "c"], ON);
    p.step(heartbeat({ from: "a", to: "b", term: 1 })).drain();
    p.step(vote({ from: "c", to: "b", term: 2, transfer: true }));
    const [resp] = ofType(p.drain(), "voteResp");
    assert.equal(resp?.reject, false);
    assert.deepEqual([p.status().term, p.status().vote], [2, "c"]);
  });
  await t.step("without check-quorum there is no stickiness", () => {
    const p = new Peer("b", ["a", "b", "c"], { preVote: true });
    p.step(heartbeat({ from: "a", to: "b", term: 1 })).drain();
    p.step(vote({ from: "c", to: "b", term: 2 }));
    assert.equal(ofType(p.drain(), "voteResp")[0]?.reject, false);
  });
});

Deno.test("§6.2 a stale leader learns the newer term from its followers' answers", () => {
  const net = new Network(["a", "b", "c"], { checkQuorum: true });
  net.elect("a");
  net.isolate("a");
  for (let i = 0; i < 10; i++) ["b", "c"].forEach((id) => net.raw(id).tick());
  net.stabilize();
  if (net.leader() === "a") net.elect("b");
  const leader = net.leader()!;
  assert.notEqual(leader, "a");
  assert.equal(net.raw("a").status().role, "leader", "a has not noticed yet");
  const term = net.raw(leader).status().term;
  assert.ok(term > 1);
  net.recover();
  net.raw("a").tick(); // a heartbeat of the stale term
  net.stabilize();
  assert.deepEqual([net.raw("a").status().role, net.raw("a").status().term], ["follower", term]);
  assert.equal(net.raw(leader).status().role, "leader", "the new leader is undisturbed");
});
