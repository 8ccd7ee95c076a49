import assert from "node:assert/strict";
import { logMembershipNotes } from "../src/membership_notes.ts";
import { Logger } from "../src/telemetry/logger.ts";

const MEMBERS = [{ id: "n1", url: "http://a:1" }, { id: "n2", url: "http://b:1" }];

function notes(config: Parameters<typeof logMembershipNotes>[1], newDataDir = false) {
  const lines: Record<string, unknown>[] = [];
  const log = new Logger("n1", "info", () => 0, (l) => lines.push(JSON.parse(l)));
  logMembershipNotes(log, config, MEMBERS, { newDataDir });
  return lines;
}

Deno.test("start-time notes on the flags against the membership in force", async (t) => {
  await t.step("nothing when the flags agree", () => {
    assert.deepEqual(notes({ id: "n1", advertise: "http://a:1/", peers: MEMBERS }), []);
    assert.deepEqual(notes({ id: "n1", advertise: "http://a:1", peers: [MEMBERS[0]!] }), []);
  });
  await t.step("a node serving at another URL than its member URL: warn", () => {
    const [l] = notes({ id: "n1", advertise: "http://a:2", peers: [] });
    assert.equal(l?.level, "warn");
    assert.equal(l?.memberUrl, "http://a:1");
    assert.equal(l?.advertise, "http://a:2");
  });
  await t.step("--peers other than the membership on an existing data dir: info", () => {
    const peers = [MEMBERS[0]!, { id: "n7", url: "http://c:1" }];
    const [l] = notes({ id: "n1", advertise: "http://a:1", peers });
    assert.equal(l?.level, "info");
    assert.match(String(l?.msg), /--peers ignored/);
    assert.deepEqual(notes({ id: "n1", advertise: "http://a:1", peers }, true), []);
  });
});
