/**
 * RaftWriteQueue: ordered, merged raft-engine writes behind the Ready loop.
 */
import assert from "node:assert/strict";
import { RaftWriteQueue, type WriteJob } from "../../src/engine/raft_write_queue.ts";
import type { Entry } from "../../src/raft/types.ts";
import type { RaftWrite } from "../../src/storage/stores.ts";

const e = (index: number, term = 1): Entry => ({ index, term, type: "normal", data: "" });
const job = (entries: Entry[], durable: () => void = () => {}): WriteJob => ({
  entries,
  hardState: null,
  sync: true,
  durable,
});

Deno.test("jobs queued during a write are merged into one write, later entries winning", async () => {
  const writes: RaftWrite[] = [];
  const q = new RaftWriteQueue(async (w) => {
    writes.push(w);
    await Promise.resolve();
  });
  q.push(job([e(1), e(2)]));
  q.push(job([e(3), e(4)]));
  q.push(job([e(4, 2), e(5, 2)]));
  await q.drain();
  assert.equal(writes.length, 2);
  assert.deepEqual(writes[1]!.entries.map((x) => [x.index, x.term]), [[3, 1], [4, 2], [5, 2]]);
});

Deno.test("durable callbacks run in order, after their write", async () => {
  const order: string[] = [];
  const q = new RaftWriteQueue(async (w) => {
    order.push(`write ${w.entries.map((x) => x.index).join(",")}`);
    await Promise.resolve();
  });
  q.push(job([e(1)], () => order.push("durable 1")));
  q.push(job([e(2)], () => order.push("durable 2")));
  await q.drain();
  assert.deepEqual(order, ["write 1", "durable 1", "write 2", "durable 2"]);
});

Deno.test("a job pushed as a run ends is not stranded", async () => {
  let durableB = false;
  const q = new RaftWriteQueue(() => Promise.resolve());
  // B is pushed after the run's last look at the queue but before the run's
  // promise settles: the exact gap that once stranded a job until the next push.
  q.push(job([e(1)], () => queueMicrotask(() => q.push(job([e(2)], () => (durableB = true))))));
  for (let i = 0; i < 20 && !durableB; i++) await new Promise((r) => setTimeout(r, 0));
  assert.ok(durableB, "the second job was written");
});

Deno.test("the hard state is written when term or vote change, not for the commit index alone", async () => {
  const writes: RaftWrite[] = [];
  const q = new RaftWriteQueue(async (w) => {
    writes.push(w);
    await Promise.resolve();
  });
  const hs = (term: number, vote: string, commit: number) => ({ term, vote, commit });
  const push = (entries: Entry[], hardState: ReturnType<typeof hs>) =>
    q.push({ ...job(entries), hardState });
  push([e(1)], hs(1, "a", 0));
  await q.drain();
  push([e(2)], hs(1, "a", 1)); // commit moved only: no hard-state row
  await q.drain();
  push([e(3, 2)], hs(2, "", 2)); // new term
  await q.drain();
  push([], hs(2, "b", 2)); // a vote, no entries: still written
  await q.drain();
  push([e(4, 2)], hs(2, "b", 3));
  await q.drain();
  assert.deepEqual(writes.map((w) => w.hardState), [
    hs(1, "a", 0),
    null,
    hs(2, "", 2),
    hs(2, "b", 2),
    null,
  ]);
  assert.deepEqual(writes.map((w) => w.entries.length), [1, 1, 1, 0, 1]);
});
