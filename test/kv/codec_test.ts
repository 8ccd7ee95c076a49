import assert from "node:assert/strict";
import { CommandDecodeError, decodeCommand, encodeCommand } from "../../src/kv/codec.ts";
import type { KvCommand } from "../../src/kv/types.ts";

const COMMANDS: KvCommand[] = [
  { type: "put", key: "a", value: '{"x":[1,2]}' },
  { type: "put", key: "😀/é", value: "null", ifModIndex: 7, prev: true },
  { type: "put", key: "k", value: '"s"', ifAbsent: true },
  { type: "delete", key: "a" },
  { type: "delete", key: "a", ifModIndex: 3 },
  { type: "deleteRange", range: { start: "a", end: "b" } },
  { type: "deleteRange", range: { start: "", end: null } },
  {
    type: "txn",
    compare: [
      { key: "a", target: "modIndex", op: "==", value: 42 },
      { key: "b", target: "exists", op: "==", value: false },
      { key: "c", target: "value", op: "<", value: "10" },
    ],
    success: [
      { op: "put", key: "a", value: "1" },
      { op: "delete", key: "c" },
      { op: "get", key: "d" },
    ],
    failure: [{ op: "get", key: "a" }],
  },
];

Deno.test("encodeCommand() and decodeCommand() round-trip", async (t) => {
  for (const cmd of COMMANDS) {
    await t.step(`${cmd.type} ${JSON.stringify(cmd).slice(0, 60)}`, () => {
      const data = encodeCommand(cmd);
      assert.ok(!data.includes("\n"), "compact");
      assert.deepEqual(decodeCommand(data), cmd);
    });
  }
});

Deno.test("decodeCommand() rejects garbage", async (t) => {
  const bad = [
    "",
    "not json",
    "null",
    "[]",
    '{"type":"nope"}',
    '{"type":"put","key":1,"value":"1"}',
    '{"type":"put","key":"a"}',
    '{"type":"put","key":"a","value":"1","ifModIndex":1.5}',
    '{"type":"put","key":"a","value":"1","ifAbsent":"yes"}',
    '{"type":"delete"}',
    '{"type":"deleteRange","range":{"start":"a"}}',
    '{"type":"deleteRange","range":null}',
    '{"type":"txn","compare":[],"success":[]}',
    '{"type":"txn","compare":[{"key":"a","target":"size","op":"==","value":1}],"success":[],"failure":[]}',
    '{"type":"txn","compare":[{"key":"a","target":"version","op":"<=","value":1}],"success":[],"failure":[]}',
    '{"type":"txn","compare":[{"key":"a","target":"version","op":"==","value":"1"}],"success":[],"failure":[]}',
    '{"type":"txn","compare":[{"key":"a","target":"exists","op":"==","value":1}],"success":[],"failure":[]}',
    '{"type":"txn","compare":[{"key":"a","target":"value","op":"==","value":1}],"success":[],"failure":[]}',
    '{"type":"txn","compare":[],"success":[{"op":"put","key":"a"}],"failure":[]}',
    '{"type":"txn","compare":[],"success":[{"op":"range","key":"a"}],"failure":[]}',
  ];
  for (const data of bad) {
    await t.step(data || "(empty)", () => {
      assert.throws(() => decodeCommand(data), CommandDecodeError);
    });
  }
});
