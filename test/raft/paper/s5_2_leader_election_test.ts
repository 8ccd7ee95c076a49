/**
 * §5.2 Leader election: randomized election timeouts, RequestVote, a
 * majority wins, at most one vote per term, split votes retry.
 */
import assert from "node:assert/strict";
import { makeLeader, Peer } from "../_util/peer.ts";
import { Network } from "../_util/network.ts";
import { app, heartbeat, ofType, vote } from "../_util/entries.ts";

const VOTERS = ["a", "b", "c"];

Deno.test("§5.2 a follower campaigns after its randomized election timeout", async (t) => {
  await t.step("it becomes candidate of term 1, votes for itself, asks every voter", () => {
    const p = new Peer("a", VOTERS);
    p.tick(20); // >= 2 * electionTick: the timeout has certainly passed
    const votes = ofType(p.drain(), "vote");
    const st = p.status();
    assert.equal(st.role, "candidate");
    assert.equal(st.term, 1);
    assert.equal(st.vote, "a");
    assert.deepEqual(votes.map((m) => [m.to, m.term]), [["b", 1], ["c", 1]]);
  });
  await t.step("the timeout lies in [electionTick, 2 * electionTick) and varies by seed", () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 200; seed++) {
      const p = new Peer("a", VOTERS, { seed });
      let ticks = 0;
      while (p.status().role === "follower") {
        p.tick();
        ticks++;
        assert.ok(ticks < 20, "campaigned before 2 * electionTick");
      }
      assert.ok(ticks >= 10, `seed ${seed}: not before electionTick (${ticks})`);
      seen.add(ticks);
    }
    assert.ok(seen.size >= 8, `timeouts spread over ${seen.size} values`);
  });
  await t.step("a vote request it rejects does not reset the timer (Figure 2)", () => {
    // Else a candidate with a shorter log that times out first every round
    // keeps the node it needs from ever running (sim seed 637856).
    const entries = [{ term: 2, index: 1, type: "normal" as const, data: "x" }];
    const p = new Peer("a", VOTERS, { entries, hardState: { term: 2, vote: "", commit: 0 } });
    let term = 2, ticks = 0;
    while (ticks < 40) {
      p.step(vote({ from: "c", to: "a", term: ++term, index: 0, logTerm: 0 }));
      assert.equal(p.status().vote, "", "rejected: c's log is behind");
      p.tick(3);
      ticks += 3;
      if (p.status().role !== "follower") break;
    }
    assert.equal(p.status().role, "candidate", "campaigned although c kept asking");
    assert.ok(ticks < 20, `within two election timeouts (${ticks} ticks)`);
  });
  await t.step("a vote it grants resets the timer", () => {
    const p = new Peer("a", VOTERS);
    for (let term = 1; term <= 20; term++) {
      p.step(vote({ from: "c", to: "a", term, index: 0, logTerm: 0 }));
      assert.equal(p.status().vote, "c");
      p.tick(5);
    }
    assert.equal(p.status().role, "follower");
  });
  await t.step("contact with the leader resets the timer", () => {
    const p = new Peer("a", VOTERS);
    for (let i = 0; i < 50; i++) {
      p.step(heartbeat({ from: "b", to: "a", term: 1 }));
      p.tick(5);
    }
    assert.equal(p.status().role, "follower");
  });
});

Deno.test("§5.2 a candidate wins with votes from a majority of voters", async (t) => {
  const cases: { size: number; grants: number; rejects: number; want: string }[] = [
    { size: 1, grants: 0, rejects: 0, want: "leader" },
    { size: 3, grants: 1, rejects: 0, want: "leader" },
    { size: 3, grants: 2, rejects: 0, want: "leader" },
    { size: 5, grants: 2, rejects: 0, want: "leader" },
    { size: 5, grants: 1, rejects: 0, want: "candidate" },
    { size: 3, grants: 0, rejects: 0, want: "candidate" },
    { size: 5, grants: 1, rejects: 2, want: "candidate" },
    { size: 3, grants: 0, rejects: 2, want: "follower" },
    { size: 5, grants: 1, rejects: 3, want: "follower" },
  ];
  for (const c of cases) {
    await t.step(`${c.size} voters, ${c.grants} grants, ${c.rejects} rejects: ${c.want}`, () => {
      const voters = Array.from({ length: c.size }, (_, i) => `n${i}`);
      const p = new Peer("n0", voters);
      p.raw.campaign();
      p.drain();
      for (let i = 1; i <= c.grants + c.rejects; i++) {
        p.step({ type: "voteResp", from: `n${i}`, to: "n0", term: 1, reject: i > c.grants });
      }
      p.drain();
      assert.equal(p.status().role, c.want);
    });
  }
});

Deno.test("§5.2 the candidate's own vote counts only once it is durable", () => {
  const p = new Peer("a", ["a"]);
  p.raw.campaign();
  assert.equal(p.status().role, "candidate");
  const rd = p.raw.ready();
  assert.equal(rd.hardState?.vote, "a");
  assert.equal(p.status().role, "candidate", "not leader before the vote is persisted");
  p.storage.setHardState(rd.hardState!);
  p.raw.advance(rd);
  assert.equal(p.status().role, "leader");
});

Deno.test("§5.2 a voter grants at most one vote per term, first come first served", async (t) => {
  const cases: { vote: string; from: string; grant: boolean }[] = [
    { vote: "", from: "b", grant: true },
    { vote: "", from: "c", grant: true },
    { vote: "b", from: "b", grant: true },
    { vote: "c", from: "c", grant: true },
    { vote: "b", from: "c", grant: false },
    { vote: "c", from: "b", grant: false },
  ];
  for (const c of cases) {
    await t.step(`voted "${c.vote}", asked by ${c.from}: ${c.grant ? "grant" : "reject"}`, () => {
      const p = new Peer("a", VOTERS, { hardState: { term: 1, vote: c.vote, commit: 0 } });
      p.step(vote({ from: c.from, to: "a", term: 1 }));
      const [resp] = ofType(p.drain(), "voteResp");
      assert.equal(resp?.reject, !c.grant);
      assert.equal(p.status().vote, c.grant ? c.from : c.vote);
    });
  }
  await t.step("the vote is persisted before the grant is sent", () => {
    const p = new Peer("a", VOTERS);
    p.step(vote({ from: "b", to: "a", term: 1 }));
    const rd = p.raw.ready();
    assert.equal(rd.hardState?.vote, "b");
    assert.equal(rd.mustSync, true);
    assert.deepEqual(rd.messages, []);
    assert.equal(rd.persistedMessages[0]?.type, "voteResp");
  });
});

Deno.test("§5.2 a candidate that hears from a leader of its term becomes follower", () => {
  for (const type of ["app", "heartbeat"] as const) {
    const p = new Peer("a", VOTERS);
    p.raw.campaign();
    p.drain();
    const m = type === "app"
      ? app({ from: "b", to: "a", term: 1 })
      : heartbeat({ from: "b", to: "a", term: 1 });
    p.step(m);
    assert.equal(p.status().role, "follower", type);
    assert.equal(p.status().lead, "b");
    assert.equal(p.status().term, 1);
  }
});

Deno.test("§5.2 after a split vote the candidate times out and retries with a higher term", () => {
  const p = new Peer("a", VOTERS);
  p.raw.campaign();
  p.drain();
  p.tick(20);
  const votes = ofType(p.drain(), "vote");
  assert.equal(p.status().role, "candidate");
  assert.equal(p.status().term, 2);
  assert.deepEqual(votes.map((m) => m.term), [2, 2]);
});

Deno.test("§5.2 a leader sends heartbeats every heartbeatTick", () => {
  const p = new Peer("a", VOTERS, { heartbeatTick: 2 });
  makeLeader(p, ["b"]);
  p.tick();
  assert.deepEqual(ofType(p.drain(), "heartbeat"), []);
  p.tick();
  const hbs = ofType(p.drain(), "heartbeat");
  assert.deepEqual(hbs.map((m) => m.to), ["b", "c"]);
  assert.ok(hbs.every((m) => m.term === 1));
});

Deno.test("§5.2 elections converge to one leader per term in a network", () => {
  for (let seed = 1; seed <= 30; seed++) {
    const net = new Network(["a", "b", "c", "d", "e"], { seed });
    for (let i = 0; i < 60 && net.leader() === null; i++) net.tickAll();
    const leader = net.leader();
    assert.ok(leader, `seed ${seed}: a leader`);
    const term = net.raw(leader).status().term;
    for (const id of ["a", "b", "c", "d", "e"]) {
      const st = net.raw(id).status();
      if (id !== leader) assert.notEqual(st.role === "leader" && st.term === term, true);
    }
  }
});
