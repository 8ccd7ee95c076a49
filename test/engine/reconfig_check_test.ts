import assert from "node:assert/strict";
import { checkQuorumAfter } from "../../src/engine/reconfig_check.ts";
import { MembershipError } from "../../src/engine/errors.ts";

const up = (...ids: string[]) => (id: string) => ids.includes(id);

Deno.test("a voter change must leave a quorum of the new voter set reachable", async (t) => {
  const three = ["n1", "n2", "n3"];
  await t.step("adding a voter to three healthy voters", () => {
    checkQuorumAfter("add", three, [...three, "n4"], up("n1", "n2", "n3"));
  });
  await t.step("adding a voter while one of three is down: 2 of 4", () => {
    assert.throws(
      () => checkQuorumAfter('Adding voter "n4"', three, [...three, "n4"], up("n1", "n2")),
      (e: Error) =>
        e instanceof MembershipError &&
        /2 of 4 voters reachable, below a quorum of 3/.test(e.message) &&
        /not heard from: n3, n4/.test(e.message) && /as a learner/.test(e.message),
    );
  });
  await t.step("removing the down voter is fine; removing a live one is not", () => {
    checkQuorumAfter("remove", three, ["n1", "n2"], up("n1", "n2"));
    assert.throws(
      () => checkQuorumAfter("remove", three, ["n1", "n3"], up("n1", "n2")),
      (e: Error) => e instanceof MembershipError && !/learner/.test(e.message),
    );
  });
  await t.step("demoting the last voter says so (not '0 of 0 voters')", () => {
    assert.throws(
      () => checkQuorumAfter('Demoting "n1"', ["n1"], [], up("n1")),
      /Demoting "n1" would leave the cluster without a voter$/,
    );
  });
  await t.step("a lone voter may grow to two (etcd's exception)", () => {
    checkQuorumAfter("add", ["n1"], ["n1", "n2"], up("n1"));
    assert.throws(
      () => checkQuorumAfter("add", ["n1", "n2"], ["n1", "n2", "n3"], up("n1")),
      MembershipError,
    );
  });
});
