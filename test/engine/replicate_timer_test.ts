import assert from "node:assert/strict";
import { ReplicateTimer } from "../../src/engine/replicate_timer.ts";
import type { Message } from "../../src/raft/messages.ts";

const entry = (index: number) => ({ term: 1, index, type: "normal" as const, data: "" });

function app(to: string, first: number, last: number): Message {
  const entries = [];
  for (let i = first; i <= last; i++) entries.push(entry(i));
  return { type: "app", from: "n1", to, term: 1, logTerm: 1, index: first - 1, entries, commit: 0 };
}

function ack(from: string, index: number, reject = false): Message {
  return { type: "appResp", from, to: "n1", term: 1, index, reject, rejectHint: 0, logTerm: 0 };
}

function timer() {
  let now = 0;
  const seen: number[] = [];
  const t = new ReplicateTimer((s) => seen.push(s), () => now);
  return { t, seen, at: (ms: number) => now = ms };
}

Deno.test("ReplicateTimer", async (s) => {
  await s.step("an ack times the appends it covers, per follower, from the newest", () => {
    const { t, seen, at } = timer();
    t.sent([app("n2", 1, 3), app("n3", 1, 3)]);
    at(5);
    t.sent([app("n2", 4, 4)]);
    at(12);
    t.received(ack("n2", 4)); // covers both sends to n2: one observation, of the newest
    t.received(ack("n3", 3));
    assert.deepEqual(seen, [0.007, 0.012]);
  });

  await s.step("empty appends, heartbeats, stale acks and rejects are not timed", () => {
    const { t, seen, at } = timer();
    t.sent([app("n2", 2, 1)]); // no entries: a commit index only
    t.received(ack("n2", 1));
    t.sent([app("n2", 5, 6)]);
    at(3);
    t.received(ack("n2", 4)); // older than what is in flight
    t.received(ack("n2", 6, true)); // a reject: the sends are void
    t.received(ack("n2", 6));
    t.received({ type: "heartbeatResp", from: "n2", to: "n1", term: 1, context: "" } as Message);
    assert.deepEqual(seen, []);
  });

  await s.step("reset forgets everything in flight", () => {
    const { t, seen } = timer();
    t.sent([app("n2", 1, 1)]);
    t.reset();
    t.received(ack("n2", 1));
    assert.deepEqual(seen, []);
  });
});
