/**
 * Membership through the log, over HTTP: a fourth node joins as a learner,
 * is promoted to voter, receives writes, is removed; leadership moves to a
 * chosen voter; the committed membership survives restarts.
 */
import assert from "node:assert/strict";
import { freePort, get, put, TestCluster, TestNode, until } from "./_cluster.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const JSON_H = { "content-type": "application/json" };

async function call(url: string, method: string, body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: JSON_H,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

function isVoter(members: { id: string; role: string }[], id: string): boolean {
  return members.some((m) => m.id === id && m.role === "voter");
}

Deno.test("members join, get promoted, leave, and leadership moves on request", opts, async (t) => {
  const c = await TestCluster.start({ size: 3 });
  let n4: TestNode | undefined;
  try {
    const leader = await c.waitLeader();
    const lurl = c.node(leader).url;
    for (let i = 0; i < 20; i++) assert.equal((await put(lurl, `k${i}`, i)).status, 200);
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;

    await t.step("a learner joins through the log and catches up", async () => {
      const taken = c.nodes.find((n) => n.spec.id !== leader)!.url;
      const dup = await call(`${lurl}/v1/cluster/members`, "POST", { id: "n4", url: taken });
      assert.equal(dup.status, 409, "a URL another member has");
      const r = await call(`${lurl}/v1/cluster/members`, "POST", { id: "n4", url, learner: true });
      assert.equal(r.status, 200);
      const early = await call(`${lurl}/v1/cluster/members`, "POST", {
        id: "n4",
        url,
        learner: false,
      });
      assert.equal(early.status, 409, "a learner with nothing yet is not promoted");
      assert.match(early.body.error.message, /not caught up/);
      const peers = [...c.nodes.map((n) => `${n.spec.id}=${n.url}`), `n4=${url}`].join(",");
      n4 = new TestNode({ id: "n4", port, dataDir: `${c.root}/n4` }, [
        "--id",
        "n4",
        "--listen",
        `127.0.0.1:${port}`,
        "--peers",
        peers,
        "--data-dir",
        `${c.root}/n4`,
        "--tick-ms",
        "50",
      ], {});
      n4.start();
      await until("n4 to catch up", async () => {
        const g = await get(url, "k19", "stale");
        return g.status === 200 ? true : undefined;
      });
      const status = await (await fetch(`${lurl}/v1/cluster`)).json();
      assert.equal(status.members.find((m: { id: string }) => m.id === "n4").role, "learner");
      // n4 was started with other --peers; it took the cluster's id from the leader.
      const mine = await (await fetch(`${url}/v1/cluster`)).json();
      assert.equal(mine.clusterId, status.clusterId);
    });

    await t.step("the learner is promoted to voter", async () => {
      const r = await call(`${lurl}/v1/cluster/members`, "POST", { id: "n4", url, learner: false });
      assert.equal(r.status, 200);
      // The 200 means committed (by a quorum of the old voters, which n4 is
      // not in) and applied on the leader, whose answer lists the members now.
      assert.ok(isVoter(r.body.members, "n4"), JSON.stringify(r.body));
      // n4's /v1/cluster is n4's own view: it learns the new commit index a
      // moment after the leader answers. A linearizable read on n4 reflects
      // every write acknowledged before it started (API.md §4), so after one
      // n4 has applied the promotion too.
      assert.equal((await get(url, "k19")).status, 200);
      const status = await (await fetch(`${url}/v1/cluster`)).json();
      assert.ok(status.self.appliedIndex >= r.body.index, JSON.stringify(status));
      assert.ok(isVoter(status.members, "n4"), JSON.stringify(status));
      assert.equal((await put(url, "via-n4", true)).status, 200);
    });

    await t.step("leadership moves to the voter asked for", async () => {
      const target = c.nodes.find((n) => n.spec.id !== leader)!.spec.id;
      const r = await call(`${lurl}/v1/cluster/leader`, "POST", { id: target });
      assert.equal(r.status, 200);
      assert.equal(await c.waitLeader(), target);
    });

    await t.step("a member is removed and the rest go on", async () => {
      const l = await c.waitLeader();
      const r = await call(`${c.node(l).url}/v1/cluster/members/n4`, "DELETE");
      assert.equal(r.status, 200);
      // n4 learns it was removed (from its own log or from a member that
      // refuses its stream when it campaigns) and stops serving: no writes,
      // not ready. Until then it may answer 503 no_leader: it lost the leader.
      await until("n4 to know it was removed", async () => {
        const w = await put(n4!.url, "from-removed", 1);
        return w.status === 503 && /removed from the cluster/.test(w.body.error.message)
          ? true
          : undefined;
      });
      const ready = await fetch(`${n4!.url}/readyz`);
      await ready.body?.cancel();
      assert.equal(ready.status, 503);
      // Added back, it serves again (a 410 it saw is no verdict for life).
      const back = await call(`${c.node(l).url}/v1/cluster/members`, "POST", {
        id: "n4",
        url,
        learner: true,
      });
      assert.equal(back.status, 200);
      await until("n4 to serve again", async () => {
        const ready = await fetch(`${n4!.url}/readyz`);
        await ready.body?.cancel();
        return ready.status === 200 ? true : undefined;
      });
      assert.equal((await call(`${c.node(l).url}/v1/cluster/members/n4`, "DELETE")).status, 200);
      await n4!.kill();
      assert.equal((await put(c.node(l).url, "after-remove", 1)).status, 200);
      const status = await (await fetch(`${c.node(l).url}/v1/cluster`)).json();
      assert.ok(!status.members.some((m: { id: string }) => m.id === "n4"));
    });

    await t.step("the committed membership survives a restart of every node", async () => {
      await Promise.all(c.nodes.map((n) => n.kill()));
      for (const n of c.nodes) n.start();
      const l = await c.waitLeader();
      const status = await (await fetch(`${c.node(l).url}/v1/cluster`)).json();
      assert.deepEqual(status.members.map((m: { id: string }) => m.id).sort(), ["n1", "n2", "n3"]);
    });
  } catch (e) {
    console.error(c.describe(), n4?.output);
    throw e;
  } finally {
    await n4?.kill();
    await c.stop();
  }
});

Deno.test("a member removed while down learns it when it comes back", opts, async () => {
  const c = await TestCluster.start({ size: 3 });
  try {
    const leader = await c.waitLeader();
    const gone = c.nodes.find((n) => n.spec.id !== leader)!;
    await gone.kill();
    const r = await call(`${c.node(leader).url}/v1/cluster/members/${gone.spec.id}`, "DELETE");
    assert.equal(r.status, 200);
    gone.start();
    // It never gets the entry that removed it: the members refuse its
    // streams (410) when it campaigns, and it stops serving.
    await until("the removed node to know", async () => {
      const ready = await fetch(`${gone.url}/readyz`).catch(() => null);
      const text = await ready?.text();
      // readyz says why (it said "no leader known or not caught up").
      return ready?.status === 503 && /removed from the cluster/.test(text ?? "") &&
          /removed from the cluster/.test(gone.output)
        ? true
        : undefined;
    });
    const w = await put(gone.url, "from-removed", 1);
    assert.equal(w.status, 503);
    assert.equal((await put(c.node(leader).url, "after", 1)).status, 200);
    // Added back (as a learner), a leader replicates to it again: it serves.
    const back = await call(`${c.node(leader).url}/v1/cluster/members`, "POST", {
      id: gone.spec.id,
      url: gone.url,
      learner: true,
    });
    assert.equal(back.status, 200);
    await until("the re-added node to serve", async () => {
      const g = await get(gone.url, "after", "stale");
      return g.status === 200 ? true : undefined;
    });
  } catch (e) {
    console.error(c.describe());
    throw e;
  } finally {
    await c.stop();
  }
});

Deno.test("a node of another cluster refuses streams from this one", opts, async () => {
  const root = await Deno.makeTempDir({ prefix: "raftkv-two-clusters-" });
  const node = (id: string) => {
    const port = freePort();
    return new TestNode({ id, port, dataDir: `${root}/${id}` }, [
      "--id",
      id,
      "--listen",
      `127.0.0.1:${port}`,
      "--data-dir",
      `${root}/${id}`,
    ], {});
  };
  const [a, b] = [node("n1"), node("n2")];
  try {
    for (const n of [a, b]) n.start();
    for (const n of [a, b]) {
      await until(
        `${n.spec.id} ready`,
        async () => (await put(n.url, "k", n.spec.id)).status === 200 || undefined,
      );
    }
    // Cluster A takes B's node as a learner by mistake (same id, its URL).
    const r = await call(`${a.url}/v1/cluster/members`, "POST", {
      id: "n2",
      url: b.url,
      learner: true,
    });
    assert.equal(r.status, 200);
    await until(
      "b to refuse a",
      () => /refused a peer of another cluster/.test(b.output) || undefined,
    );
    const mine = await (await fetch(`${b.url}/v1/cluster`)).json();
    assert.deepEqual(
      mine.members.map((m: { id: string }) => m.id),
      ["n2"],
      "b stays in its cluster",
    );
    assert.equal((await get(b.url, "k")).body.value, "n2");
    const theirs = await (await fetch(`${a.url}/v1/cluster`)).json();
    assert.equal(theirs.members.find((m: { id: string }) => m.id === "n2").matchIndex, 0);
  } finally {
    await a.kill();
    await b.kill();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});

Deno.test("founders started with different --peers stay apart", opts, async () => {
  const root = await Deno.makeTempDir({ prefix: "raftkv-mismatch-" });
  const ports = [freePort(), freePort(), freePort(), freePort()];
  const url = (i: number) => `http://127.0.0.1:${ports[i]}`;
  const three = [0, 1, 2].map((i) => `n${i + 1}=${url(i)}`);
  // n3 names a fourth member the others do not have (n4 never starts).
  const peersOf = (id: string) => (id === "n3" ? [...three, `n4=${url(3)}`] : three).join(",");
  const nodes = [0, 1, 2].map((i) => {
    const id = `n${i + 1}`;
    return new TestNode({ id, port: ports[i]!, dataDir: `${root}/${id}` }, [
      ...["--id", id, "--listen", `127.0.0.1:${ports[i]}`, "--peers", peersOf(id)],
      ...["--data-dir", `${root}/${id}`, "--tick-ms", "50"],
    ], {});
  });
  const [n1, , n3] = nodes as [TestNode, TestNode, TestNode];
  try {
    for (const n of nodes) n.start();
    await until(
      "n1 and n2 to take a write",
      async () => (await put(n1.url, "k", 1)).status === 200 || undefined,
    );
    await until("n3 to refuse", () => /members differ from --peers/.test(n3.output) || undefined);
    const mine = await (await fetch(`${n3.url}/v1/cluster`)).json();
    const theirs = await (await fetch(`${n1.url}/v1/cluster`)).json();
    assert.notEqual(mine.clusterId, theirs.clusterId, "n3 did not take their cluster id");
    assert.deepEqual(mine.members.map((m: { id: string }) => m.id).sort(), [
      "n1",
      "n2",
      "n3",
      "n4",
    ]);
    assert.equal(mine.self.appliedIndex, 0, "nothing of theirs reached n3");
    assert.equal((await get(n1.url, "k")).body.value, 1);
  } catch (e) {
    for (const n of nodes) console.error(n.output);
    throw e;
  } finally {
    for (const n of nodes) await n.kill();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});

Deno.test("a member started without --peers says why it cannot catch up", opts, async () => {
  const c = await TestCluster.start({ size: 3 });
  const port = freePort();
  const n4 = new TestNode({ id: "n4", port, dataDir: `${c.root}/n4` }, [
    ...["--id", "n4", "--listen", `127.0.0.1:${port}`, "--data-dir", `${c.root}/n4`],
    ...["--tick-ms", "50"],
  ], {});
  try {
    const lurl = c.node(await c.waitLeader()).url;
    const url = `http://127.0.0.1:${port}`;
    const r = await call(`${lurl}/v1/cluster/members`, "POST", { id: "n4", url, learner: true });
    assert.equal(r.status, 200);
    n4.start();
    // It hears the leader's appends but knows no URL to answer them at.
    await until(
      "n4 to name the missing --peers",
      () => /needs --peers/.test(n4.output) || undefined,
    );
  } catch (e) {
    console.error(n4.output);
    throw e;
  } finally {
    await n4.kill();
    await c.stop();
  }
});

Deno.test("a voter change that would cost the cluster its quorum is refused", opts, async () => {
  const c = await TestCluster.start({ size: 3 });
  try {
    const leader = await c.waitLeader();
    const lurl = c.node(leader).url;
    const [live, down] = c.nodes.filter((n) => n.spec.id !== leader) as [TestNode, TestNode];
    await down.kill();
    await until("the leader to stop hearing from the killed node", async () => {
      const st = await (await fetch(`${lurl}/v1/cluster`)).json();
      const m = st.members.find((x: { id: string }) => x.id === down.spec.id);
      return m.lastContactMs > 1500 || undefined; // the window: an election timeout, at least 1 s
    });
    const url = `http://127.0.0.1:${freePort()}`;
    const add = await call(`${lurl}/v1/cluster/members`, "POST", { id: "n4", url, learner: false });
    assert.equal(add.status, 409, "2 of 4 voters reachable");
    assert.match(add.body.error.message, /below a quorum of 3/);
    const rm = await call(`${lurl}/v1/cluster/members/${live.spec.id}`, "DELETE");
    assert.equal(rm.status, 409, "removing a live voter leaves 1 of 2");
    const demote = await call(`${lurl}/v1/cluster/members`, "POST", {
      id: live.spec.id,
      url: live.url,
      learner: true,
    });
    assert.equal(demote.status, 409, "demoting a live voter leaves 1 of 2");
    assert.equal((await put(lurl, "still", 1)).status, 200, "nothing changed; writes go on");
    const learner = await call(`${lurl}/v1/cluster/members`, "POST", {
      id: "n4",
      url,
      learner: true,
    });
    assert.equal(learner.status, 200, "a learner changes no quorum");
    const gone = await call(`${lurl}/v1/cluster/members/${down.spec.id}`, "DELETE");
    assert.equal(gone.status, 200, "removing the down voter leaves 2 of 2");
    assert.equal((await put(lurl, "after", 1)).status, 200);
  } finally {
    await c.stop();
  }
});
