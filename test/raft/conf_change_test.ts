import assert from "node:assert/strict";
import {
  applyConfChange,
  type ConfChange,
  type ConfState,
  decodeConfChange,
  encodeConfChange,
  tryDecodeConfChange,
} from "../../src/raft/mod.ts";

const cs = (voters: string[], learners: string[] = []): ConfState => ({ voters, learners });

Deno.test("encodeConfChange() and decodeConfChange() round-trip", () => {
  const ccs: ConfChange[] = [
    { type: "addVoter", nodeId: "n-1", context: "http://10.0.0.1:8080" },
    { type: "addLearner", nodeId: "x", context: "" },
    { type: "remove", nodeId: "abc", context: '{"json":true}' },
  ];
  for (const cc of ccs) assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
});

Deno.test("decodeConfChange() rejects malformed data with TypeError", () => {
  for (
    const data of [
      "",
      "nope",
      "null",
      "[]",
      '{"type":"addVoter","nodeId":"a"}',
      '{"type":"promote","nodeId":"a","context":""}',
      '{"type":"remove","nodeId":"A B","context":""}',
    ]
  ) {
    assert.throws(() => decodeConfChange(data), TypeError, data);
    assert.equal(tryDecodeConfChange(data), null);
  }
});

Deno.test("applyConfChange() table", () => {
  const cases: [ConfState, ConfChange["type"], string, ConfState][] = [
    [cs(["a"]), "addVoter", "b", cs(["a", "b"])],
    [cs(["a", "b"]), "addVoter", "b", cs(["a", "b"])], // idempotent
    [cs(["a"], ["l"]), "addVoter", "l", cs(["a", "l"])], // promotion
    [cs(["a"]), "addLearner", "l", cs(["a"], ["l"])],
    [cs(["a", "b"]), "addLearner", "b", cs(["a"], ["b"])], // demotion
    [cs(["a", "b"], ["l"]), "remove", "l", cs(["a", "b"])],
    [cs(["a", "b"]), "remove", "b", cs(["a"])],
    [cs(["a", "b"]), "remove", "zz", cs(["a", "b"])], // idempotent
    [cs(["a"]), "remove", "a", cs(["a"])], // never leaves no voter
    [cs(["a"]), "addLearner", "a", cs(["a"])],
  ];
  for (const [before, type, nodeId, after] of cases) {
    assert.deepEqual(
      applyConfChange(before, { type, nodeId, context: "" }),
      after,
      `${type} ${nodeId}`,
    );
  }
});
