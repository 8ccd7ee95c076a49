import assert from "node:assert/strict";
import { body, jsonInit, makeApp } from "./_app.ts";

const errCode = async (res: Response) =>
  (await body(res) as { error: { code: string } }).error.code;

Deno.test("/debug/failpoints is 404 unless failpoints are enabled", async () => {
  const { app, failpoints } = makeApp();
  for (
    const [path, init] of [
      ["/debug/failpoints", {}],
      ["/debug/failpoints", { method: "DELETE" }],
      ["/debug/failpoints/apply.before", jsonInit("PUT", { kind: "pause" })],
      ["/debug/failpoints/apply.before", { method: "DELETE" }],
    ] as const
  ) {
    const res = await app.request(path, init);
    assert.equal(res.status, 404, `${init.method ?? "GET"} ${path}`);
    assert.equal(await errCode(res), "not_found");
  }
  assert.deepEqual(failpoints.list(), {});
});

Deno.test("/debug/failpoints drives the registry", async (t) => {
  const { app, failpoints } = makeApp({ failpoints: true });

  await t.step("PUT sets every kind of action", async () => {
    const actions = [
      ["transport.send", { kind: "drop", peers: ["n2"] }],
      ["transport.receive", { kind: "drop" }],
      ["storage.raft.commit", { kind: "error" }],
      ["storage.data.commit", { kind: "delay", ms: 50 }],
      ["apply.before", { kind: "pause" }],
      ["peer.after_persist_before_send", { kind: "crash" }],
    ] as const;
    for (const [name, action] of actions) {
      const res = await app.request(`/debug/failpoints/${name}`, jsonInit("PUT", action));
      assert.equal(res.status, 200, name);
    }
    assert.deepEqual(failpoints.list(), Object.fromEntries(actions));
    assert.equal("peers" in failpoints.list()["transport.receive"]!, false);
  });

  await t.step("GET lists them", async () => {
    const res = await app.request("/debug/failpoints");
    assert.deepEqual(await body(res), { failpoints: failpoints.list() });
  });

  await t.step("bad names and actions are 400s", async () => {
    const before = failpoints.list();
    const cases: [string, unknown][] = [
      ["nope", { kind: "error" }],
      ["apply.before", { kind: "explode" }],
      ["apply.before", { kind: "delay" }],
      ["apply.before", { kind: "delay", ms: -1 }],
      ["apply.before", { kind: "delay", ms: "5" }],
      ["apply.before", { kind: "drop", peers: "n2" }],
      ["apply.before", { kind: "drop", peers: ["N 2"] }],
      ["apply.before", { kind: "error", extra: true }],
      ["apply.before", []],
    ];
    for (const [name, action] of cases) {
      const res = await app.request(`/debug/failpoints/${name}`, jsonInit("PUT", action));
      assert.equal(res.status, 400, `${name} ${JSON.stringify(action)}`);
    }
    assert.equal((await app.request("/debug/failpoints/nope", { method: "DELETE" })).status, 400);
    assert.deepEqual(failpoints.list(), before);
  });

  await t.step("DELETE one, then all", async () => {
    let res = await app.request("/debug/failpoints/apply.before", { method: "DELETE" });
    assert.equal(res.status, 200);
    assert.equal("apply.before" in failpoints.list(), false);
    res = await app.request("/debug/failpoints", { method: "DELETE" });
    assert.deepEqual(await body(res), { failpoints: {} });
    assert.deepEqual(failpoints.list(), {});
  });
});

Deno.test("/debug/failpoints requires the cluster token when one is set", async () => {
  const { app, failpoints } = makeApp({ failpoints: true, args: ["--cluster-token", "s3cret"] });
  for (
    const auth of [undefined, "Bearer nope", "Bearer s3cret2", "s3cret", "Basic s3cret", "Bearer "]
  ) {
    const headers: Record<string, string> = auth === undefined ? {} : { authorization: auth };
    const res = await app.request(
      "/debug/failpoints/apply.before",
      jsonInit("PUT", { kind: "pause" }, headers),
    );
    assert.equal(res.status, 401, String(auth));
    assert.equal(await errCode(res), "unauthorized");
    assert.equal(res.headers.get("www-authenticate"), "Bearer");
  }
  assert.deepEqual(failpoints.list(), {});
  const ok = await app.request(
    "/debug/failpoints/apply.before",
    jsonInit("PUT", { kind: "pause" }, { authorization: "Bearer s3cret" }),
  );
  assert.equal(ok.status, 200);
  assert.equal((await app.request("/debug/failpoints")).status, 401);
});
