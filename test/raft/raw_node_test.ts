import assert from "node:assert/strict";
import { type Message, ProposalDroppedError, RaftError } from "../../src/raft/mod.ts";
import { Network } from "./_util/network.ts";
import { makeLeader, Peer } from "./_util/peer.ts";
import { app, appResp, ent, ents, heartbeat, log, snapshot, vote } from "./_util/entries.ts";

Deno.test("RawNode: a 3-node cluster elects a leader and replicates", async (t) => {
  await t.step("campaign() makes the candidate leader", () => {
    const net = new Network(["a", "b", "c"]);
    net.elect("a");
    assert.equal(net.leader(), "a");
    assert.equal(net.raw("b").status().lead, "a");
  });
  await t.step("a proposal is applied on every node", () => {
    const net = new Network(["a", "b", "c"], { preVote: true, checkQuorum: true });
    net.elect("a");
    const { index } = net.propose("a", "x");
    for (const id of ["a", "b", "c"]) {
      assert.deepEqual(net.appliedData(id), ["x"]);
      assert.equal(net.raw(id).status().commit, index);
    }
  });
});

Deno.test("RawNode.ready() reports soft and hard state only when they change", () => {
  const p = new Peer("a", ["a", "b", "c"]);
  assert.equal(p.raw.hasReady(), false, "a fresh node has nothing to do");
  p.raw.campaign();
  const rd = p.raw.ready();
  assert.deepEqual(rd.softState, { lead: "", role: "candidate" });
  assert.deepEqual(rd.hardState, { term: 1, vote: "a", commit: 0 });
  assert.equal(rd.mustSync, true);
  p.raw.advance(rd);
  p.step({ type: "voteResp", from: "b", to: "a", term: 1, reject: true });
  const rd2 = p.raw.ready();
  assert.equal(rd2.softState, null);
  assert.equal(rd2.hardState, null);
  p.raw.advance(rd2);
});

Deno.test("RawNode.ready() splits messages by when they may be sent", async (t) => {
  await t.step("votes wait for the vote to be durable", () => {
    const p = new Peer("a", ["a", "b", "c"]);
    p.raw.campaign();
    const rd = p.raw.ready();
    assert.deepEqual(rd.messages, []);
    assert.deepEqual(rd.persistedMessages.map((m) => [m.type, m.to]), [["vote", "b"], [
      "vote",
      "c",
    ]]);
    p.raw.advance(rd);
  });
  await t.step("a follower's acks wait for its entries to be durable", () => {
    const p = new Peer("b", ["a", "b", "c"]);
    p.step(app({ from: "a", to: "b", term: 1, entries: ents(1, 1) }));
    const rd = p.raw.ready();
    assert.deepEqual(rd.messages, []);
    assert.deepEqual(rd.persistedMessages.map((m) => m.type), ["appResp"]);
    assert.deepEqual(rd.entries, ents(1, 1));
    p.raw.advance(rd);
  });
  await t.step("the leader's appends and heartbeats may leave at once", () => {
    const p = new Peer("a", ["a", "b", "c"]);
    makeLeader(p, ["b"]);
    p.raw.propose("x");
    p.raw.tick();
    const rd = p.raw.ready();
    assert.ok(rd.messages.length > 0);
    assert.ok(rd.messages.every((m) => m.type === "app" || m.type === "heartbeat"));
    assert.deepEqual(rd.persistedMessages, [], "the self-ack is stepped in on advance()");
    p.raw.advance(rd);
  });
});

Deno.test("RawNode.ready() hands out committed entries only once durable locally", () => {
  const p = new Peer("b", ["a", "b", "c"]);
  p.step(app({ from: "a", to: "b", term: 1, entries: ents(1, 1, 1), commit: 2 }));
  const rd = p.raw.ready();
  assert.equal(rd.hardState?.commit, 2);
  assert.deepEqual(rd.committedEntries, [], "entries 1-2 are committed but not yet durable here");
  p.storage.append(rd.entries);
  p.raw.advance(rd);
  const rd2 = p.raw.ready();
  assert.deepEqual(rd2.committedEntries.map((e) => e.index), [1, 2]);
  assert.equal(rd2.mustSync, false, "only committed entries and messages: no fsync");
  p.raw.advance(rd2);
  assert.equal(p.status().applied, 2);
});

Deno.test("RawNode: work between ready() and advance() joins the next Ready", () => {
  const p = new Peer("b", ["a", "b", "c"]);
  p.step(app({ from: "a", to: "b", term: 1, entries: ents(1, 1) }));
  const rd = p.raw.ready();
  assert.equal(p.raw.hasReady(), false, "false while a Ready is in flight");
  assert.throws(() => p.raw.ready(), RaftError);
  p.step(
    app({ from: "a", to: "b", term: 1, logTerm: 1, index: 1, entries: ents(2, 1), commit: 2 }),
  );
  p.raw.tick();
  p.storage.append(rd.entries);
  p.raw.advance(rd);
  const rd2 = p.raw.ready();
  assert.deepEqual(rd2.entries, ents(2, 1));
  assert.deepEqual(rd2.committedEntries.map((e) => e.index), [1], "2 is not durable yet");
  assert.deepEqual(rd2.persistedMessages.map((m) => m.type === "appResp" && m.index), [2]);
  p.storage.append(rd2.entries);
  p.raw.advance(rd2);
  assert.deepEqual(p.raw.ready().committedEntries.map((e) => e.index), [2]);
});

Deno.test("RawNode.advance() without a Ready in flight throws", () => {
  const p = new Peer("a", ["a"]);
  p.raw.campaign();
  const rd = p.raw.ready();
  p.raw.advance(rd);
  assert.throws(() => p.raw.advance(rd), RaftError);
});

Deno.test("RawNode.step() ignores messages for another node or claiming to be from itself", () => {
  const p = new Peer("a", ["a", "b", "c"]);
  p.step(heartbeat({ from: "b", to: "c", term: 5 }));
  p.step(heartbeat({ from: "a", to: "a", term: 5 }));
  assert.equal(p.status().term, 0);
  assert.equal(p.raw.hasReady(), false);
});

Deno.test("RawNode.step() never throws on malformed or unexpected peer input", () => {
  const leader = new Peer("a", ["a", "b", "c"]);
  makeLeader(leader, ["b"]);
  const follower = new Peer("b", ["a", "b", "c"], { entries: log(1, 1) });
  const weird: Message[] = [
    app({ from: "a", to: "b", term: 1, index: 0, entries: [ent(1, 5)] }), // gap
    app({ from: "a", to: "b", term: 1, index: 0, entries: [ent(9, 1)] }), // term above the sender's
    app({ from: "a", to: "b", term: 1, index: 99, logTerm: 1, commit: 99 }),
    heartbeat({ from: "a", to: "b", term: 1, commit: 1000 }),
    { type: "snap", from: "a", to: "b", term: 1, snapshot: snapshot(-3, 1, ["a"]) },
    { type: "snap", from: "a", to: "b", term: 1, snapshot: snapshot(5, 8, ["a"]) },
    appResp({ from: "zz", to: "a", term: 1, index: 77 }),
    appResp({ from: "b", to: "a", term: 1, index: 77 }),
    appResp({ from: "b", to: "a", term: 1, reject: true, index: 77, rejectHint: 500, logTerm: 9 }),
    { type: "heartbeatResp", from: "c", to: "a", term: 1, context: "not-a-round" },
    { type: "heartbeatResp", from: "c", to: "a", term: 1, context: "999999" },
    { type: "readIndex", from: "zz", to: "a", term: 1, context: "x" },
    { type: "readIndexResp", from: "a", to: "b", term: 1, context: "x", index: 3, reject: true },
    { type: "timeoutNow", from: "c", to: "a", term: 1 },
    vote({ from: "c", to: "a", term: 1 }),
  ];
  for (const m of weird) {
    const p = m.to === "a" ? leader : follower;
    p.step(m);
    p.drain();
  }
  assert.equal(leader.status().role, "leader");
  assert.equal(follower.status().commit, 2, "commit never passes the log");
});

Deno.test("RawNode.propose() throws ProposalDroppedError unless leader", () => {
  const p = new Peer("a", ["a", "b", "c"]);
  assert.throws(() => p.raw.propose("x"), ProposalDroppedError);
  p.raw.campaign();
  assert.throws(() => p.raw.propose("x"), ProposalDroppedError);
});

Deno.test("RawNode restarts from storage as a follower with its term, vote and commit", async (t) => {
  await t.step("hard state and log are resumed; applied comes from the config", () => {
    const p = new Peer("b", ["a", "b", "c"], {
      entries: log(1, 1, 2, 2),
      hardState: { term: 3, vote: "a", commit: 3 },
      applied: 1,
    });
    const st = p.status();
    assert.deepEqual([st.role, st.term, st.vote, st.commit, st.applied, st.lastIndex], [
      "follower",
      3,
      "a",
      3,
      1,
      4,
    ]);
    const rd = p.raw.ready();
    assert.equal(rd.hardState, null, "nothing new to persist");
    assert.deepEqual(rd.committedEntries.map((e) => e.index), [2, 3]);
    p.raw.advance(rd);
  });
  await t.step("a commit index beyond the log is clamped", () => {
    const p = new Peer("b", ["a", "b", "c"], {
      entries: log(1),
      hardState: { term: 1, vote: "", commit: 9 },
    });
    assert.equal(p.status().commit, 1);
  });
  await t.step("an applied index beyond the log is refused", () => {
    assert.throws(() => new Peer("b", ["a", "b"], { entries: log(1), applied: 5 }), RangeError);
  });
  await t.step("a network node restarted mid-stream catches up", () => {
    const net = new Network(["a", "b", "c"]);
    net.elect("a");
    net.propose("a", "x");
    net.restart("b");
    net.propose("a", "y");
    assert.deepEqual(net.appliedData("b"), ["x", "y"]);
    assert.equal(net.raw("b").status().term, 1);
  });
});

Deno.test("RawNode.status() reports progress only on the leader", () => {
  const net = new Network(["a", "b", "c"]);
  net.elect("a");
  const st = net.raw("a").status();
  assert.deepEqual(Object.keys(st.progress).sort(), ["a", "b", "c"]);
  assert.equal(st.progress.b?.state, "replicate");
  assert.equal(st.committedInTerm, true);
  assert.deepEqual(net.raw("b").status().progress, {});
});

Deno.test("RawNode: a single voter commits on its own once entries are durable", () => {
  const net = new Network(["a"]);
  net.elect("a");
  assert.equal(net.leader(), "a");
  const { index } = net.propose("a", "x");
  assert.equal(net.raw("a").status().commit, index);
  assert.deepEqual(net.appliedData("a"), ["x"]);
});
