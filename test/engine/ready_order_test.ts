/**
 * The order inside one Ready: the raft-engine write of its new entries
 * starts before its committed entries are applied, so an ack (and the
 * leader's self-ack) never waits behind an apply.
 * @module
 */
import assert from "node:assert/strict";
import type { RaftWrite } from "../../src/storage/stores.ts";
import { Cluster, put, settle } from "./_harness.ts";

Deno.test("a follower's write starts before the apply of the same Ready", async () => {
  const c = await Cluster.create();
  const leader = await c.elect("n1");
  const [f] = c.followers(leader);
  const kv = c.engine(leader);
  await kv.asyncWrite(put("warm", 0));
  await settle();

  // Hold f's writes: its ack of `a` waits, so the leader (one append in
  // flight per follower) sends f nothing more until it is released.
  const engine = c.node(f!).raftEngine!;
  const write = engine.write.bind(engine);
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const started: { first: number; applied: number }[] = [];
  engine.write = async (w: RaftWrite) => {
    if (w.entries.length > 0) {
      started.push({ first: w.entries[0]!.index, applied: c.region(f!).appliedIndex });
    }
    await gate;
    return write(w);
  };

  const a = await kv.asyncWrite(put("a", 1)); // committed by the leader and the other follower
  const b = kv.asyncWrite(put("b", 2));
  await settle();
  assert.ok(c.region(f!).appliedIndex < a.index, "f must not know that a committed yet");

  // f acks a; the next append brings b and the commit of a in one Ready.
  release();
  await b;
  await settle();
  const bIndex = a.index + 1;
  const wrote = started.find((s) => s.first === bIndex);
  assert.ok(wrote, `f wrote an append starting at ${bIndex}: ${JSON.stringify(started)}`);
  assert.ok(
    wrote.applied < a.index,
    `f started the write of ${bIndex} after applying up to ${wrote.applied}`,
  );
  assert.ok(c.region(f!).appliedIndex >= a.index, "f applied a afterwards");
});
