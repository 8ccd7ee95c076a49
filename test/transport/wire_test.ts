import assert from "node:assert/strict";
import { decodeBatch, encodeBatch } from "../../src/transport/wire.ts";
import type { Message } from "../../src/raft/messages.ts";

const env = { from: "n1", to: "n2", term: 3 };
const entry = { term: 3, index: 7, type: "normal" as const, data: '{"type":"put"}' };
const ALL: Message[] = [
  { ...env, type: "app", logTerm: 2, index: 6, entries: [entry], commit: 5 },
  { ...env, type: "appResp", index: 7, reject: false, rejectHint: 0, logTerm: 0 },
  { ...env, type: "vote", index: 7, logTerm: 3, transfer: false },
  { ...env, type: "preVote", index: 7, logTerm: 3, transfer: true },
  { ...env, type: "voteResp", reject: true, commit: 5, commitTerm: 2 },
  { ...env, type: "preVoteResp", reject: false },
  { ...env, type: "heartbeat", commit: 5, context: "r-1" },
  { ...env, type: "heartbeatResp", context: "" },
  { ...env, type: "readIndex", context: "c" },
  { ...env, type: "readIndexResp", context: "c", index: 9, reject: false },
  { ...env, type: "timeoutNow" },
];

Deno.test("wire: every message type round-trips", () => {
  const text = encodeBatch({ region: 1, messages: ALL });
  assert.deepEqual(decodeBatch(text), { region: 1, messages: ALL });
});

Deno.test("wire: malformed batches are rejected at the gateway", async (t) => {
  const bad: [string, unknown][] = [
    ["not JSON", "{"],
    ["not an object", []],
    ["region 0", { region: 0, messages: [ALL[0]] }],
    ["no messages", { region: 1, messages: [] }],
    ["an extra batch field", { region: 1, messages: [ALL[0]], x: 1 }],
    ["an unknown type", { region: 1, messages: [{ ...env, type: "nope" }] }],
    ["an extra message field", { region: 1, messages: [{ ...ALL[7], extra: true }] }],
    ["a missing field", { region: 1, messages: [{ ...env, type: "heartbeat", commit: 1 }] }],
    ["a bad id", { region: 1, messages: [{ ...ALL[7], from: "N 1" }] }],
    ["a negative index", { region: 1, messages: [{ ...ALL[1], index: -1 }] }],
    ["a fractional term", { region: 1, messages: [{ ...ALL[7], term: 1.5 }] }],
    ["a bad entry type", {
      region: 1,
      messages: [{ ...ALL[0], entries: [{ ...entry, type: "weird" }] }],
    }],
    ["an entry with an extra field", {
      region: 1,
      messages: [{ ...ALL[0], entries: [{ ...entry, x: 1 }] }],
    }],
    ["a snapshot message (snapshots have their own route)", {
      region: 1,
      messages: [{
        ...env,
        type: "snap",
        snapshot: {
          meta: { index: 9, term: 3, confState: { voters: ["n1"], learners: [] } },
          data: "x",
        },
      }],
    }],
    ["a term past 2^52", { region: 1, messages: [{ ...ALL[6], term: 2 ** 52 + 1 }] }],
    ["a commit index past 2^52", { region: 1, messages: [{ ...ALL[6], commit: 2 ** 53 - 1 }] }],
    ["prototype keys", { region: 1, messages: [{ ...env, type: "toString" }] }],
  ];
  for (const [name, value] of bad) {
    await t.step(name, () => {
      const text = typeof value === "string" ? value : JSON.stringify(value);
      assert.throws(() => decodeBatch(text));
    });
  }
});
