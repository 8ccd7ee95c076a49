import assert from "node:assert/strict";
import { body, jsonInit, makeApp } from "./_app.ts";

const txn = (b: unknown) => jsonInit("POST", b);

async function withKeys(args: string[] = []) {
  const made = makeApp({ args });
  await made.app.request("/v1/kv/a", jsonInit("PUT", { value: 1 })); // index 1
  await made.app.request("/v1/kv/c", jsonInit("PUT", { value: "see" })); // index 2
  return made;
}

Deno.test("POST /v1/txn", async (t) => {
  await t.step("the API.md example: compares hold, success branch applies", async () => {
    const { app, engine } = await withKeys();
    const res = await app.request(
      "/v1/txn",
      txn({
        compare: [
          { key: "a", target: "modIndex", op: "==", value: 1 },
          { key: "b", target: "exists", op: "==", value: false },
        ],
        success: [
          { op: "put", key: "a", value: 2 },
          { op: "delete", key: "c" },
          { op: "get", key: "d" },
          { op: "get", key: "a" },
        ],
        failure: [{ op: "get", key: "a" }],
      }),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(await body(res), {
      succeeded: true,
      results: [
        { key: "a", version: 2, createIndex: 1, modIndex: 3 },
        { deleted: 1 },
        null,
        { key: "a", value: 2, version: 2, createIndex: 1, modIndex: 3 },
      ],
      index: 3,
    });
    assert.equal(res.headers.get("x-raftkv-index"), "3");
    assert.equal(engine.commands.length, 3);
  });

  await t.step("a failed compare is 200 with succeeded:false and the failure branch", async () => {
    const { app, engine } = await withKeys();
    const res = await app.request(
      "/v1/txn",
      txn({
        compare: [{ key: "a", target: "value", op: "==", value: 99 }],
        success: [{ op: "delete", key: "a" }],
        failure: [{ op: "get", key: "a" }],
      }),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(await body(res), {
      succeeded: false,
      results: [{ key: "a", value: 1, version: 1, createIndex: 1, modIndex: 1 }],
      index: 3,
    });
    assert.equal(engine.sm.get("a")?.value, "1");
  });

  await t.step("compare values are sent as JSON text; numbers as numbers", async () => {
    const { app, engine } = await withKeys();
    await app.request(
      "/v1/txn",
      txn({
        compare: [
          { key: "a", target: "value", op: "!=", value: { x: [1] } },
          { key: "a", target: "version", op: ">", value: 0 },
          { key: "a", target: "createIndex", op: "<", value: 9 },
        ],
      }),
    );
    assert.deepEqual(engine.commands.at(-1), {
      type: "txn",
      compare: [
        { key: "a", target: "value", op: "!=", value: '{"x":[1]}' },
        { key: "a", target: "version", op: ">", value: 0 },
        { key: "a", target: "createIndex", op: "<", value: 9 },
      ],
      success: [],
      failure: [],
    });
  });

  await t.step("an empty body is an always-succeeding empty batch", async () => {
    const { app } = await withKeys();
    const res = await app.request("/v1/txn", txn({}));
    assert.deepEqual(await body(res), { succeeded: true, results: [], index: 3 });
  });

  await t.step("max-txn-ops per branch; over is a 413", async () => {
    const { app, engine } = await withKeys(["--max-txn-ops", "3"]);
    const ops = (n: number) => Array.from({ length: n }, (_, i) => ({ op: "get", key: `k${i}` }));
    assert.equal(
      (await app.request("/v1/txn", txn({ success: ops(3), failure: ops(3) }))).status,
      200,
    );
    for (const b of [{ success: ops(4) }, { failure: ops(4) }, { compare: ops(4) }]) {
      const res = await app.request("/v1/txn", txn(b));
      assert.equal(res.status, 413);
      const err =
        (await body(res) as { error: { code: string; limit: number; actual: number } }).error;
      assert.deepEqual([err.code, err.limit, err.actual], ["too_large", 3, 4]);
    }
    assert.equal(engine.commands.length, 3);
  });

  await t.step("a key written twice in one branch is a 400 (one modIndex per write)", async () => {
    const { app, engine } = await withKeys();
    const before = engine.commands.length;
    const twice: unknown[] = [
      { success: [{ op: "put", key: "d", value: 1 }, { op: "put", key: "d", value: 2 }] },
      { failure: [{ op: "put", key: "d", value: 1 }, { op: "delete", key: "d" }] },
      {
        success: [{ op: "delete", key: "d" }, { op: "get", key: "x" }, { op: "delete", key: "d" }],
      },
    ];
    for (const b of twice) {
      const res = await app.request("/v1/txn", txn(b));
      assert.equal(res.status, 400, JSON.stringify(b));
      assert.match((await body(res) as { error: { message: string } }).error.message, /"d"/);
    }
    assert.equal(engine.commands.length, before);
    const fine = {
      success: [{ op: "put", key: "d", value: 1 }, { op: "get", key: "d" }],
      failure: [{ op: "delete", key: "d" }],
    };
    assert.equal((await app.request("/v1/txn", txn(fine))).status, 200);
  });

  await t.step("a txn whose gets would answer too much is a 413, nothing changed", async () => {
    const { app, engine } = await withKeys();
    const big = JSON.stringify("v".repeat(1024 * 1024 - 2)); // 1 MiB of JSON text
    const res = await app.request("/v1/kv/big", jsonInit("PUT", `{"value":${big}}`));
    assert.equal(res.status, 200);
    const before = engine.commands.length;
    const gets = (n: number) => Array.from({ length: n }, () => ({ op: "get", key: "big" }));
    const over = await app.request(
      "/v1/txn",
      txn({ success: [{ op: "put", key: "w", value: 1 }, ...gets(64)] }),
    );
    assert.equal(over.status, 413);
    assert.equal((await body(over) as { error: { limit: number } }).error.limit, 64 * 1024 * 1024);
    assert.equal(engine.commands.length, before);
    assert.equal((await app.request("/v1/txn", txn({ failure: gets(63) }))).status, 200);
  });

  await t.step("a value compare with a number a double would round is a 400", async () => {
    const { app, engine } = await withKeys();
    const before = engine.commands.length;
    const cmp = (value: string) =>
      app.request(
        "/v1/txn",
        jsonInit(
          "POST",
          `{"compare":[{"key":"a","target":"value","op":"==","value":${value}}]}`,
        ),
      );
    assert.equal((await cmp("12345678901234567890")).status, 400);
    assert.equal((await cmp('{"n":[0.1000000000000000055511151231257827]}')).status, 400);
    assert.equal(engine.commands.length, before);
    assert.equal((await cmp("1e2")).status, 200, "exact as a double");
  });

  await t.step("If-Match or If-None-Match on a txn is a 400, not ignored", async () => {
    const { app, engine } = await withKeys();
    const before = engine.commands.length;
    for (const h of [{ "if-match": '"1"' }, { "if-none-match": "*" }]) {
      const init = jsonInit("POST", { success: [{ op: "put", key: "p", value: 1 }] }, h);
      assert.equal((await app.request("/v1/txn", init)).status, 400);
    }
    assert.equal(engine.commands.length, before);
  });

  await t.step("keys and values are checked like single-key writes", async () => {
    const { app, engine } = await withKeys(["--max-value-bytes", "5"]);
    const cases: [unknown, number][] = [
      [{ success: [{ op: "get", key: "" }] }, 400],
      [{ success: [{ op: "get", key: "k".repeat(1025) }] }, 413],
      [{ success: [{ op: "put", key: "k", value: "123456" }] }, 413],
      [{ compare: [{ key: "k", target: "value", op: "==", value: "123456" }] }, 413],
      [{ compare: [{ key: "\ud800", target: "exists", op: "==", value: true }] }, 400],
    ];
    for (const [b, status] of cases) {
      assert.equal((await app.request("/v1/txn", txn(b))).status, status, JSON.stringify(b));
    }
    assert.equal(engine.commands.length, 2);
  });

  await t.step("schema violations are 400 invalid_request with issues", async () => {
    const { app, engine } = await withKeys();
    const bad: unknown[] = [
      [],
      '"txn"',
      null,
      { compare: "x" },
      { extra: [] },
      { compare: [{ key: "a", target: "size", op: "==", value: 1 }] },
      { compare: [{ key: "a", target: "version", op: ">=", value: 1 }] },
      { compare: [{ key: "a", target: "version", op: "==", value: -1 }] },
      { compare: [{ key: "a", target: "version", op: "==", value: 1.5 }] },
      { compare: [{ key: "a", target: "version", op: "==", value: "1" }] },
      { compare: [{ key: "a", target: "exists", op: "<", value: true }] },
      { compare: [{ key: "a", target: "exists", op: "==", value: 1 }] },
      { compare: [{ key: "a", target: "value", op: "==" }] },
      { compare: [{ key: "a", target: "modIndex", op: "==", value: 1, extra: 1 }] },
      { compare: [{ target: "exists", op: "==", value: true }] },
      { success: [{ op: "put", key: "a" }] },
      { success: [{ op: "delete", key: "a", value: 1 }] },
      { success: [{ op: "range", key: "a" }] },
      { success: [{ op: "get", key: 5 }] },
      { success: [null] },
    ];
    for (const b of bad) {
      const res = await app.request("/v1/txn", txn(b));
      assert.equal(res.status, 400, JSON.stringify(b));
      const err = (await body(res) as { error: { code: string; issues: unknown[] } }).error;
      assert.equal(err.code, "invalid_request");
      assert.ok(Array.isArray(err.issues), JSON.stringify(b));
    }
    assert.equal(engine.commands.length, 2);
  });

  await t.step("< and > take a number or a string value; other types are 400s", async () => {
    const { app, engine } = await withKeys();
    const before = engine.commands.length;
    for (const value of [true, null, [1, 2], { a: 1 }]) {
      for (const op of ["<", ">"]) {
        const b = { compare: [{ key: "a", target: "value", op, value }] };
        const res = await app.request("/v1/txn", txn(b));
        assert.equal(res.status, 400, JSON.stringify(b));
        assert.match(await res.text(), /takes a number or a string/);
      }
    }
    assert.equal(engine.commands.length, before);
    for (const value of [1, "x"]) {
      const b = { compare: [{ key: "a", target: "value", op: "<", value }] };
      assert.equal((await app.request("/v1/txn", txn(b))).status, 200, JSON.stringify(b));
    }
  });

  await t.step("query parameters are 400s", async () => {
    const { app, engine } = await withKeys();
    const res = await app.request(
      "/v1/txn?dryRun=true",
      txn({ success: [{ op: "delete", key: "a" }] }),
    );
    assert.equal(res.status, 400);
    assert.equal(engine.commands.length, 2);
  });

  await t.step("a txn body must be JSON", async () => {
    const { app } = await withKeys();
    const res = await app.request("/v1/txn", {
      method: "POST",
      body: "{}",
      headers: { "content-type": "text/json" },
    });
    assert.equal(res.status, 415);
    assert.equal((await app.request("/v1/txn", jsonInit("POST", "{"))).status, 400);
    assert.equal((await app.request("/v1/txn")).status, 405);
  });
});
