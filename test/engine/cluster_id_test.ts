/**
 * The cluster id a node reports: founders agree from their `--peers`; a
 * fresh node adopts the one a leader presents and keeps it once it has applied.
 */
import assert from "node:assert/strict";
import { ClusterIdentity, clusterIdOf } from "../../src/engine/cluster_id.ts";
import { memberIds } from "../../src/transport/member_ids.ts";

const founders = [
  { id: "n1", url: "http://a:1" },
  { id: "n2", url: "http://b:1" },
];

Deno.test("cluster id: founders agree, a fresh joiner follows its leader's and keeps it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "raftkv-clusterid-" });
  try {
    const a = await clusterIdOf(founders);
    assert.equal(await clusterIdOf([...founders].reverse()), a);
    assert.match(a, /^[0-9a-f]{16}$/);

    const joiner = await ClusterIdentity.load(dir, [...founders, { id: "n3", url: "http://c:1" }]);
    assert.notEqual(joiner.id, a);
    joiner.save();
    assert.equal(joiner.adopt(a), false, "not fresh: keeps its id");
    let applied = 0;
    joiner.fresh = () => applied === 0;
    assert.equal(joiner.adopt("not-an-id"), false);
    assert.equal(joiner.adopt("00000000000000ff"), true);
    assert.equal(joiner.adopt(a), true, "a later leader's, while nothing is applied");
    assert.equal(joiner.id, a);
    // Stored before adopt() returns: the leader's messages are stepped next.
    assert.equal(Deno.readTextFileSync(`${dir}/cluster-id`).trim(), a);
    applied = 1;
    assert.equal(joiner.adopt("00000000000000ff"), false, "kept once entries are applied");
    applied = 0;

    // A founder that has applied entries never takes a joiner's guess.
    const founder = await ClusterIdentity.load(`${dir}/f`, founders).catch(() => null);
    assert.ok(founder);
    applied = 5;
    founder.fresh = () => applied === 0;
    assert.equal(founder.adopt("00000000000000ff"), false);

    const again = await ClusterIdentity.load(dir, [{ id: "n3", url: "http://c:1" }]);
    assert.equal(again.id, a, "stored across restarts");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cluster id: a node that applied entries refuses other clusters, logging each once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "raftkv-clusterid-" });
  try {
    const me = await ClusterIdentity.load(dir, founders);
    const other = "0123456789abcdef";
    const told: string[] = [];
    const refused = (peer: string | undefined, id: string) => told.push(`${peer}/${id}`);
    me.fresh = () => true;
    assert.equal(me.accepts(other, "x9", refused), true, "a fresh node may still join");
    me.fresh = () => false;
    assert.equal(me.accepts(me.id, "n2", refused), true);
    assert.equal(me.accepts(undefined, "n2", refused), true, "an older node sends none");
    assert.equal(me.accepts(other, "x9", refused), false);
    assert.equal(me.accepts(other, "x9", refused), false);
    assert.deepEqual(told, [`x9/${other}`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cluster id: a fresh node joins only a cluster whose members its --peers name", async () => {
  const dir = await Deno.makeTempDir({ prefix: "raftkv-clusterid-" });
  try {
    const joiner = [...founders, { id: "n3", url: "http://c:1" }];
    const me = await ClusterIdentity.load(dir, joiner);
    me.fresh = () => true;
    const theirs = await clusterIdOf(founders);
    const told: string[] = [];
    const refused = (peer: string | undefined, id: string, reason: string) =>
      told.push(`${peer}/${id}/${reason}`);

    // The leader added n3 first: its members are n3's --peers (URLs may differ).
    assert.equal(me.seedMembers, "n1,n2,n3");
    assert.equal(me.accepts(theirs, "n1", refused, memberIds(["n3", "n2", "n1"])), true);
    // Founders started with other --peers: n3 is not in their view, or one more is.
    assert.equal(me.accepts(theirs, "n1", refused, memberIds(["n1", "n2"])), false);
    assert.equal(me.accepts(theirs, "n2", refused, memberIds(["n1", "n2", "n3", "n4"])), false);
    assert.equal(me.accepts(theirs, "n2", refused, memberIds(["n1", "n2", "n3", "n4"])), false);
    assert.deepEqual(told, [`n1/${theirs}/members`, `n2/${theirs}/members`], "each told once");
    // Its own cluster's id needs no members check; once it has applied, ids decide.
    assert.equal(me.accepts(me.id, "n1", refused, memberIds(["n1"])), true);
    me.fresh = () => false;
    assert.equal(me.accepts(theirs, "n1", refused, memberIds(["n1", "n2", "n3"])), false);
    assert.equal(told.at(-1), `n1/${theirs}/cluster`);

    // Started with no --peers (itself alone), a new node may join any cluster.
    const alone = await ClusterIdentity.load(`${dir}/alone`, [{ id: "n4", url: "http://d:1" }]);
    alone.fresh = () => true;
    assert.equal(alone.accepts(theirs, "n1", refused, memberIds(["n1", "n2", "n4"])), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("member ids: sorted, comma-separated", () => {
  assert.equal(memberIds(["n2", "n1", "a-3"]), "a-3,n1,n2");
  assert.equal(memberIds(new Map([["n1", "u"], ["n0", "v"]]).keys()), "n0,n1");
});
