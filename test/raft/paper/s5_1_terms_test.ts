/**
 * §5.1 Raft basics: terms act as a logical clock. "If a server's current
 * term is smaller than the other's, it updates its current term to the
 * larger value. If a candidate or leader discovers that its term is out of
 * date, it immediately reverts to follower state. If a server receives a
 * request with a stale term number, it rejects the request."
 */
import assert from "node:assert/strict";
import type { StateRole } from "../../../src/raft/mod.ts";
import { makeLeader, Peer } from "../_util/peer.ts";
import { app, appResp, heartbeat, ofType, vote } from "../_util/entries.ts";

const VOTERS = ["a", "b", "c"];

/** A peer `a` in `role` at term 1 (leader/candidate) or 0 (follower). */
function peerIn(role: StateRole, opts = {}): Peer {
  const p = new Peer("a", VOTERS, opts);
  if (role === "candidate") {
    p.raw.campaign();
    p.drain();
  } else if (role === "leader") {
    makeLeader(p, ["b"]);
  }
  assert.equal(p.status().role, role);
  return p;
}

Deno.test("§5.1 a node seeing a higher term adopts it and becomes follower", async (t) => {
  for (const role of ["follower", "candidate", "leader"] as const) {
    await t.step(`${role}: MsgApp of term 5 makes it follow the sender`, () => {
      const p = peerIn(role);
      p.step(app({ from: "b", to: "a", term: 5 }));
      const st = p.status();
      assert.equal(st.term, 5);
      assert.equal(st.role, "follower");
      assert.equal(st.lead, "b");
      assert.equal(st.vote, "");
    });
    await t.step(`${role}: a vote request of term 5 bumps the term, no leader known`, () => {
      const p = peerIn(role);
      p.step(vote({ from: "c", to: "a", term: 5, index: 10, logTerm: 5 }));
      const st = p.status();
      assert.equal(st.term, 5);
      assert.equal(st.role, "follower");
      assert.equal(st.lead, "");
      assert.equal(st.vote, "c", "and grants the vote");
    });
    await t.step(`${role}: a response of term 5 bumps the term too`, () => {
      const p = peerIn(role);
      p.step(appResp({ from: "c", to: "a", term: 5 }));
      assert.equal(p.status().term, 5);
      assert.equal(p.status().role, "follower");
    });
  }
});

Deno.test("§5.1 a request with a stale term is rejected", async (t) => {
  await t.step("stale MsgApp appends nothing and changes nothing", () => {
    const p = new Peer("a", VOTERS);
    p.step(heartbeat({ from: "b", to: "a", term: 3 })).drain();
    p.step(
      app({
        from: "c",
        to: "a",
        term: 2,
        entries: [{ term: 2, index: 1, type: "normal", data: "x" }],
      }),
    );
    const msgs = p.drain();
    assert.equal(p.status().term, 3);
    assert.equal(p.status().lead, "b");
    assert.equal(p.status().lastIndex, 0);
    assert.deepEqual(msgs, [], "without check-quorum or pre-vote: silently dropped");
  });
  await t.step("stale vote request is rejected with the newer term", () => {
    // etcd stays silent; then a stale candidate gains one term per timeout
    // and a node bumping terms as fast keeps it behind (sim seed 1042128).
    const p = new Peer("a", VOTERS, { hardState: { term: 3, vote: "", commit: 0 } });
    p.step(vote({ from: "c", to: "a", term: 2 }));
    const resps = ofType(p.drain(), "voteResp");
    assert.deepEqual(resps.map((m) => [m.to, m.term, m.reject]), [["c", 3, true]]);
    assert.equal(p.status().vote, "");
    assert.equal(p.status().term, 3);
  });
  await t.step("with check-quorum a stale leader is told the newer term", () => {
    const p = new Peer("a", VOTERS, { checkQuorum: true });
    p.step(heartbeat({ from: "b", to: "a", term: 3 })).drain();
    p.step(heartbeat({ from: "c", to: "a", term: 2 }));
    const [resp] = ofType(p.drain(), "appResp");
    assert.equal(resp?.to, "c");
    assert.equal(resp?.term, 3);
  });
  await t.step("a learner tells a stale leader the newer term, even without them", () => {
    // It never campaigns, so nothing else would ever spread its term.
    const p = new Peer("a", ["b", "c"], { learners: ["a"] });
    p.step(vote({ from: "c", to: "a", term: 3, index: 10, logTerm: 3 })).drain();
    p.step(heartbeat({ from: "b", to: "a", term: 2 }));
    const [resp] = ofType(p.drain(), "appResp");
    assert.equal(resp?.to, "b");
    assert.equal(resp?.term, 3);
  });
  await t.step("a stale leader steps down when told the newer term", () => {
    const p = peerIn("leader");
    const term = p.status().term;
    p.step(appResp({ from: "b", to: "a", term: term + 1 }));
    assert.equal(p.status().role, "follower");
    assert.equal(p.status().term, term + 1);
  });
});

Deno.test("§5.1 the term never decreases and survives a restart", () => {
  const p = peerIn("leader");
  p.step(app({ from: "b", to: "a", term: 7 }));
  p.drain();
  p.step(app({ from: "c", to: "a", term: 6 }));
  assert.equal(p.status().term, 7);
  const restarted = new Peer("a", VOTERS, {
    hardState: p.storage.initialState().hardState,
  });
  assert.equal(restarted.status().term, 7);
  assert.equal(restarted.status().role, "follower");
});
