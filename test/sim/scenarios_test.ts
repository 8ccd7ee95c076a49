/**
 * Named deterministic scenarios on the simulated cluster. Every event still
 * runs through the invariant checker; the assertions here state what each
 * scenario is about.
 * @module
 */
import assert from "node:assert/strict";
import type { NodeId } from "../../src/raft/mod.ts";
import {
  elect,
  leaderOf,
  propose,
  scenario,
  settle,
  statusOf,
  ticks,
  tickUntil,
} from "./driver.ts";
import { quiesce } from "./liveness.ts";
import type { Sim } from "./sim.ts";

function other(sim: Sim, not: NodeId): NodeId {
  return sim.cluster.ids().find((id) => id !== not) as NodeId;
}

Deno.test("§5.2 an isolated leader is replaced and its uncommitted entries superseded", () => {
  scenario({ seed: 1, nodes: 5 }, (sim) => {
    const old = settle(sim);
    sim.run({ kind: "isolate", node: old.id });
    propose(sim, old.id, 2);
    assert.equal(statusOf(sim, old.id).commit, old.commit, "cannot commit alone");
    tickUntil(sim, () => (leaderOf(sim)?.term ?? 0) > old.term, 60);
    const lead = leaderOf(sim)!;
    assert.notEqual(lead.id, old.id);
    propose(sim, lead.id);
    settle(sim);
    assert.equal(statusOf(sim, old.id).role, "follower");
    for (const p of sim.proposals.filter((p) => p.term === old.term)) {
      assert.notEqual(sim.inv.log.appliedAt(p.index)?.data, p.data);
    }
  });
});

Deno.test("§5.2 a split vote elects nobody, then a later term elects one leader", () => {
  scenario({ seed: 2, nodes: 4, preVote: false, checkQuorum: false }, (sim) => {
    sim.run({ kind: "cut", from: "n1", to: "n4" });
    sim.run({ kind: "cut", from: "n2", to: "n3" });
    sim.run({ kind: "campaign", node: "n1" });
    sim.run({ kind: "campaign", node: "n2" });
    quiesce(sim);
    const [a, b] = [statusOf(sim, "n1"), statusOf(sim, "n2")];
    assert.equal(a.role, "candidate");
    assert.equal(b.role, "candidate");
    assert.equal(a.term, b.term);
    assert.equal(leaderOf(sim), null);
    sim.run({ kind: "heal" });
    tickUntil(sim, () => leaderOf(sim) !== null, 60);
    assert.ok(leaderOf(sim)!.term > a.term);
    settle(sim);
  });
});

Deno.test("§7 a follower behind the leader's compacted log catches up from a snapshot", async (t) => {
  for (const liveSnapshots of [false, true]) {
    await t.step(`snapshot ${liveSnapshots ? "of the applied state" : "from storage"}`, () => {
      scenario({ seed: 3, nodes: 3, liveSnapshots }, (sim) => {
        const lead = settle(sim);
        const lag = other(sim, lead.id);
        sim.run({ kind: "crash", node: lag });
        propose(sim, lead.id, 30);
        for (const n of sim.cluster.up()) sim.run({ kind: "compact", node: n.id });
        const lagging = sim.cluster.node(lag).storage.lastIndex();
        assert.ok(sim.cluster.node(lead.id).storage.firstIndex() > lagging + 1);
        sim.run({ kind: "restart", node: lag });
        const fin = settle(sim);
        assert.ok(sim.inv.stats.snapshots >= 1, "a snapshot was installed");
        assert.equal(statusOf(sim, lag).applied, fin.commit);
        assert.ok(sim.cluster.node(lag).storage.snapshot().meta.index > lagging);
      });
    });
  }
});

Deno.test("thesis §3.10 leader transfer hands over leadership and drops proposals meanwhile", () => {
  scenario({ seed: 4, nodes: 3 }, (sim) => {
    const lead = settle(sim);
    const to = other(sim, lead.id);
    sim.run({ kind: "transfer", node: lead.id, to });
    sim.run({ kind: "propose", node: lead.id });
    assert.equal(sim.dropped, 1, "proposal during transfer is dropped");
    quiesce(sim);
    const now = leaderOf(sim)!;
    assert.equal(now.id, to);
    assert.ok(now.term > lead.term);
    propose(sim, to);
    settle(sim);
  });
});

Deno.test("§6 members are added as learner, promoted, and the leader removes itself", () => {
  scenario({ seed: 5, nodes: 3 }, (sim) => {
    let lead = settle(sim);
    const change = (type: "addLearner" | "addVoter" | "remove", nodeId: NodeId) => {
      sim.run({ kind: "confChange", node: lead.id, cc: { type, nodeId, context: "" } });
      propose(sim, settle(sim).id);
      lead = settle(sim);
    };
    change("addLearner", "n4");
    assert.deepEqual(lead.confState.learners, ["n4"]);
    assert.equal(statusOf(sim, "n4").applied, lead.commit);
    change("addVoter", "n4");
    assert.deepEqual(lead.confState.voters, ["n1", "n2", "n3", "n4"]);
    const old = lead.id;
    change("remove", old);
    assert.notEqual(lead.id, old);
    assert.ok(!lead.confState.voters.includes(old));
    assert.equal(sim.cluster.node(old).stopped, true, "removed node decommissioned");
    settle(sim);
  });
});

Deno.test("thesis §9.6 pre-vote keeps a returning partitioned node from deposing the leader", async (t) => {
  for (const preVote of [true, false]) {
    await t.step(`preVote ${preVote}`, () => {
      scenario({ seed: 6, nodes: 5, preVote, checkQuorum: false }, (sim) => {
        const lead = settle(sim);
        const away = other(sim, lead.id);
        sim.run({ kind: "isolate", node: away });
        propose(sim, lead.id, 3);
        ticks(sim, 60);
        const awayTerm = statusOf(sim, away).term;
        sim.run({ kind: "heal" });
        ticks(sim, 3);
        const now = statusOf(sim, lead.id);
        if (preVote) {
          assert.equal(awayTerm, lead.term, "pre-votes never bump the term");
          assert.equal(now.role, "leader");
          assert.equal(now.term, lead.term);
        } else {
          assert.ok(awayTerm > lead.term);
          assert.ok(now.term > lead.term, "the returning node's term deposed it");
        }
        settle(sim);
      });
    });
  }
});

Deno.test("thesis §6.4 a deposed leader that missed the new term cannot serve a read", () => {
  scenario({ seed: 10, nodes: 3, checkQuorum: false }, (sim) => {
    const old = settle(sim);
    sim.run({ kind: "isolate", node: old.id });
    tickUntil(sim, () => (leaderOf(sim)?.term ?? 0) > old.term, 60);
    propose(sim, leaderOf(sim)!.id, 2);
    assert.equal(statusOf(sim, old.id).role, "leader", "it still believes it leads");
    const served = sim.inv.stats.reads;
    sim.run({ kind: "read", node: old.id });
    ticks(sim, 5);
    assert.equal(sim.inv.stats.reads, served, "no quorum confirmed the read");
    settle(sim);
  });
});

Deno.test("thesis §6.2 check-quorum steps an isolated leader down", async (t) => {
  for (const checkQuorum of [true, false]) {
    await t.step(`checkQuorum ${checkQuorum}`, () => {
      scenario({ seed: 7, nodes: 3, checkQuorum }, (sim) => {
        const lead = settle(sim);
        sim.run({ kind: "isolate", node: lead.id });
        if (checkQuorum) {
          tickUntil(sim, () => statusOf(sim, lead.id).role !== "leader", 20);
        } else {
          ticks(sim, 40);
          assert.equal(statusOf(sim, lead.id).role, "leader");
        }
        settle(sim);
      });
    });
  }
});

Deno.test("§5.4.2 Figure 8: a leader never commits an old-term entry by counting replicas", () => {
  scenario({
    seed: 8,
    nodes: 5,
    preVote: false,
    checkQuorum: false,
    maxSizePerMsg: 1,
  }, (sim) => {
    const net = sim.cluster.net;
    // (a) n1 leads term 1 and replicates 2@1 to n2 only.
    elect(sim, "n1");
    sim.run({ kind: "split", side: ["n1", "n2"] });
    propose(sim, "n1");
    // (b) n5 wins term 2 with n3, n4 and writes 2@2 locally only.
    sim.run({ kind: "crash", node: "n1" });
    sim.run({ kind: "heal" });
    net.ignore((m) => m.from === "n5" && m.type === "app");
    elect(sim, "n5");
    sim.run({ kind: "crash", node: "n5" });
    sim.run({ kind: "heal" });
    // (c) n1 wins term 3 and brings 2@1 to n3 and n4 (a majority with
    // itself), but its 3@3 reaches nobody: n3 and n4 see only the probe they
    // reject for lacking index 2.
    sim.run({ kind: "restart", node: "n1" });
    const hasTwo = (id: NodeId) => sim.cluster.node(id).storage.lastIndex() >= 2;
    net.ignore((m) =>
      m.type === "app" && m.entries.some((e) => e.term === 3) &&
      (m.to === "n2" || hasTwo(m.to))
    );
    elect(sim, "n1");
    ticks(sim, 3);
    assert.equal(statusOf(sim, "n1").commit, 1, "2@1 is on a majority yet not committed");
    // (d) n5 returns and wins: it overwrites index 2 with its 2@2.
    sim.run({ kind: "crash", node: "n1" });
    sim.run({ kind: "heal" });
    sim.run({ kind: "restart", node: "n5" });
    elect(sim, "n5");
    settle(sim);
    assert.equal(sim.inv.log.appliedAt(2)?.term, 2);
  });
});

Deno.test({
  name: "§4.1 FINDINGS F1: a leader that demotes itself leaves the sole voter able to win",
  fn: () =>
    scenario({ seed: 9, nodes: 3 }, (sim) => {
      const change = (type: "addLearner", nodeId: NodeId) =>
        sim.run({ kind: "confChange", node: "n3", cc: { type, nodeId, context: "" } });
      elect(sim, "n3");
      change("addLearner", "n2");
      ticks(sim, 2);
      assert.deepEqual(statusOf(sim, "n1").confState.voters, ["n1", "n3"]);
      // n3 demotes itself; n1 persists and acks the change but never hears
      // that it committed, and n3 appends one more entry before it applies
      // the change and steps down.
      change("addLearner", "n3");
      sim.run({ kind: "ready", node: "n3", both: true });
      sim.run({ kind: "deliver", count: sim.cluster.net.size });
      sim.run({ kind: "ready", node: "n1", both: true });
      sim.run({ kind: "deliver", count: sim.cluster.net.size });
      sim.run({ kind: "isolate", node: "n1" });
      sim.run({ kind: "propose", node: "n3" });
      quiesce(sim);
      assert.deepEqual(statusOf(sim, "n3").confState.voters, ["n1"]);
      assert.deepEqual(statusOf(sim, "n1").confState.voters, ["n1", "n3"]);
      // n1, the only voter, needs n3's vote in its stale view; n3's log is
      // longer, so it refuses, and as a learner it never campaigns itself.
      settle(sim);
    }),
});
