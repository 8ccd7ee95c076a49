/**
 * Hundreds of malformed requests, many built from seeded random bytes. Each
 * must get a 4xx with the JSON error shape and leave the store, the log and
 * the failpoints exactly as they were. `SEED=n` replays a run.
 */
import assert from "node:assert/strict";
import { jsonInit, makeApp } from "./_app.ts";
import {
  bodyCases,
  debugCases,
  headerCases,
  LIMITS,
  memberCases,
  pathCases,
  queryCases,
  txnCases,
} from "./_bad_inputs.ts";
import { prng } from "./_prng.ts";

const SEED = Number(Deno.env.get("SEED") ?? 0x5eed);
Deno.test(`bad input never changes anything (SEED=${SEED})`, async (t) => {
  const { app, engine, failpoints } = makeApp({ args: LIMITS, failpoints: true });
  for (const k of ["a", "b", "c/1", "c/2"]) {
    assert.equal((await app.request(`/v1/kv/${k}`, jsonInit("PUT", { value: k }))).status, 200);
  }
  failpoints.set("transport.send", { kind: "delay", ms: 1 });
  const dump = engine.dump();
  const commands = engine.commands.length;
  const fps = JSON.stringify(failpoints.list());
  const r = prng(SEED);
  const suites = {
    bodyCases,
    pathCases,
    queryCases,
    headerCases,
    txnCases,
    debugCases,
    memberCases,
  };
  let total = 0;
  for (const [suite, make] of Object.entries(suites)) {
    await t.step(suite, async () => {
      for (const c of make(r)) {
        total++;
        const where = `SEED=${SEED} ${suite}: ${c.name} (${c.init.method ?? "GET"} ${c.path})`;
        const res = await app.request(c.path, c.init);
        const text = await res.text();
        assert.ok(res.status >= 400 && res.status < 500, `${where} → ${res.status} ${text}`);
        assert.equal(res.headers.get("content-type"), "application/json", where);
        const b = JSON.parse(text);
        assert.equal(typeof b?.error?.code, "string", where);
        assert.equal(typeof b?.error?.message, "string", where);
        assert.equal(engine.commands.length, commands, `${where} reached the engine`);
        assert.equal(engine.dump(), dump, where);
        assert.equal(JSON.stringify(failpoints.list()), fps, where);
      }
    });
  }
  assert.ok(total >= 500, `only ${total} cases`);
});
