import assert from "node:assert/strict";
import { Deadlines } from "../src/deadlines.ts";

Deno.test("Deadlines: one shared timer races many promises", async (t) => {
  const d = new Deadlines(10);

  await t.step("a promise that settles first wins, and leaves nothing waiting", async () => {
    assert.equal(await d.within(Promise.resolve(7), 1000, () => 0), 7);
    await assert.rejects(d.within(Promise.reject(new Error("x")), 1000, () => 0), /x/);
    assert.equal(d.size, 0);
  });

  await t.step("a promise that never settles gets late()'s value or throw, not early", async () => {
    const never = new Promise<number>(() => {});
    // The shared timer is unref'd: something else must keep the loop alive (a server does).
    const hold = setTimeout(() => {}, 5000);
    const t0 = performance.now();
    const got = await Promise.all([
      d.within(never, 30, () => -1),
      d.within(never, 60, () => -2),
      d.within(never, 30, () => {
        throw new Error("late");
      }).catch((e: Error) => e.message),
    ]);
    clearTimeout(hold);
    assert.deepEqual(got, [-1, -2, "late"]);
    assert.ok(performance.now() - t0 >= 60, "no deadline fires before its time");
    assert.equal(d.size, 0);
  });

  await t.step("a settled promise is not expired later", async () => {
    let resolve!: (v: number) => void;
    const p = new Promise<number>((r) => resolve = r);
    const raced = d.within(p, 20, () => -1);
    resolve(5);
    assert.equal(await raced, 5);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await raced, 5);
  });
});
