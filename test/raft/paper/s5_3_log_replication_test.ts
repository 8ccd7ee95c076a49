/**
 * §5.3 Log replication: AppendEntries with the consistency check, commit
 * once a majority stores an entry, followers converge to the leader's log.
 */
import assert from "node:assert/strict";
import type { Entry, Message, NodeId } from "../../../src/raft/mod.ts";
import { makeLeader, Peer } from "../_util/peer.ts";
import { Network } from "../_util/network.ts";
import { app, appResp, ent, ents, heartbeat, log, ofType } from "../_util/entries.ts";

/** Acks every MsgApp in `msgs` as if each follower appended it. */
function ackAll(p: Peer, msgs: readonly Message[], only?: NodeId[]): void {
  for (const m of ofType(msgs, "app")) {
    if (only && !only.includes(m.to)) continue;
    p.step(appResp({ from: m.to, to: p.id, term: m.term, index: m.index + m.entries.length }));
  }
}

/** Leader `a` of [a, b, c] whose no-op (index 1) is committed everywhere. */
function readyLeader(voters = ["a", "b", "c"], opts = {}): Peer {
  const p = new Peer("a", voters, opts);
  ackAll(p, makeLeader(p, voters.slice(1)));
  p.drain();
  assert.equal(p.status().commit, 1);
  return p;
}

Deno.test("§5.3 the leader appends a proposal and sends it to every follower", () => {
  const p = readyLeader();
  const { index, term } = p.raw.propose("x");
  assert.deepEqual([index, term], [2, 1]);
  const apps = ofType(p.drain(), "app");
  assert.deepEqual(apps.map((m) => m.to), ["b", "c"]);
  for (const m of apps) {
    assert.deepEqual([m.logTerm, m.index, m.commit], [1, 1, 1]);
    assert.deepEqual(m.entries, [ent(1, 2, "x")]);
  }
  assert.deepEqual(p.log().map((e) => e.data), ["", "x"]);
});

Deno.test("§5.3 an entry commits once a majority stores it; followers learn the commit", () => {
  const p = readyLeader();
  p.raw.propose("x");
  const msgs = p.drain();
  ackAll(p, msgs, ["b"]);
  const out = p.drain();
  assert.equal(p.status().commit, 2);
  assert.deepEqual(p.applied.map((e) => e.data), ["", "x"]);
  const commits = ofType(out, "app").map((m) => [m.to, m.commit]);
  assert.deepEqual(commits, [["b", 2], ["c", 2]]);
});

Deno.test("§5.3 commit needs acknowledgements from a majority of voters", async (t) => {
  const cases: { size: number; acks: number; commit: boolean }[] = [
    { size: 1, acks: 0, commit: true },
    { size: 3, acks: 0, commit: false },
    { size: 3, acks: 1, commit: true },
    { size: 3, acks: 2, commit: true },
    { size: 5, acks: 1, commit: false },
    { size: 5, acks: 2, commit: true },
    { size: 4, acks: 1, commit: false },
    { size: 4, acks: 2, commit: true },
  ];
  for (const c of cases) {
    await t.step(
      `${c.size} voters, ${c.acks} follower acks: ${c.commit ? "" : "not "}committed`,
      () => {
        const voters = ["a", "b", "c", "d", "e"].slice(0, c.size);
        const p = new Peer("a", voters);
        const msgs = makeLeader(p, voters.slice(1));
        ackAll(p, msgs, voters.slice(1, 1 + c.acks));
        p.drain();
        assert.equal(p.status().commit, c.commit ? 1 : 0);
      },
    );
  }
});

Deno.test("§5.3 the leader's own entries count only once they are durable", () => {
  const p = readyLeader();
  p.raw.propose("x");
  const rd = p.raw.ready();
  assert.deepEqual(rd.entries.map((e) => e.index), [2]);
  for (const m of ofType(rd.messages, "app")) {
    // Sent before the leader's own write (thesis §10.2.1), and acked by b.
    p.step(appResp({ from: m.to, to: "a", term: 1, index: 2 }));
    break;
  }
  assert.equal(p.status().commit, 1, "b's ack alone is not a majority");
  p.storage.append(rd.entries);
  p.raw.advance(rd);
  assert.equal(p.status().commit, 2, "the self-ack on advance() completes it");
});

Deno.test("§5.3 committing an entry commits every preceding entry", () => {
  const p = new Peer("a", ["a", "b", "c"], {
    entries: log(1, 1, 2),
    hardState: { term: 2, vote: "", commit: 0 },
  });
  const msgs = makeLeader(p, ["b"]);
  // b already has the leader's log; it acks the no-op at index 4.
  ackAll(p, msgs.map((m) => m.type === "app" ? { ...m, index: 3, entries: [ent(3, 4)] } : m), [
    "b",
  ]);
  p.drain();
  assert.equal(p.status().commit, 4);
  assert.deepEqual(p.applied.map((e) => e.index), [1, 2, 3, 4]);
});

Deno.test("§5.3 a follower commits up to the leader's commit, never past its log", async (t) => {
  const cases: { name: string; commit: number; entries: Entry[]; want: number }[] = [
    { name: "commit within new entries", commit: 3, entries: ents(2, 1, 1), want: 3 },
    { name: "commit bounded by the last new entry", commit: 9, entries: ents(2, 1), want: 2 },
    { name: "empty MsgApp commits up to its index", commit: 9, entries: [], want: 1 },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const p = new Peer("b", ["a", "b", "c"], { entries: log(1) });
      p.step(
        app({
          from: "a",
          to: "b",
          term: 1,
          logTerm: 1,
          index: 1,
          entries: c.entries,
          commit: c.commit,
        }),
      );
      p.drain();
      assert.equal(p.status().commit, c.want);
    });
  }
  await t.step("a heartbeat's commit is bounded by the follower's log", () => {
    const p = new Peer("b", ["a", "b", "c"], { entries: log(1, 1) });
    p.step(heartbeat({ from: "a", to: "b", term: 1, commit: 5 }));
    assert.equal(p.status().commit, 2);
  });
});

Deno.test("§5.3 a follower rejects a MsgApp whose previous entry does not match", async (t) => {
  // Follower log terms: 1 1 2 2 3 at 1..5 (etcd TestFollowerCheckMsgApp style).
  const cases: {
    name: string;
    prev: [number, number];
    reject: boolean;
    index: number;
    hint?: [number, number];
  }[] = [
    { name: "match at the start", prev: [0, 0], reject: false, index: 0 },
    { name: "match at the commit", prev: [1, 1], reject: false, index: 1 },
    { name: "match at the end", prev: [5, 3], reject: false, index: 5 },
    {
      name: "term mismatch: hint skips the term",
      prev: [5, 2],
      reject: true,
      index: 5,
      hint: [4, 2],
    },
    {
      name: "past the end: hint is the last index",
      prev: [7, 3],
      reject: true,
      index: 7,
      hint: [5, 3],
    },
    { name: "lower term: hint goes below it", prev: [4, 1], reject: true, index: 4, hint: [2, 1] },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const p = new Peer("b", ["a", "b", "c"], {
        entries: log(1, 1, 2, 2, 3),
        hardState: { term: 3, vote: "", commit: 1 },
      });
      p.step(app({ from: "a", to: "b", term: 3, logTerm: c.prev[1], index: c.prev[0], commit: 1 }));
      const [resp] = ofType(p.drain(), "appResp");
      assert.ok(resp);
      assert.equal(resp.reject, c.reject);
      if (c.reject) {
        assert.equal(resp.index, c.index);
        assert.deepEqual([resp.rejectHint, resp.logTerm], c.hint);
      } else {
        assert.equal(resp.index, Math.max(c.index, 1));
      }
    });
  }
});

Deno.test("§5.3 a follower deletes a conflicting suffix and appends the leader's entries", async (t) => {
  const cases: { name: string; prev: [number, number]; entries: Entry[]; want: number[] }[] = [
    { name: "append after the end", prev: [2, 2], entries: ents(3, 3), want: [1, 2, 3] },
    { name: "replace a conflicting suffix", prev: [1, 1], entries: ents(2, 3, 4), want: [1, 3, 4] },
    { name: "matching entries are kept", prev: [0, 0], entries: ents(1, 1), want: [1, 2] },
    { name: "replace from the first entry", prev: [0, 0], entries: ents(1, 3), want: [3] },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const p = new Peer("b", ["a", "b", "c"], {
        entries: log(1, 2),
        hardState: { term: 2, vote: "", commit: 0 },
      });
      p.step(
        app({
          from: "a",
          to: "b",
          term: 4,
          logTerm: c.prev[1],
          index: c.prev[0],
          entries: c.entries,
        }),
      );
      p.drain();
      assert.deepEqual(p.log().map((e) => e.term), c.want);
    });
  }
  await t.step("a reordered, shorter MsgApp does not truncate newer entries", () => {
    const p = new Peer("b", ["a", "b", "c"]);
    p.step(app({ from: "a", to: "b", term: 1, entries: ents(1, 1, 1, 1) }));
    p.step(app({ from: "a", to: "b", term: 1, entries: ents(1, 1) }));
    const acks = ofType(p.drain(), "appResp").map((m) => m.index);
    assert.deepEqual(acks, [3, 1]);
    assert.equal(p.log().length, 3);
  });
});

/** Figure 7: the leader (term 8) and six possible follower logs. */
const FIGURE_7_LEADER = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
const FIGURE_7: Record<string, number[]> = {
  a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
  b: [1, 1, 1, 4],
  c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
  d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
  e: [1, 1, 1, 4, 4, 4, 4],
  f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
};

Deno.test("§5.3 the leader brings any follower log in line with its own (Figure 7)", async (t) => {
  for (const [name, terms] of Object.entries(FIGURE_7)) {
    await t.step(`follower (${name})`, () => {
      const net = new Network(["l", "f", "x"]);
      net.add(
        "l",
        new Peer("l", ["l", "f", "x"], {
          entries: log(...FIGURE_7_LEADER),
          hardState: { term: 7, vote: "", commit: 0 },
        }).storage,
      );
      net.add(
        "f",
        new Peer("f", ["l", "f", "x"], {
          entries: log(...terms),
          hardState: { term: 7, vote: "", commit: 0 },
        }).storage,
      );
      net.isolate("x");
      net.raw("l").campaign();
      net.processReady("l");
      // x grants (f may refuse: its log can be more up-to-date).
      net.raw("l").step({ type: "voteResp", from: "x", to: "l", term: 8, reject: false });
      net.stabilize();
      assert.equal(net.leader(), "l");
      const want = [...FIGURE_7_LEADER, 8];
      assert.deepEqual(net.node("f").storage.entries(1, 12, Infinity).map((e) => e.term), want);
      assert.equal(net.raw("f").status().commit, 11);
      const rejects = net.delivered.filter((m) => m.type === "appResp" && m.reject).length;
      assert.ok(rejects <= 3, `fast back-off: ${rejects} rejections`);
    });
  }
});

Deno.test("§5.3 heartbeats carry min(match, commit) so followers never commit unknown entries", () => {
  const p = readyLeader();
  p.raw.propose("x");
  ackAll(p, p.drain(), ["b"]);
  p.drain();
  assert.equal(p.status().commit, 2);
  p.tick();
  const hbs = ofType(p.drain(), "heartbeat").map((m) => [m.to, m.commit]);
  assert.deepEqual(hbs, [["b", 2], ["c", 1]]);
});

Deno.test("§5.3 flow control: at most maxInflightMsgs MsgApps in flight per follower", () => {
  const p = readyLeader(["a", "b"], { maxInflightMsgs: 3 });
  const sent: number[] = [];
  for (let i = 0; i < 6; i++) {
    p.raw.propose(`e${i}`);
    for (const m of ofType(p.drain(), "app")) sent.push(m.entries.length);
  }
  assert.deepEqual(sent, [1, 1, 1], "the window of 3 is full");
  assert.equal(p.status().progress.b?.state, "replicate");
  p.step({ type: "heartbeatResp", from: "b", to: "a", term: 1, context: "" });
  const probe = ofType(p.drain(), "app");
  assert.deepEqual(
    probe.map((m) => m.entries.length),
    [0],
    "a full window still sends an empty MsgApp on heartbeat (lost MsgApps cannot stall it)",
  );
  p.step(appResp({ from: "b", to: "a", term: 1, index: 3 }));
  const more = ofType(p.drain(), "app").map((m) => m.entries.map((e) => e.index));
  assert.deepEqual(more, [[5, 6, 7]], "two slots freed: the rest streams at once");
});

Deno.test("§5.3 a MsgApp carries at most maxSizePerMsg of entry data (but at least one entry)", () => {
  const p = readyLeader(["a", "b"], { maxSizePerMsg: 10 });
  p.raw.propose("0123456789abcdef");
  p.raw.propose("xxxx");
  p.raw.propose("yyyy");
  const apps = ofType(p.drain(), "app").filter((m) => m.entries.length > 0);
  assert.deepEqual(apps.map((m) => m.entries.map((e) => e.data)), [
    ["0123456789abcdef"],
    ["xxxx", "yyyy"],
  ]);
});
