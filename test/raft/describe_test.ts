import assert from "node:assert/strict";
import { describeEntry, describeMessage, describeReady } from "../../src/raft/mod.ts";
import { Peer } from "./_util/peer.ts";
import { app, ent } from "./_util/entries.ts";

Deno.test("describeEntry() shows term/index, kind and (truncated) data", () => {
  assert.equal(describeEntry(ent(2, 7)), "2/7");
  assert.equal(describeEntry(ent(2, 7, "put a")), '2/7 "put a"');
  assert.equal(describeEntry({ term: 1, index: 3, type: "conf", data: "x" }), '1/3 conf "x"');
  assert.equal(describeEntry(ent(1, 1, "y".repeat(40))), `1/1 "${"y".repeat(24)}…"`);
});

Deno.test("describeMessage() is one stable line per message", () => {
  const m = app({
    from: "a",
    to: "b",
    term: 2,
    logTerm: 1,
    index: 4,
    commit: 4,
    entries: [ent(2, 5), ent(2, 6, "x")],
  });
  assert.equal(describeMessage(m), 'a->b app term=2 prev=1/4 commit=4 [2/5, 2/6 "x"]');
  assert.equal(
    describeMessage({
      type: "appResp",
      from: "b",
      to: "a",
      term: 2,
      index: 4,
      reject: true,
      rejectHint: 3,
      logTerm: 1,
    }),
    "b->a appResp term=2 rejected index=4 hint=1/3",
  );
  assert.equal(
    describeMessage({
      type: "vote",
      from: "a",
      to: "b",
      term: 3,
      index: 9,
      logTerm: 2,
      transfer: true,
    }),
    "a->b vote term=3 last=2/9 transfer",
  );
  assert.equal(
    describeMessage({ type: "timeoutNow", from: "a", to: "b", term: 3 }),
    "a->b timeoutNow term=3",
  );
});

Deno.test("describeReady() lists the non-empty parts on one line", () => {
  const p = new Peer("a", ["a", "b"]);
  p.raw.campaign();
  const line = describeReady(p.raw.ready());
  assert.equal(
    line,
    "soft candidate lead=- | hard term=1 vote=a commit=0 | after-persist [a->b vote term=1 last=0/0] | sync",
  );
  assert.ok(!line.includes("\n"));
});
