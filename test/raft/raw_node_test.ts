import assert from "node:assert/strict";
import { Network } from "./_util/network.ts";

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
