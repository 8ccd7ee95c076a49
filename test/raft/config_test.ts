import assert from "node:assert/strict";
import {
  defaultRaftConfig,
  type RaftConfig,
  SeededRand,
  validateConfig,
} from "../../src/raft/mod.ts";

Deno.test("defaultRaftConfig() is valid and matches the documented defaults", () => {
  const c = defaultRaftConfig("n1", new SeededRand(1));
  validateConfig(c);
  assert.deepEqual(
    [
      c.electionTick,
      c.heartbeatTick,
      c.applied,
      c.maxSizePerMsg,
      c.maxInflightMsgs,
      c.preVote,
      c.checkQuorum,
    ],
    [10, 1, 0, 1024 * 1024, 256, true, true],
  );
});

Deno.test("validateConfig() throws RangeError for each invalid field", () => {
  const base = defaultRaftConfig("n1", new SeededRand(1));
  const bad: Partial<RaftConfig>[] = [
    { id: "" },
    { id: "UPPER" },
    { id: "x".repeat(33) },
    { heartbeatTick: 0 },
    { electionTick: 1 },
    { electionTick: 5, heartbeatTick: 5 },
    { electionTick: 2.5 },
    { applied: -1 },
    { maxSizePerMsg: 0 },
    { maxInflightMsgs: 0 },
    { rand: {} as RaftConfig["rand"] },
  ];
  for (const patch of bad) {
    assert.throws(() => validateConfig({ ...base, ...patch }), RangeError, JSON.stringify(patch));
  }
});

Deno.test("SeededRand is deterministic per seed and stays in range", () => {
  const a = new SeededRand(42);
  const b = new SeededRand(42);
  const xs = Array.from({ length: 100 }, () => a.intn(10));
  assert.deepEqual(xs, Array.from({ length: 100 }, () => b.intn(10)));
  assert.ok(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 10));
  assert.equal(new Set(xs).size, 10, "covers the range");
  assert.notDeepEqual(xs, Array.from({ length: 100 }, () => new SeededRand(43).intn(10)));
  assert.throws(() => a.intn(0), RangeError);
});
