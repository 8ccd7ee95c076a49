/**
 * Entries only a forged append can carry (the leader encodes every entry):
 * data that does not decode is a no-op on every node alike, never an exit
 * that would come back at each replay. And forwarded writes: outcomes from
 * the leader they went to only, writes from members only.
 */
import assert from "node:assert/strict";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { ForwardQueue } from "../../src/engine/forward_queue.ts";
import { SnapshotStage } from "../../src/engine/snapshot_stage.ts";
import { Cluster, put, settle } from "./_harness.ts";

Deno.test("undecodable entry data applies as a no-op", async (t) => {
  for (const type of ["normal", "conf"] as const) {
    await t.step(`a ${type} entry of garbage`, async () => {
      const c = await Cluster.create();
      const leader = await c.elect("n1");
      await c.engine(leader).asyncWrite(put("a", 1));
      await c.tick(c.opts.heartbeatTicks);
      const f = c.followers(leader)[0]!;
      const st = c.region(f).status();
      const next = st.lastIndex + 1;
      c.region(f).receiveMessages({
        region: 1,
        messages: [{
          type: "app",
          from: leader,
          to: f,
          term: st.term,
          logTerm: st.term,
          index: st.lastIndex,
          entries: [{ term: st.term, index: next, type, data: "garbage" }],
          commit: next,
        }],
      }, ROOT_CONTEXT);
      await settle();
      assert.equal(c.region(f).appliedIndex, next, "applied past it");
      assert.deepEqual(c.region(f).members, c.region(leader).members);
    });
  }
});

Deno.test("a forwarded write's outcome is taken from the leader it went to only", async () => {
  const q = new ForwardQueue();
  const { id, done } = q.add("n1", Infinity);
  q.settle({ id, error: { name: "UnavailableError", message: "spoofed" } }, "n9");
  assert.equal(q.size, 1, "another node cannot settle it");
  q.settle({ id, index: 7, result: null }, "n1");
  assert.deepEqual(await done, { index: 7, result: null });
});

Deno.test("staged snapshots are bounded: the oldest staged goes first", () => {
  const stage = new SnapshotStage();
  const h = (index: number) => ({
    region: 1,
    from: "n1",
    to: "n2",
    term: 1,
    meta: { index, term: 1, confState: { voters: ["n1"], learners: [] } },
    membership: { voters: [{ id: "n1", url: "http://h:1" }], learners: [] },
  });
  const tokens = Array.from({ length: 10 }, (_, i) => stage.stage(h(i + 1), []));
  assert.throws(() => stage.take(tokens[5]!), /No staged snapshot/);
  assert.equal(stage.take(tokens[9]!).records.length, 0);
});
