import assert from "node:assert/strict";
import { prefixEnd } from "../../src/kv/key_order.ts";
import { KvStateMachine } from "../../src/kv/state_machine.ts";
import type { Compare, KvCommand, KvRecord, KvResult } from "../../src/kv/types.ts";

/** a=1@1 (version 1), b={"n":2}@2 updated @3 (version 2, created 2). */
function fixture(): KvStateMachine {
  const sm = new KvStateMachine();
  sm.apply(1, { type: "put", key: "a", value: "1" });
  sm.apply(2, { type: "put", key: "b", value: '{"n":1}' });
  sm.apply(3, { type: "put", key: "b", value: '{"n":2,"m":"x"}' });
  sm.drain();
  return sm;
}

const A: KvRecord = { key: "a", value: "1", version: 1, createIndex: 1, modIndex: 1 };
const B: KvRecord = { key: "b", value: '{"n":2,"m":"x"}', version: 2, createIndex: 2, modIndex: 3 };

const rec = (
  key: string,
  value: string,
  version: number,
  createIndex: number,
  modIndex: number,
): KvRecord => ({ key, value, version, createIndex, modIndex });

const CASES: [string, KvCommand, KvResult][] = [
  ["put creates with version 1", { type: "put", key: "c", value: "true" }, {
    type: "put",
    record: rec("c", "true", 1, 10, 10),
    prev: null,
  }],
  ["put replaces: version+1, createIndex kept", { type: "put", key: "b", value: "0" }, {
    type: "put",
    record: rec("b", "0", 3, 2, 10),
    prev: null,
  }],
  ["put with prev returns the previous record", { type: "put", key: "b", value: "0", prev: true }, {
    type: "put",
    record: rec("b", "0", 3, 2, 10),
    prev: B,
  }],
  [
    "put with prev on a new key gives prev null",
    { type: "put", key: "c", value: "0", prev: true },
    { type: "put", record: rec("c", "0", 1, 10, 10), prev: null },
  ],
  ["put If-Match holds", { type: "put", key: "b", value: "0", ifModIndex: 3 }, {
    type: "put",
    record: rec("b", "0", 3, 2, 10),
    prev: null,
  }],
  ["put If-Match fails with current", { type: "put", key: "b", value: "0", ifModIndex: 2 }, {
    type: "preconditionFailed",
    current: B,
  }],
  ["put If-Match on a missing key fails with null", {
    type: "put",
    key: "c",
    value: "0",
    ifModIndex: 0,
  }, { type: "preconditionFailed", current: null }],
  ["put If-None-Match on a missing key writes", {
    type: "put",
    key: "c",
    value: "0",
    ifAbsent: true,
  }, { type: "put", record: rec("c", "0", 1, 10, 10), prev: null }],
  ["put If-None-Match on an existing key fails", {
    type: "put",
    key: "a",
    value: "0",
    ifAbsent: true,
  }, { type: "preconditionFailed", current: A }],
  ["delete of an existing key", { type: "delete", key: "a" }, { type: "delete", deleted: 1 }],
  ["delete of a missing key", { type: "delete", key: "zz" }, { type: "delete", deleted: 0 }],
  ["delete If-Match holds", { type: "delete", key: "a", ifModIndex: 1 }, {
    type: "delete",
    deleted: 1,
  }],
  ["delete If-Match fails", { type: "delete", key: "a", ifModIndex: 9 }, {
    type: "preconditionFailed",
    current: A,
  }],
  ["delete If-Match on a missing key fails", { type: "delete", key: "zz", ifModIndex: 1 }, {
    type: "preconditionFailed",
    current: null,
  }],
  ["deleteRange [a, b)", { type: "deleteRange", range: { start: "a", end: "b" } }, {
    type: "deleteRange",
    deleted: 1,
  }],
  ["deleteRange unbounded", { type: "deleteRange", range: { start: "", end: null } }, {
    type: "deleteRange",
    deleted: 2,
  }],
  ["deleteRange empty", { type: "deleteRange", range: { start: "c", end: "a" } }, {
    type: "deleteRange",
    deleted: 0,
  }],
  ["txn with no compares succeeds; ops see earlier ops", {
    type: "txn",
    compare: [],
    success: [
      { op: "put", key: "c", value: "1" },
      { op: "put", key: "c", value: "2" },
      { op: "get", key: "c" },
      { op: "delete", key: "a" },
      { op: "get", key: "a" },
      { op: "delete", key: "a" },
    ],
    failure: [],
  }, {
    type: "txn",
    succeeded: true,
    results: [
      rec("c", "1", 1, 10, 10),
      rec("c", "2", 2, 10, 10),
      rec("c", "2", 2, 10, 10),
      { deleted: 1 },
      null,
      { deleted: 0 },
    ],
  }],
  ["txn takes the failure branch when a compare fails", {
    type: "txn",
    compare: [{ key: "a", target: "version", op: "==", value: 1 }, {
      key: "b",
      target: "exists",
      op: "==",
      value: false,
    }],
    success: [{ op: "delete", key: "a" }],
    failure: [{ op: "get", key: "b" }, { op: "get", key: "nope" }],
  }, { type: "txn", succeeded: false, results: [B, null] }],
];

Deno.test("KvStateMachine.apply() per command", async (t) => {
  for (const [name, cmd, want] of CASES) {
    await t.step(name, () => {
      assert.deepEqual(fixture().apply(10, cmd), want);
    });
  }
});

/** [compare, expected outcome] against the fixture. */
const COMPARES: [Compare, boolean][] = [
  [{ key: "a", target: "exists", op: "==", value: true }, true],
  [{ key: "a", target: "exists", op: "!=", value: true }, false],
  [{ key: "z", target: "exists", op: "==", value: false }, true],
  [{ key: "z", target: "exists", op: "!=", value: false }, false],
  [{ key: "a", target: "exists", op: "<", value: true }, false],
  [{ key: "b", target: "version", op: "==", value: 2 }, true],
  [{ key: "b", target: "version", op: "!=", value: 2 }, false],
  [{ key: "b", target: "version", op: "<", value: 3 }, true],
  [{ key: "b", target: "version", op: ">", value: 1 }, true],
  [{ key: "z", target: "version", op: "==", value: 0 }, true],
  [{ key: "b", target: "modIndex", op: "==", value: 3 }, true],
  [{ key: "b", target: "modIndex", op: ">", value: 3 }, false],
  [{ key: "z", target: "modIndex", op: "<", value: 1 }, true],
  [{ key: "b", target: "createIndex", op: "==", value: 2 }, true],
  [{ key: "z", target: "createIndex", op: "==", value: 0 }, true],
  [{ key: "b", target: "createIndex", op: "!=", value: 2 }, false],
  [{ key: "b", target: "value", op: "==", value: '{ "m": "x", "n": 2.0 }' }, true],
  [{ key: "b", target: "value", op: "!=", value: '{"m":"x","n":2}' }, false],
  [{ key: "b", target: "value", op: "!=", value: '{"m":"x"}' }, true],
  [{ key: "a", target: "value", op: "==", value: "1e0" }, true],
  [{ key: "a", target: "value", op: "<", value: "2" }, true],
  [{ key: "a", target: "value", op: ">", value: "0.5" }, true],
  [{ key: "a", target: "value", op: ">", value: "1" }, false],
  [{ key: "a", target: "value", op: "<", value: '"2"' }, false],
  [{ key: "b", target: "value", op: "<", value: '{"n":3}' }, false],
  [{ key: "z", target: "value", op: "==", value: "null" }, false],
  [{ key: "z", target: "value", op: "!=", value: "null" }, false],
  [{ key: "a", target: "value", op: "==", value: "not json" }, false],
];

Deno.test("txn compares per target and op", async (t) => {
  for (const [c, want] of COMPARES) {
    await t.step(`${c.key}.${c.target} ${c.op} ${JSON.stringify(c.value)} is ${want}`, () => {
      const res = fixture().apply(10, { type: "txn", compare: [c], success: [], failure: [] });
      assert.deepEqual(res, { type: "txn", succeeded: want, results: [] });
    });
  }
  await t.step("strings compare in code point order", () => {
    const sm = new KvStateMachine();
    sm.apply(1, { type: "put", key: "s", value: '"\\uffff"' });
    const lt: Compare = { key: "s", target: "value", op: "<", value: JSON.stringify("\u{10000}") };
    const r = sm.apply(2, { type: "txn", compare: [lt], success: [], failure: [] });
    assert.equal(r.type === "txn" && r.succeeded, true);
  });
  await t.step("value equality follows structure, not spelling", () => {
    const sm = new KvStateMachine();
    sm.apply(1, { type: "put", key: "v", value: '{"a":[1,{"b":null}],"c":"x"}' });
    const eq = (value: string) => {
      const c: Compare = { key: "v", target: "value", op: "==", value };
      const r = sm.apply(2, { type: "txn", compare: [c], success: [], failure: [] });
      return r.type === "txn" && r.succeeded;
    };
    assert.equal(eq('{"c":"x","a":[1.0,{"b":null}]}'), true);
    assert.equal(eq('{"a":[{"b":null},1],"c":"x"}'), false, "array order matters");
    assert.equal(eq('{"a":[1,{"b":null}],"c":"x","d":1}'), false, "an extra key");
    assert.equal(eq('{"a":[1,{"b":null}],"d":"x"}'), false, "another key, same count");
    assert.equal(eq('{"a":[1,{"b":false}],"c":"x"}'), false);
    assert.equal(eq('{"a":{"0":1,"1":{"b":null}},"c":"x"}'), false, "an object is no array");
  });
  await t.step("a value nested deeper than the stack compares without throwing", () => {
    // Every node applies this: a throw would stop them all, again on replay.
    const deep = (d: number) => "[".repeat(d) + "]".repeat(d);
    const sm = new KvStateMachine();
    sm.apply(1, { type: "put", key: "d", value: deep(200_000) });
    for (const [value, op, want] of [[deep(200_000), "==", true], [deep(199_999), "!=", true]]) {
      const c = { key: "d", target: "value", op, value } as Compare;
      const r = sm.apply(2, { type: "txn", compare: [c], success: [], failure: [] });
      assert.equal(r.type === "txn" && r.succeeded, want);
    }
  });
});

Deno.test("KvStateMachine tracks dirty keys until drain()", async (t) => {
  await t.step("drain() gives the last state per key and clears", () => {
    const sm = fixture();
    sm.apply(4, { type: "put", key: "c", value: "1" });
    sm.apply(5, { type: "delete", key: "c" });
    sm.apply(6, { type: "delete", key: "a" });
    sm.apply(7, { type: "put", key: "a", value: "2" });
    sm.apply(8, { type: "put", key: "b", value: "3" });
    sm.apply(8, { type: "put", key: "b", value: "4" });
    assert.ok(sm.dirty);
    const d = sm.drain();
    assert.deepEqual(d.deletes, ["c"]);
    assert.deepEqual(d.puts, [rec("a", "2", 1, 7, 7), rec("b", "4", 4, 2, 8)]);
    assert.deepEqual(sm.drain(), { puts: [], deletes: [] });
    assert.equal(sm.dirty, false);
  });
  await t.step("failed preconditions and reads change nothing", () => {
    const sm = fixture();
    sm.apply(4, { type: "put", key: "a", value: "1", ifAbsent: true });
    sm.apply(5, { type: "delete", key: "zz" });
    sm.apply(6, { type: "txn", compare: [], success: [{ op: "get", key: "a" }], failure: [] });
    sm.apply(7, { type: "deleteRange", range: { start: "x", end: null } });
    assert.deepEqual(sm.drain(), { puts: [], deletes: [] });
  });
  await t.step("deleteRange marks every deleted key", () => {
    const sm = fixture();
    sm.apply(4, { type: "deleteRange", range: { start: "", end: null } });
    assert.deepEqual(sm.drain().deletes, ["a", "b"]);
    assert.equal(sm.size, 0);
  });
});

Deno.test("KvStateMachine reads: get, range, entries, load, reset", async (t) => {
  const keys = ["a", "a/1", "a/\u{1F600}", "a/\uffff", "a0", "b", "\u{10000}", "\uffff"];
  const sm = new KvStateMachine();
  keys.forEach((k, i) => sm.apply(i + 1, { type: "put", key: k, value: String(i) }));
  const inOrder = ["a", "a/1", "a/\uffff", "a/\u{1F600}", "a0", "b", "\uffff", "\u{10000}"];
  await t.step("entries() are in code point order", () => {
    assert.deepEqual([...sm.entries()].map((r) => r.key), inOrder);
  });
  await t.step("range() with a prefix, limit and reverse", () => {
    const prefix = { start: "a/", end: prefixEnd("a/") };
    const keysOf = (rs: KvRecord[]) => rs.map((r) => r.key);
    assert.deepEqual(keysOf(sm.range(prefix)), ["a/1", "a/\uffff", "a/\u{1F600}"]);
    assert.deepEqual(keysOf(sm.range(prefix, { reverse: true, limit: 2 })), [
      "a/\u{1F600}",
      "a/\uffff",
    ]);
    assert.deepEqual(keysOf(sm.range({ start: "\uffff", end: null })), ["\uffff", "\u{10000}"]);
  });
  await t.step("get() returns the record or null", () => {
    assert.equal(sm.get("b")?.value, "5");
    assert.equal(sm.get("c"), null);
  });
  await t.step("load() accepts any order and clears the dirty set", () => {
    const other = new KvStateMachine();
    other.apply(1, { type: "put", key: "old", value: "0" });
    other.load([...sm.entries()].reverse());
    assert.deepEqual([...other.entries()], [...sm.entries()]);
    assert.equal(other.dirty, false);
    other.reset();
    assert.equal(other.size, 0);
  });
});

Deno.test("KvStateMachine onChange reports each change of an entry in apply order", async (t) => {
  const changes = (sm: KvStateMachine, index: number, cmd: KvCommand) => {
    const got: unknown[] = [];
    sm.onChange = (c) => got.push(c);
    sm.apply(index, cmd);
    sm.onChange = undefined;
    return got;
  };

  await t.step("a range delete reports the keys that existed then", () => {
    const sm = fixture();
    assert.deepEqual(changes(sm, 10, { type: "deleteRange", range: { start: "", end: null } }), [
      { type: "delete", key: "a", modIndex: 10 },
      { type: "delete", key: "b", modIndex: 10 },
    ]);
    assert.deepEqual(changes(sm, 11, { type: "deleteRange", range: { start: "", end: null } }), []);
  });

  await t.step("a txn reports its puts and real deletes, not gets", () => {
    const sm = fixture();
    const got = changes(sm, 10, {
      type: "txn",
      compare: [],
      success: [
        { op: "get", key: "a" },
        { op: "put", key: "c", value: "3" },
        { op: "delete", key: "zz" },
        { op: "delete", key: "a" },
      ],
      failure: [],
    });
    assert.deepEqual(got, [
      { type: "put", record: rec("c", "3", 1, 10, 10) },
      { type: "delete", key: "a", modIndex: 10 },
    ]);
  });

  await t.step("a failed precondition reports nothing", () => {
    const sm = fixture();
    assert.deepEqual(changes(sm, 10, { type: "put", key: "a", value: "2", ifAbsent: true }), []);
    assert.deepEqual(changes(sm, 10, { type: "delete", key: "a", ifModIndex: 9 }), []);
  });
});

Deno.test("KvStateMachine.liveBytes counts live keys and values through every change", () => {
  const sm = fixture(); // a=1, b={"n":2,"m":"x"}
  const count = (m: KvStateMachine) =>
    [...m.entries()].reduce((n, r) => n + r.key.length + r.value.length, 0);
  assert.equal(sm.liveBytes, count(sm));
  sm.apply(4, { type: "put", key: "a", value: '"longer"' }); // an overwrite
  sm.apply(5, { type: "delete", key: "b" });
  sm.apply(6, { type: "delete", key: "missing" });
  sm.apply(7, {
    type: "txn",
    compare: [],
    success: [{ op: "put", key: "t/1", value: "1" }, { op: "put", key: "t/2", value: "22" }],
    failure: [],
  });
  sm.apply(8, { type: "deleteRange", range: { start: "t/", end: "t/2" } });
  assert.equal(sm.liveBytes, count(sm));
  assert.equal(sm.liveBytes, "a".length + '"longer"'.length + "t/2".length + "22".length);
  const loaded = new KvStateMachine();
  loaded.load(sm.entries());
  assert.equal(loaded.liveBytes, sm.liveBytes);
  loaded.reset();
  assert.equal(loaded.liveBytes, 0);
});
