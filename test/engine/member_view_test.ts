/** Who is in the membership, who left, and whether this node was removed. */
import assert from "node:assert/strict";
import { MemberView } from "../../src/engine/member_view.ts";

const m = (...ids: string[]) => ({
  voters: ids.map((id) => ({ id, url: `http://${id}:1` })),
  learners: [],
});

Deno.test("MemberView tracks removed peers and this node's own removal", () => {
  const v = new MemberView("n1", m("n1", "n2", "n3"));
  assert.equal(v.removed, false);
  v.set(m("n1", "n2"));
  assert.equal(v.isRemovedPeer("n3"), true);
  v.set(m("n1", "n2", "n3"));
  assert.equal(v.isRemovedPeer("n3"), false, "re-added");
  assert.equal(v.toldRemoved(), true);
  assert.equal(v.toldRemoved(), false, "told once");
  assert.equal(v.removed, true);
  assert.equal(v.replicatedTo(), true);
  assert.equal(v.removed, false, "a leader replicates to it again");
  v.set(m("n2", "n3"));
  assert.equal(v.removed, true, "its own membership lacks it");
  assert.equal(v.has("n2"), true);
});
