import assert from "node:assert/strict";
import { body, jsonInit, makeApp } from "./_app.ts";

interface Changed {
  index: number;
  members: { id: string; url: string; role: string }[];
}

const errCode = async (res: Response) =>
  (await body(res) as { error: { code: string } }).error.code;

Deno.test("POST /v1/cluster/members adds a member through the log", async (t) => {
  await t.step("voter by default, learner when asked", async () => {
    const { app } = makeApp();
    let res = await app.request(
      "/v1/cluster/members",
      jsonInit("POST", { id: "n2", url: "http://h2:8080/" }),
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-raftkv-index"), "1");
    let b = await body(res) as Changed;
    assert.equal(b.index, 1);
    assert.deepEqual(b.members.at(-1), { id: "n2", url: "http://h2:8080", role: "voter" });
    res = await app.request(
      "/v1/cluster/members",
      jsonInit("POST", { id: "n3", url: "https://h3", learner: true }),
    );
    b = await body(res) as Changed;
    assert.deepEqual(b.members.at(-1), { id: "n3", url: "https://h3", role: "learner" });
  });

  await t.step("a conflicting member is 409 conflict", async () => {
    const { app } = makeApp();
    await app.request("/v1/cluster/members", jsonInit("POST", { id: "n2", url: "http://h2:1" }));
    const res = await app.request(
      "/v1/cluster/members",
      jsonInit("POST", { id: "n2", url: "http://other:1" }),
    );
    assert.equal(res.status, 409);
    assert.equal(await errCode(res), "conflict");
    const sameUrl = await app.request(
      "/v1/cluster/members",
      jsonInit("POST", { id: "n5", url: "http://h2:1", learner: true }),
    );
    assert.equal(sameUrl.status, 409, "another member's URL");
  });

  await t.step("bad bodies are 400s and change nothing", async () => {
    const { app, engine } = makeApp();
    const bad: unknown[] = [
      {},
      { id: "n2" },
      { url: "http://h:1" },
      { id: "N2", url: "http://h:1" },
      { id: "n2", url: "h:1" },
      { id: "n2", url: "http://h:1/path" },
      { id: "n2", url: "ftp://h:1" },
      { id: "n2", url: "http://h:1", learner: "yes" },
      { id: "n2", url: "http://h:1", extra: 1 },
    ];
    for (const b of bad) {
      const res = await app.request("/v1/cluster/members", jsonInit("POST", b));
      assert.equal(res.status, 400, JSON.stringify(b));
    }
    assert.equal(engine.members.length, 1);
    assert.equal(engine.index, 0);
  });
});

Deno.test("DELETE /v1/cluster/members/{id}", async (t) => {
  await t.step("removes a member", async () => {
    const { app, engine } = makeApp();
    await app.request("/v1/cluster/members", jsonInit("POST", { id: "n2", url: "http://h2:1" }));
    const res = await app.request("/v1/cluster/members/n2", { method: "DELETE" });
    assert.equal(res.status, 200);
    assert.deepEqual((await body(res) as Changed).members.map((m) => m.id), ["n1"]);
    assert.equal(engine.index, 2);
  });

  await t.step("an unknown member is 404 not_found; a bad id is 400", async () => {
    const { app } = makeApp();
    const res = await app.request("/v1/cluster/members/n9", { method: "DELETE" });
    assert.equal(res.status, 404);
    assert.deepEqual((await body(res) as { error: unknown }).error, {
      code: "not_found",
      message: '"n9" is not a member',
    });
    assert.equal(
      (await app.request("/v1/cluster/members/N%20X", { method: "DELETE" })).status,
      400,
    );
  });
});

Deno.test("POST /v1/cluster/leader transfers leadership", async (t) => {
  await t.step("to a voter", async () => {
    const { app, engine } = makeApp();
    await app.request("/v1/cluster/members", jsonInit("POST", { id: "n2", url: "http://h2:1" }));
    const res = await app.request("/v1/cluster/leader", jsonInit("POST", { id: "n2" }));
    assert.equal(res.status, 200);
    assert.deepEqual(await body(res), { leader: "n2" });
    assert.equal(res.headers.get("x-raftkv-leader"), "n2");
    assert.equal(engine.leaderInfo?.id, "n2");
  });

  await t.step("to a learner is 409, to a non-member 404; a bad body is 400", async () => {
    const { app } = makeApp();
    await app.request(
      "/v1/cluster/members",
      jsonInit("POST", { id: "n3", url: "http://h3:1", learner: true }),
    );
    for (const [id, status] of [["n3", 409], ["n7", 404]] as const) {
      const res = await app.request("/v1/cluster/leader", jsonInit("POST", { id }));
      assert.equal(res.status, status, id);
    }
    for (const b of [{}, { id: 1 }, { id: "n2", now: true }]) {
      assert.equal((await app.request("/v1/cluster/leader", jsonInit("POST", b))).status, 400);
    }
  });
});

Deno.test("membership requests on a follower are forwarded to the leader", async () => {
  const leader = makeApp({ id: "n1" });
  const follower = makeApp({
    id: "n2",
    leader: { id: "n1", url: "http://n1.test" },
    fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
      leader.app.request(new Request(input, init))) as typeof fetch,
  });
  let res = await follower.app.request(
    "/v1/cluster/members",
    jsonInit("POST", { id: "n3", url: "http://h3:1" }),
  );
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-raftkv-node"), "n2", "the node the client asked");
  assert.equal(res.headers.get("x-raftkv-leader"), "n1");
  assert.ok(leader.engine.members.some((m) => m.id === "n3"));
  res = await follower.app.request("/v1/cluster/members/n3", { method: "DELETE" });
  assert.equal(res.status, 200);
  assert.equal(leader.engine.members.length, 1);
});
