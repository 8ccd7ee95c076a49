/**
 * §7 Log compaction: a leader whose log no longer has the entries a
 * follower needs sends a snapshot (InstallSnapshot); the follower resets
 * its log to it, unless it already has what the snapshot covers.
 */
import assert from "node:assert/strict";
import type { MsgSnap } from "../../../src/raft/mod.ts";
import { Network } from "../_util/network.ts";
import { Peer } from "../_util/peer.ts";
import { appResp, log, ofType, snapshot } from "../_util/entries.ts";

/** a leads [a, b, c]; c missed entries 2..6, which a then compacted away. */
function laggingCluster(): Network {
  const net = new Network(["a", "b", "c"]);
  net.elect("a");
  net.isolate("c");
  for (let i = 0; i < 5; i++) net.propose("a", `x${i}`);
  const a = net.node("a");
  const applied = a.applied.at(-1)!.index;
  a.storage.createSnapshot(applied, a.raw.status().confState, "state@" + applied);
  a.storage.compact(applied);
  net.recover();
  return net;
}

Deno.test("§7 a leader sends a snapshot to a follower behind its first index", () => {
  const net = laggingCluster();
  net.tickAll(2);
  const snaps = ofType(net.delivered, "snap");
  assert.equal(snaps.length, 1);
  assert.deepEqual(snaps[0]!.snapshot.meta.index, 6);
  const c = net.node("c");
  const installed = c.readies.find((rd) => rd.snapshot !== null);
  assert.equal(installed?.snapshot?.data, "state@6");
  assert.equal(c.storage.firstIndex(), 7);
  net.propose("a", "after");
  assert.deepEqual(net.appliedData("c"), ["after"], "replication resumes after the snapshot");
  assert.equal(net.raw("a").status().progress.c?.state, "replicate");
});

Deno.test("§7 a follower restores a snapshot: log reset, membership from its meta", () => {
  const p = new Peer("b", ["a", "b", "c"], { entries: log(1, 1, 1) });
  const snap = snapshot(10, 2, ["a", "b", "c", "d"]);
  p.step({ type: "snap", from: "a", to: "b", term: 2, snapshot: snap });
  const rd = p.raw.ready();
  assert.equal(rd.snapshot, snap);
  assert.deepEqual(rd.committedEntries, [], "nothing applies before the snapshot is installed");
  assert.deepEqual(rd.persistedMessages.map((m) => m.type === "appResp" && m.index), [10]);
  p.storage.applySnapshot(rd.snapshot!);
  p.raw.advance(rd);
  const st = p.status();
  assert.deepEqual([st.lastIndex, st.commit, st.applied, st.snapshotIndex], [10, 10, 10, 10]);
  assert.deepEqual(st.confState.voters, ["a", "b", "c", "d"]);
});

Deno.test("§7 a snapshot the follower already covers is answered with its commit", () => {
  const p = new Peer("b", ["a", "b", "c"], {
    entries: log(1, 1, 1, 1, 1),
    hardState: { term: 1, vote: "", commit: 5 },
  });
  p.step({ type: "snap", from: "a", to: "b", term: 1, snapshot: snapshot(3, 1, ["a", "b", "c"]) });
  const msgs = p.drain();
  assert.deepEqual(msgs.map((m) => m.type === "appResp" && m.index), [5]);
  assert.ok(p.readies.every((rd) => rd.snapshot === null));
  assert.equal(p.status().lastIndex, 5);
});

Deno.test("§7 a follower holding the snapshot's last entry only advances its commit", () => {
  const p = new Peer("b", ["a", "b", "c"], {
    entries: log(1, 1, 1, 1),
    hardState: { term: 1, vote: "", commit: 1 },
  });
  p.step({ type: "snap", from: "a", to: "b", term: 1, snapshot: snapshot(3, 1, ["a", "b", "c"]) });
  const msgs = p.drain();
  assert.deepEqual(msgs.map((m) => m.type === "appResp" && m.index), [3]);
  assert.ok(p.readies.every((rd) => rd.snapshot === null));
  assert.deepEqual([p.status().commit, p.status().lastIndex], [3, 4]);
});

Deno.test("§7 a follower accepts a snapshot newer than the leader's storage had", () => {
  const net = laggingCluster();
  const captured: MsgSnap[] = [];
  net.drop((m) => m.type === "snap" && captured.push(m) > 0);
  net.propose("a", "y"); // index 7, committed by a and b
  net.recover();
  assert.equal(captured[0]?.snapshot.meta.index, 6);
  // The node ships its applied state (index 7) instead of storage's (6).
  const fresher = {
    ...captured[0]!,
    snapshot: { ...snapshot(7, 1, ["a", "b", "c"]), data: "state@7" },
  };
  net.deliver(fresher);
  net.stabilize();
  const st = net.raw("a").status();
  assert.equal(st.progress.c?.match, 7);
  assert.equal(st.progress.c?.state, "replicate");
  assert.equal(net.raw("c").status().commit, 7);
});

Deno.test("§7 a lost snapshot is sent again", () => {
  const net = laggingCluster();
  net.drop((m) => m.type === "snap");
  net.tickAll(2);
  assert.equal(net.raw("a").status().progress.c?.state, "snapshot");
  net.recover();
  net.tickAll(25); // two election timeouts without an ack
  assert.equal(net.node("c").storage.firstIndex(), 7);
  assert.equal(net.raw("a").status().progress.c?.state, "replicate");
});

Deno.test("§7 reportSnapshot(failure) lets the leader retry at once", () => {
  const net = laggingCluster();
  net.drop((m) => m.type === "snap");
  net.tickAll(2);
  net.recover();
  net.raw("a").reportSnapshot("c", "failure");
  assert.equal(net.raw("a").status().progress.c?.state, "probe");
  net.tickAll(2);
  assert.equal(net.node("c").storage.firstIndex(), 7);
});

Deno.test("§7 without a snapshot covering the gap the leader keeps probing", () => {
  const net = new Network(["a", "b", "c"]);
  net.elect("a");
  net.isolate("c");
  for (let i = 0; i < 3; i++) net.propose("a", `x${i}`);
  net.node("a").storage.compact(3); // no snapshot recorded
  net.recover();
  net.tickAll(3);
  assert.deepEqual(ofType(net.delivered, "snap"), []);
  assert.equal(net.raw("a").status().progress.c?.state, "probe");
});

Deno.test("§7 the leader resumes replication once the snapshot is acknowledged", () => {
  const p = new Peer("a", ["a", "b"], {
    entries: log(1, 1, 1, 1),
    hardState: { term: 1, vote: "a", commit: 4 },
    snapshotIndex: 0,
  });
  p.storage.createSnapshot(4, { voters: ["a", "b"], learners: [] }, "s");
  p.storage.compact(4);
  p.raw.campaign();
  p.drain();
  p.step({ type: "voteResp", from: "b", to: "a", term: 2, reject: false });
  p.drain();
  p.step(appResp({ from: "b", to: "a", term: 2, reject: true, index: 4, rejectHint: 0 }));
  const msgs = p.drain();
  assert.equal(ofType(msgs, "snap").length, 1);
  assert.equal(p.status().progress.b?.state, "snapshot");
  p.step(appResp({ from: "b", to: "a", term: 2, index: 4 }));
  const after = ofType(p.drain(), "app");
  assert.equal(p.status().progress.b?.state, "replicate");
  assert.deepEqual(after[0]?.entries.map((e) => e.index), [5]);
});
