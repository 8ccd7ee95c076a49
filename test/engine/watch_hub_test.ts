import assert from "node:assert/strict";
import { CompactedError, UnavailableError } from "../../src/engine/errors.ts";
import { MAX_WATCHERS, WatchHub, type WatchOptions } from "../../src/engine/watch_hub.ts";
import { KvStateMachine } from "../../src/kv/state_machine.ts";
import { prefixEnd } from "../../src/kv/key_order.ts";
import type { KeyRange, KvCommand } from "../../src/kv/types.ts";
import { mulberry32 } from "../kv/prng.ts";
import { RecordingSink, show } from "./_watch_sink.ts";

const ALL: KeyRange = { start: "", end: null };
const prefix = (p: string): KeyRange => ({ start: p, end: prefixEnd(p) });
const put = (key: string, value = "1"): KvCommand => ({ type: "put", key, value });

/** A state machine and a hub wired as node.ts wires them; `every` logs all changes. */
function rig(opts: WatchOptions = {}, appliedIndex = 0) {
  const sm = new KvStateMachine();
  const hub = new WatchHub(appliedIndex, opts);
  const every: string[] = [];
  let index = appliedIndex;
  sm.onChange = (c) => {
    every.push(show(index, c));
    hub.record(c);
  };
  const apply = (cmd: KvCommand | null) => {
    index++;
    if (cmd) sm.apply(index, cmd);
    hub.applied(index);
    return index;
  };
  return { sm, hub, every, apply };
}

Deno.test("WatchHub", async (t) => {
  await t.step("a live watch gets its range's changes per entry, in apply order", () => {
    const { hub, apply } = rig();
    apply(put("u/1"));
    const sink = new RecordingSink();
    const w = hub.watch(prefix("u/"), null, sink);
    assert.equal(w.index, 1);
    apply(put("u/2"));
    apply(put("x"));
    apply({
      type: "txn",
      compare: [],
      success: [{ op: "put", key: "u/3", value: "1" }, { op: "delete", key: "u/1" }],
      failure: [],
    });
    apply({ type: "deleteRange", range: prefix("u/") });
    assert.deepEqual(sink.got, [
      "2:put:u/2",
      "4:put:u/3",
      "4:delete:u/1",
      "5:delete:u/2",
      "5:delete:u/3",
    ]);
    w.cancel();
  });

  await t.step("entries that change nothing send nothing", () => {
    const { hub, apply } = rig();
    apply(put("a"));
    const sink = new RecordingSink();
    const w = hub.watch(ALL, null, sink);
    apply(put("a", "2")); // index 2
    apply({ type: "put", key: "a", value: "3", ifAbsent: true }); // failed precondition
    apply({ type: "delete", key: "missing" });
    apply(null); // a no-op or conf change
    apply({ type: "txn", compare: [], success: [{ op: "get", key: "a" }], failure: [] });
    assert.deepEqual(sink.got, ["2:put:a"]);
    w.cancel();
  });

  await t.step("fromIndex replays held history, then goes on live: no gap, no duplicate", () => {
    const { hub, apply, every } = rig();
    for (let i = 0; i < 5; i++) apply(put(`k${i}`));
    const sink = new RecordingSink();
    const w = hub.watch(ALL, 3, sink);
    assert.equal(w.index, 5);
    for (let i = 5; i < 8; i++) apply(put(`k${i}`));
    assert.deepEqual(sink.got, every.slice(2));
    w.cancel();
  });

  await t.step("fromIndex 0 is everything; a future fromIndex skips what comes before it", () => {
    const { hub, apply, every } = rig();
    apply(put("a"));
    const all = new RecordingSink();
    const later = new RecordingSink();
    const w1 = hub.watch(ALL, 0, all);
    const w2 = hub.watch(ALL, 4, later);
    for (let i = 0; i < 4; i++) apply(put(`k${i}`));
    assert.deepEqual(all.got, every);
    assert.deepEqual(later.got, ["4:put:k2", "5:put:k3"]);
    w1.cancel();
    w2.cancel();
  });

  await t.step("history before the ring's floor is 410-compacted, with the oldest index", () => {
    const { hub, apply } = rig({ maxChanges: 3 });
    for (let i = 0; i < 6; i++) apply(put(`k${i}`));
    assert.equal(hub.oldestIndex, 4);
    assert.throws(
      () => hub.watch(ALL, 3, new RecordingSink()),
      (e) => e instanceof CompactedError && e.oldestIndex === 4,
    );
    const sink = new RecordingSink();
    hub.watch(ALL, 4, sink).cancel();
    assert.deepEqual(sink.got, ["4:put:k3", "5:put:k4", "6:put:k5"]);
  });

  await t.step("after a restart history starts at the loaded applied index", () => {
    const { hub } = rig({}, 50);
    assert.throws(() => hub.watch(ALL, 50, new RecordingSink()), CompactedError);
    hub.watch(ALL, 51, new RecordingSink()).cancel();
    hub.watch(ALL, null, new RecordingSink()).cancel();
  });

  await t.step("a snapshot install ends every watch and restarts history after it", () => {
    const { hub, apply } = rig();
    apply(put("a"));
    const sinks = [new RecordingSink(), new RecordingSink()];
    for (const s of sinks) hub.watch(ALL, 1, s);
    hub.replaced(40);
    assert.deepEqual(sinks.map((s) => s.ended), ["snapshot", "snapshot"]);
    assert.equal(hub.size, 0);
    assert.throws(
      () => hub.watch(ALL, 2, new RecordingSink()),
      (e) => e instanceof CompactedError && e.oldestIndex === 41,
    );
  });

  await t.step("a watcher that cannot keep up is ended; the others go on", () => {
    const { hub, apply } = rig();
    const slow = new RecordingSink();
    const fast = new RecordingSink();
    slow.room = 1;
    hub.watch(ALL, null, slow);
    hub.watch(ALL, null, fast);
    for (let i = 0; i < 4; i++) apply(put(`k${i}`));
    assert.equal(slow.ended, "overflow");
    assert.deepEqual(slow.got, ["1:put:k0", "2:put:k1"]); // whole entries only
    assert.equal(fast.got.length, 4);
    assert.equal(hub.size, 1);
    hub.close();
  });

  await t.step("an overflow during replay ends the watch before it goes live", () => {
    const { hub, apply } = rig();
    for (let i = 0; i < 4; i++) apply(put(`k${i}`));
    const sink = new RecordingSink();
    sink.room = 0;
    hub.watch(ALL, 1, sink).cancel(); // cancel after end is harmless
    assert.equal(sink.ended, "overflow");
    assert.deepEqual(sink.got, ["1:put:k0"]);
    assert.equal(hub.size, 0);
  });

  await t.step("cancel unregisters once and the gauge follows", () => {
    const values: number[] = [];
    const hub = new WatchHub(0, {}, { set: (v) => values.push(v) });
    const a = hub.watch(ALL, null, new RecordingSink());
    const b = hub.watch(ALL, null, new RecordingSink());
    a.cancel();
    a.cancel();
    b.cancel();
    assert.deepEqual(values, [1, 2, 1, 0]);
    assert.equal(hub.size, 0);
  });

  await t.step("close ends every watch with shutdown and refuses new ones", () => {
    const { hub } = rig();
    const sink = new RecordingSink();
    hub.watch(ALL, null, sink);
    hub.close();
    assert.equal(sink.ended, "shutdown");
    assert.throws(() => hub.watch(ALL, null, new RecordingSink()), UnavailableError);
  });

  // The test sanitizer checks that the interval is gone once no watcher is left.
  await t.step("keepalives reach every watcher while any exists", async () => {
    const hub = new WatchHub(0, { heartbeatMs: 5 });
    const sinks = [new RecordingSink(), new RecordingSink()];
    const both = Promise.all(sinks.map((s) => new Promise<void>((r) => (s.onKeepalive = r))));
    const watches = sinks.map((s) => hub.watch(ALL, null, s));
    // The heartbeat timer is unref'd; this deadline keeps the test alive.
    let deadline: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise((_, fail) => deadline = setTimeout(() => fail("no keepalive"), 5000));
    await Promise.race([both, late]);
    clearTimeout(deadline);
    for (const w of watches) w.cancel();
  });
});

Deno.test("WatchHub replays exactly the changes a full log shows (seeded)", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const rand = mulberry32(seed);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const keys = ["a", "a/1", "a/2", "b", "b/1", "c"];
    const ranges = [ALL, prefix("a"), prefix("b/"), { start: "a/2", end: "b/1" }];
    const { hub, apply, every } = rig({ maxChanges: 40 });
    const cmd = (): KvCommand =>
      pick([
        () => put(pick(keys)),
        () => ({ type: "delete", key: pick(keys) }) as const,
        () => ({ type: "deleteRange", range: pick(ranges) }) as const,
        () => ({ type: "put", key: pick(keys), value: "2", ifAbsent: true }) as const,
      ])();
    for (let i = 0; i < 60; i++) apply(cmd());
    const range = pick(ranges);
    const from = hub.oldestIndex + Math.floor(rand() * 20);
    const sink = new RecordingSink();
    const w = hub.watch(range, from, sink);
    for (let i = 0; i < 30; i++) apply(cmd());
    w.cancel();
    const inRange = (k: string) => k >= range.start && (range.end === null || k < range.end); // ASCII keys
    const want = every.filter((s) => {
      const [i, , k] = s.split(":");
      return Number(i) >= from && inRange(k!);
    });
    assert.deepEqual(sink.got, want, `seed ${seed}`);
  }
});

Deno.test("WatchHub serves MAX_WATCHERS watches at most; a cancelled one frees its place", () => {
  const { hub } = rig();
  const watches = Array.from(
    { length: MAX_WATCHERS },
    () => hub.watch(ALL, null, new RecordingSink()),
  );
  assert.throws(() => hub.watch(ALL, null, new RecordingSink()), UnavailableError);
  watches[0]!.cancel();
  hub.watch(ALL, null, new RecordingSink());
  assert.equal(hub.size, MAX_WATCHERS);
});
