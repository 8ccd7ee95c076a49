import assert from "node:assert/strict";
import { Progress } from "../../src/raft/progress.ts";

function progress(
  f: { state?: "probe" | "replicate" | "snapshot"; match: number; next: number; snap?: number },
): Progress {
  const pr = new Progress(f.next, 256, false);
  pr.match = f.match;
  if (f.state === "replicate") pr.becomeReplicate();
  if (f.state === "snapshot") pr.becomeSnapshot(f.snap ?? 0);
  pr.next = f.next;
  return pr;
}

Deno.test("Progress.maybeUpdate() raises match and never lowers next", () => {
  const cases: [number, boolean, number, number][] = [
    // update, changed, match, next   (start: match 3, next 5)
    [2, false, 3, 5], // stale ack
    [3, false, 3, 5], // duplicate ack
    [4, true, 4, 5],
    [5, true, 5, 6],
    [8, true, 8, 9],
  ];
  for (const [n, changed, match, next] of cases) {
    const pr = progress({ match: 3, next: 5 });
    assert.equal(pr.maybeUpdate(n), changed, `update(${n})`);
    assert.equal(pr.match, match);
    assert.equal(pr.next, next);
  }
});

Deno.test("Progress.maybeDecrTo() backs off on rejections", async (t) => {
  const cases: {
    name: string;
    state: "probe" | "replicate";
    match: number;
    next: number;
    rejected: number;
    hint: number;
    ok: boolean;
    wantNext: number;
  }[] = [
    {
      name: "replicate: stale rejection",
      state: "replicate",
      match: 5,
      next: 10,
      rejected: 5,
      hint: 5,
      ok: false,
      wantNext: 10,
    },
    {
      name: "replicate: back to match + 1",
      state: "replicate",
      match: 5,
      next: 10,
      rejected: 9,
      hint: 9,
      ok: true,
      wantNext: 6,
    },
    {
      name: "probe: rejection of an older probe",
      state: "probe",
      match: 0,
      next: 10,
      rejected: 5,
      hint: 5,
      ok: false,
      wantNext: 10,
    },
    {
      name: "probe: jump to the hint",
      state: "probe",
      match: 0,
      next: 10,
      rejected: 9,
      hint: 4,
      ok: true,
      wantNext: 5,
    },
    {
      name: "probe: a hint at or past the rejected index moves back one",
      state: "probe",
      match: 0,
      next: 10,
      rejected: 9,
      hint: 20,
      ok: true,
      wantNext: 9,
    },
    {
      name: "probe: never below match + 1",
      state: "probe",
      match: 3,
      next: 10,
      rejected: 9,
      hint: 0,
      ok: true,
      wantNext: 4,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const pr = progress(c);
      assert.equal(pr.maybeDecrTo(c.rejected, c.hint), c.ok);
      assert.equal(pr.next, c.wantNext);
    });
  }
});

Deno.test("Progress pauses per state", async (t) => {
  await t.step("probe: one MsgApp, then paused until an answer", () => {
    const pr = progress({ match: 0, next: 1 });
    assert.equal(pr.isPaused(), false);
    pr.sentEntries(1, 1, 0);
    assert.equal(pr.isPaused(), true);
    assert.equal(pr.next, 1, "probe does not advance next");
    pr.maybeDecrTo(0, 0);
    assert.equal(pr.isPaused(), false);
  });
  await t.step("replicate: optimistic next, paused when the window is full", () => {
    const pr = new Progress(1, 2, false);
    pr.becomeReplicate();
    pr.sentEntries(3, 3, 0);
    assert.equal(pr.next, 4);
    assert.equal(pr.isPaused(), false);
    pr.sentEntries(2, 5, 0);
    assert.equal(pr.isPaused(), true);
    pr.maybeUpdate(3);
    pr.inflights.freeLE(3);
    assert.equal(pr.isPaused(), false);
  });
  await t.step("snapshot: always paused", () => {
    const pr = progress({ state: "snapshot", match: 0, next: 11, snap: 10 });
    assert.equal(pr.isPaused(), true);
  });
});

Deno.test("Progress transitions", async (t) => {
  await t.step("becomeProbe() from snapshot resumes after the snapshot", () => {
    const pr = progress({ state: "snapshot", match: 1, next: 11, snap: 10 });
    pr.becomeProbe();
    assert.equal(pr.state, "probe");
    assert.equal(pr.next, 11);
    assert.equal(pr.pendingSnapshot, 0);
  });
  await t.step("becomeProbe() from replicate resumes after match", () => {
    const pr = progress({ state: "replicate", match: 4, next: 9 });
    pr.becomeProbe();
    assert.equal(pr.next, 5);
  });
  await t.step("becomeReplicate() streams from match + 1 with an empty window", () => {
    const pr = progress({ match: 4, next: 9 });
    pr.becomeReplicate();
    assert.equal(pr.next, 5);
    assert.equal(pr.inflights.count, 0);
  });
  await t.step("becomeSnapshot() records the snapshot index", () => {
    const pr = progress({ match: 0, next: 1 });
    pr.becomeSnapshot(7);
    assert.equal(pr.pendingSnapshot, 7);
    assert.equal(pr.next, 8);
  });
});
