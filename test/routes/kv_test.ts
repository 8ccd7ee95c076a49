import assert from "node:assert/strict";
import { COUNT_PAST_LIMIT, readBody } from "../../routes/body.ts";
import { ApiError } from "../../routes/errors.ts";
import { body, jsonInit, makeApp } from "./_app.ts";

const put = (value: unknown, headers: Record<string, string> = {}) =>
  jsonInit("PUT", { value }, headers);

Deno.test("PUT /v1/kv/{key}", async (t) => {
  await t.step("creates a record and answers it without value", async () => {
    const { app } = makeApp();
    const res = await app.request("/v1/kv/users/42", put({ name: "ada" }));
    assert.equal(res.status, 200);
    assert.deepEqual(await body(res), {
      key: "users/42",
      version: 1,
      createIndex: 1,
      modIndex: 1,
    });
    assert.equal(res.headers.get("etag"), '"1"');
    assert.equal(res.headers.get("x-raftkv-index"), "1");
    assert.equal(res.headers.get("x-raftkv-node"), "n1");
    assert.equal(res.headers.get("x-raftkv-leader"), "n1");
    assert.equal(res.headers.get("content-type"), "application/json");
  });

  await t.step("replacing bumps version and modIndex, keeps createIndex", async () => {
    const { app } = makeApp();
    await app.request("/v1/kv/a", put(1));
    await app.request("/v1/kv/b", put(1));
    const res = await app.request("/v1/kv/a", put(2));
    assert.deepEqual(await body(res), { key: "a", version: 2, createIndex: 1, modIndex: 3 });
  });

  await t.step("stores every JSON type as compact JSON text", async () => {
    const { app, engine } = makeApp();
    const values = ["s", 1.5, 0, true, false, null, [1, [2]], { a: { b: [] } }, "\u{1F600}"];
    for (const v of values) {
      assert.equal((await app.request("/v1/kv/v", put(v))).status, 200);
      assert.equal(engine.sm.get("v")?.value, JSON.stringify(v));
      const got = await app.request("/v1/kv/v");
      assert.deepEqual((await body(got) as { value: unknown }).value, v);
    }
  });

  await t.step("?prev=true adds the previous record, null when new", async () => {
    const { app } = makeApp();
    let res = await app.request("/v1/kv/k?prev=true", put("one"));
    assert.equal((await body(res) as { prev: unknown }).prev, null);
    res = await app.request("/v1/kv/k?prev", put("two"));
    assert.deepEqual((await body(res) as { prev: unknown }).prev, {
      key: "k",
      value: "one",
      version: 1,
      createIndex: 1,
      modIndex: 1,
    });
    res = await app.request("/v1/kv/k?prev=false", put("three"));
    assert.equal("prev" in (await body(res) as object), false);
  });

  await t.step("If-Match writes only on the current modIndex", async () => {
    const { app, engine } = makeApp();
    await app.request("/v1/kv/k", put(1));
    let res = await app.request("/v1/kv/k", put(2, { "if-match": '"1"' }));
    assert.equal(res.status, 200);
    res = await app.request("/v1/kv/k", put(3, { "if-match": "2" })); // bare number
    assert.equal(res.status, 200);
    res = await app.request("/v1/kv/k", put(4, { "if-match": '"1"' }));
    assert.equal(res.status, 412);
    assert.deepEqual(await body(res), {
      error: {
        code: "precondition_failed",
        message: "Precondition failed; nothing was written",
        current: { key: "k", value: 3, version: 3, createIndex: 1, modIndex: 3 },
      },
    });
    assert.equal(engine.sm.get("k")?.value, "3");
  });

  await t.step("If-Match on a missing key fails with current null", async () => {
    const { app } = makeApp();
    const res = await app.request("/v1/kv/nope", put(1, { "if-match": '"1"' }));
    assert.equal(res.status, 412);
    assert.equal((await body(res) as { error: { current: unknown } }).error.current, null);
  });

  await t.step("If-None-Match: * writes only a new key", async () => {
    const { app } = makeApp();
    assert.equal((await app.request("/v1/kv/k", put(1, { "if-none-match": "*" }))).status, 200);
    const res = await app.request("/v1/kv/k", put(2, { "if-none-match": "*" }));
    assert.equal(res.status, 412);
    const current = (await body(res) as { error: { current: { value: unknown } } }).error.current;
    assert.equal(current.value, 1);
  });

  await t.step("malformed preconditions are 400s", async () => {
    const { app, engine } = makeApp();
    await app.request("/v1/kv/k", put(1));
    const bad: Record<string, string>[] = [
      { "if-match": "abc" },
      { "if-match": 'W/"1"' },
      { "if-match": "*" },
      { "if-match": '"1", "2"' },
      { "if-match": "-1" },
      { "if-match": "" },
      { "if-none-match": '"1"' },
      { "if-match": '"1"', "if-none-match": "*" },
    ];
    for (const h of bad) {
      const res = await app.request("/v1/kv/k", put(2, h));
      assert.equal(res.status, 400, JSON.stringify(h));
    }
    assert.equal(engine.commands.length, 1);
  });
});

Deno.test("GET /v1/kv/{key}", async (t) => {
  await t.step("answers the record with ETag and index", async () => {
    const { app } = makeApp();
    await app.request("/v1/kv/k", put({ x: [1, 2] }));
    const res = await app.request("/v1/kv/k");
    assert.equal(res.status, 200);
    assert.equal(
      await res.text(),
      '{"key":"k","value":{"x":[1,2]},"version":1,"createIndex":1,"modIndex":1}',
    );
    assert.equal(res.headers.get("etag"), '"1"');
    assert.equal(res.headers.get("x-raftkv-index"), "1");
  });

  await t.step("404 key_not_found for a missing key", async () => {
    const { app } = makeApp();
    const res = await app.request("/v1/kv/missing");
    assert.equal(res.status, 404);
    assert.equal((await body(res) as { error: { code: string } }).error.code, "key_not_found");
    assert.equal(res.headers.get("x-raftkv-index"), "0");
  });

  await t.step("consistency defaults to linearizable and is passed on", async () => {
    const { app, engine } = makeApp();
    for (const q of ["", "?consistency=linearizable", "?consistency=lease", "?consistency=stale"]) {
      await app.request(`/v1/kv/k${q}`);
    }
    assert.deepEqual(engine.reads, ["linearizable", "linearizable", "lease", "stale"]);
    assert.equal((await app.request("/v1/kv/k?consistency=strong")).status, 400);
  });

  await t.step("HEAD answers headers only", async () => {
    const { app } = makeApp();
    await app.request("/v1/kv/k", put(1));
    const res = await app.request("/v1/kv/k", { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("etag"), '"1"');
    assert.equal(await res.text(), "");
  });

  await t.step(
    "conditional GET: If-None-Match revalidates (304), If-Match guards (412)",
    async () => {
      const { app } = makeApp();
      await app.request("/v1/kv/k", put(1));
      await app.request("/v1/kv/k", put(2)); // ETag "2"
      const get = (path: string, headers: Record<string, string>) => app.request(path, { headers });
      const fresh = await get("/v1/kv/k", { "if-none-match": '"2"' });
      assert.equal(fresh.status, 304);
      assert.equal(fresh.headers.get("etag"), '"2"');
      assert.equal(await fresh.text(), "");
      for (const h of ['W/"2"', '"1", "2"', "*"]) {
        assert.equal((await get("/v1/kv/k", { "if-none-match": h })).status, 304, h);
      }
      const stale = await get("/v1/kv/k", { "if-none-match": '"1"' });
      assert.equal(stale.status, 200);
      assert.equal((await body(stale) as { value: number }).value, 2);
      assert.equal((await get("/v1/kv/gone", { "if-none-match": "*" })).status, 404);
      assert.equal((await get("/v1/kv/k", { "if-match": '"2"' })).status, 200);
      const moved = await get("/v1/kv/k", { "if-match": '"1"' });
      assert.equal(moved.status, 412);
      const err = await body(moved) as { error: { code: string; current: { modIndex: number } } };
      assert.equal(err.error.code, "precondition_failed");
      assert.equal(err.error.current.modIndex, 2);
      const missing = await get("/v1/kv/gone", { "if-match": "*" });
      assert.equal(missing.status, 412);
      assert.equal((await get("/v1/kv/k", { "if-none-match": "soon" })).status, 400);
    },
  );

  await t.step("HEAD carries the content-length of the GET answer (RFC 9110)", async () => {
    const { app } = makeApp();
    await app.request("/v1/kv/k", put(1));
    for (const path of ["/v1/kv/k", "/v1/kv/missing", "/v1/kv?prefix=", "/v1/cluster"]) {
      const get = await app.request(path);
      const length = new TextEncoder().encode(await get.text()).byteLength;
      const head = await app.request(path, { method: "HEAD" });
      assert.equal(head.status, get.status, path);
      assert.equal(head.headers.get("content-length"), String(length), path);
      assert.ok(length > 0, path);
    }
  });
});

Deno.test("DELETE /v1/kv/{key}", async (t) => {
  await t.step("deletes once, then reports 0", async () => {
    const { app, engine } = makeApp();
    await app.request("/v1/kv/k", put(1));
    let res = await app.request("/v1/kv/k", { method: "DELETE" });
    assert.equal(res.status, 200);
    assert.deepEqual(await body(res), { deleted: 1 });
    assert.equal(res.headers.get("x-raftkv-index"), "2");
    res = await app.request("/v1/kv/k", { method: "DELETE" });
    assert.deepEqual(await body(res), { deleted: 0 });
    assert.equal(engine.sm.get("k"), null);
  });

  await t.step("If-Match: 412 on mismatch or missing key, 200 on match", async () => {
    const { app } = makeApp();
    await app.request("/v1/kv/k", put(1));
    let res = await app.request("/v1/kv/k", { method: "DELETE", headers: { "if-match": '"9"' } });
    assert.equal(res.status, 412);
    res = await app.request("/v1/kv/x", { method: "DELETE", headers: { "if-match": '"1"' } });
    assert.equal(res.status, 412);
    assert.equal((await body(res) as { error: { current: unknown } }).error.current, null);
    res = await app.request("/v1/kv/k", { method: "DELETE", headers: { "if-match": '"1"' } });
    assert.deepEqual(await body(res), { deleted: 1 });
  });

  await t.step("If-None-Match and query parameters are 400s", async () => {
    const { app, engine } = makeApp();
    let res = await app.request("/v1/kv/k", {
      method: "DELETE",
      headers: { "if-none-match": "*" },
    });
    assert.equal(res.status, 400);
    res = await app.request("/v1/kv/k?prev=true", { method: "DELETE" });
    assert.equal(res.status, 400);
    assert.equal(engine.commands.length, 0);
  });
});

Deno.test("keys in the path", async (t) => {
  const cases: [string, string][] = [
    ["/v1/kv/users/42", "users/42"],
    ["/v1/kv/a%2Fb", "a/b"],
    ["/v1/kv/with%20space", "with space"],
    ["/v1/kv/plus+sign", "plus+sign"],
    ["/v1/kv/%E2%82%AC", "€"],
    ["/v1/kv/%F0%9F%98%80", "\u{1F600}"],
    ["/v1/kv/%25", "%"],
    ["/v1/kv//lead", "/lead"],
    ["/v1/kv/trail/", "trail/"],
    ["/v1/kv/q%3Fmark", "q?mark"],
  ];
  for (const [path, key] of cases) {
    await t.step(`${path} is the key ${JSON.stringify(key)}`, async () => {
      const { app, engine } = makeApp();
      const res = await app.request(path, put(1));
      assert.equal(res.status, 200);
      assert.equal((await body(res) as { key: string }).key, key);
      assert.ok(engine.sm.get(key));
      assert.equal((await app.request(path)).status, 200);
    });
  }

  await t.step("bad percent-encoding is a 400", async () => {
    const { app } = makeApp();
    for (const p of ["%", "%zz", "%E2%82", "%FF", "%ED%A0%80"]) {
      const res = await app.request(`/v1/kv/${p}`, put(1));
      assert.equal(res.status, 400, p);
    }
  });

  await t.step("the empty key is a 400", async () => {
    const { app } = makeApp();
    for (const method of ["GET", "PUT", "DELETE"]) {
      const init = method === "PUT" ? put(1) : { method };
      const res = await app.request("/v1/kv/", init);
      assert.equal(res.status, 400, method);
    }
  });

  await t.step("a key over max-key-bytes (UTF-8) is a 413 with limit and actual", async () => {
    const { app } = makeApp();
    assert.equal((await app.request(`/v1/kv/${"k".repeat(1024)}`, put(1))).status, 200);
    let res = await app.request(`/v1/kv/${"k".repeat(1025)}`, put(1));
    assert.equal(res.status, 413);
    assert.deepEqual((await body(res) as { error: unknown }).error, {
      code: "too_large",
      message: "Key size exceeds 1024",
      limit: 1024,
      actual: 1025,
    });
    res = await app.request(`/v1/kv/${encodeURIComponent("€".repeat(342))}`);
    assert.equal(res.status, 413);
    assert.equal((await body(res) as { error: { actual: number } }).error.actual, 1026);
  });
});

Deno.test("PUT bodies", async (t) => {
  const bad: [string, RequestInit, number][] = [
    ["missing value", jsonInit("PUT", {}), 400],
    ["value undefined is missing", jsonInit("PUT", '{"valu":1}'), 400],
    ["extra field", jsonInit("PUT", { value: 1, ttl: 5 }), 400],
    ["not an object", jsonInit("PUT", [1]), 400],
    ["bare value", jsonInit("PUT", "1"), 400],
    ["malformed JSON", jsonInit("PUT", '{"value":'), 400],
    ["empty body", jsonInit("PUT", ""), 400],
    ["invalid UTF-8", {
      method: "PUT",
      body: new Uint8Array([0x7b, 0xff, 0x7d]),
      headers: { "content-type": "application/json" },
    }, 400],
    ["text/plain", {
      method: "PUT",
      body: '{"value":1}',
      headers: { "content-type": "text/plain" },
    }, 415],
    ["no content-type", { method: "PUT", body: '{"value":1}' }, 415],
    [
      "latin1 charset",
      jsonInit("PUT", { value: 1 }, { "content-type": "application/json; charset=latin1" }),
      415,
    ],
    ["json-ish type", jsonInit("PUT", { value: 1 }, { "content-type": "application/jsonx" }), 415],
    ["bad content-length", jsonInit("PUT", { value: 1 }, { "content-length": "abc" }), 400],
    ["gzip-encoded", jsonInit("PUT", { value: 1 }, { "content-encoding": "gzip" }), 415],
  ];
  for (const [name, init, status] of bad) {
    await t.step(`${name} → ${status}`, async () => {
      const { app, engine } = makeApp();
      const res = await app.request("/v1/kv/k", init);
      assert.equal(res.status, status);
      const err = (await body(res) as { error: { code: string; message: string } }).error;
      assert.equal(typeof err.code, "string");
      assert.equal(typeof err.message, "string");
      assert.equal(engine.commands.length, 0);
    });
  }

  await t.step("zod failures carry the issues", async () => {
    const { app } = makeApp();
    const res = await app.request("/v1/kv/k", jsonInit("PUT", { value: 1, x: 2 }));
    const err = (await body(res) as { error: { code: string; issues: unknown[] } }).error;
    assert.equal(err.code, "invalid_request");
    assert.ok(Array.isArray(err.issues) && err.issues.length > 0);
  });

  await t.step("Content-Encoding: identity is fine", async () => {
    const { app } = makeApp();
    const init = jsonInit("PUT", { value: 1 }, { "content-encoding": "identity" });
    assert.equal((await app.request("/v1/kv/k", init)).status, 200);
  });

  await t.step("charset=utf-8 is fine", async () => {
    const { app } = makeApp();
    const init = jsonInit("PUT", { value: 1 }, {
      "content-type": "Application/JSON; charset=UTF-8",
    });
    assert.equal((await app.request("/v1/kv/k", init)).status, 200);
  });

  await t.step("deep nesting is just a value (no stack overflow, no 500)", async () => {
    const { app, engine } = makeApp();
    const n = 400_000;
    const res = await app.request(
      "/v1/kv/deep",
      jsonInit("PUT", `{"value":${"[".repeat(n)}${"]".repeat(n)}}`),
    );
    assert.equal(res.status, 200);
    assert.equal(engine.sm.get("deep")?.value.length, 2 * n);
  });

  await t.step("numbers are kept as sent where a double would change them", async () => {
    const { app, engine } = makeApp();
    const cases: [string, string][] = [
      ["12345678901234567890", "12345678901234567890"],
      [
        "[1e-400, 0.1000000000000000055511151231257827]",
        "[1e-400,0.1000000000000000055511151231257827]",
      ],
      [
        '{"n":-1.50e3,"s":"e1","m":123456789012345678e-2}',
        '{"n":-1500,"s":"e1","m":123456789012345678e-2}',
      ],
      ["9007199254740993", "9007199254740993"],
      ["12345678.123456789", "12345678.123456789"],
      ['{"node1":[1,2.5,-3e0]}', '{"node1":[1,2.5,-3]}'],
      ["1E2", "100"],
      // Past the walk that looks for numbers in the parsed body: the text scan finds it.
      [
        `[${'"a",'.repeat(300)}12345678901234567890]`,
        `[${'"a",'.repeat(300)}12345678901234567890]`,
      ],
    ];
    for (const [sent, stored] of cases) {
      const res = await app.request("/v1/kv/n", jsonInit("PUT", `{"value":${sent}}`));
      assert.equal(res.status, 200, sent);
      assert.equal(engine.sm.get("n")?.value, stored, sent);
    }
  });

  await t.step("digits inside strings are text, whatever the quotes around them", async () => {
    const { app, engine } = makeApp();
    const sent = String.raw`["a\"12345678901234567890","\\",1e2,"e1"]`;
    const res = await app.request("/v1/kv/s", jsonInit("PUT", `{"value":${sent}}`));
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(engine.sm.get("s")!.value), JSON.parse(sent));
    const n = 50_000; // deep, with an exponent in a string: still one plain parse
    const deep = `{"value":${"[".repeat(n)}"e1"${"]".repeat(n)}}`;
    assert.equal((await app.request("/v1/kv/d", jsonInit("PUT", deep))).status, 200);
  });

  await t.step("exact numbers in a body nested past the reviver's reach are a 400", async () => {
    const { app, engine } = makeApp();
    const n = 50_000;
    const deep = `{"value":${"[".repeat(n)}12345678901234567890${"]".repeat(n)}}`;
    const res = await app.request("/v1/kv/d", jsonInit("PUT", deep));
    assert.equal(res.status, 400);
    assert.equal(engine.commands.length, 0);
  });

  await t.step("a number beyond a double's range is a 400, not null", async () => {
    const { app, engine } = makeApp();
    for (const sent of ["1e400", "[-1E+309]", '{"a":{"b":[1,2e999]}}']) {
      const res = await app.request("/v1/kv/n", jsonInit("PUT", `{"value":${sent}}`));
      assert.equal(res.status, 400, sent);
      const err = (await body(res) as { error: { code: string; message: string } }).error;
      assert.equal(err.code, "invalid_request");
      assert.match(err.message, /out of range/);
    }
    assert.equal(engine.commands.length, 0);
  });

  await t.step("a value over max-value-bytes is a 413", async () => {
    const { app, engine } = makeApp({ args: ["--max-value-bytes", "10"] });
    assert.equal((await app.request("/v1/kv/k", put("12345678"))).status, 200); // 10 bytes
    const res = await app.request("/v1/kv/k", put("123456789"));
    assert.equal(res.status, 413);
    const err = (await body(res) as { error: { limit: number; actual: number } }).error;
    assert.deepEqual([err.limit, err.actual], [10, 11]);
    assert.equal(engine.commands.length, 1);
  });

  await t.step("a declared body over max-body-bytes is a 413 before reading", async () => {
    const { app } = makeApp({ args: ["--max-value-bytes", "10", "--max-body-bytes", "20"] });
    // app.request() sets no content-length; a real client does.
    const init = jsonInit("PUT", { value: "x".repeat(30) }, { "content-length": "42" });
    const res = await app.request("/v1/kv/k", init);
    assert.equal(res.status, 413);
    const err = (await body(res) as { error: { limit: number; actual: number } }).error;
    assert.deepEqual([err.limit, err.actual], [20, 42]);
  });

  /** A chunked PUT of `chunk` repeated `count` times (forever when Infinity). */
  function streamed(chunk: Uint8Array, count: number) {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (pulled++ === count) return ctrl.close();
        ctrl.enqueue(chunk);
      },
    });
    const init = { method: "PUT", body: stream, headers: { "content-type": "application/json" } };
    return { init, pulled: () => pulled };
  }

  await t.step("a streamed body over the limit is a 413 with its size, not kept", async () => {
    const { app, engine } = makeApp({
      args: ["--max-value-bytes", "10", "--max-body-bytes", "20"],
    });
    const s = streamed(new TextEncoder().encode('{"value":"xxxxxxxxxx'), 1000);
    const res = await app.request("/v1/kv/k", s.init);
    assert.equal(res.status, 413);
    const err = (await body(res) as { error: { limit: number; actual: number } }).error;
    assert.deepEqual([err.limit, err.actual], [20, 20_000]);
    assert.equal(engine.commands.length, 0);
  });

  await t.step("a body that does not arrive in time is a 408", async () => {
    const never = () => new Promise<ArrayBuffer>(() => {});
    const err = await readBody(never, 50).then(() => null, (e) => e);
    assert.ok(err instanceof ApiError);
    assert.deepEqual([err.status, err.code], [408, "request_timeout"]);
    const quick = await readBody(() => Promise.resolve(new ArrayBuffer(3)), 50);
    assert.equal(quick.length, 3);
  });

  await t.step("a body that breaks off is a 400, not a 500", async () => {
    const { app, engine } = makeApp();
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (sent) return ctrl.error(new Error("connection reset"));
        sent = true;
        ctrl.enqueue(new TextEncoder().encode('{"value":'));
      },
    });
    const res = await app.request("/v1/kv/k", {
      method: "PUT",
      body,
      headers: { "content-type": "application/json" },
    });
    assert.equal(res.status, 400);
    assert.equal(engine.commands.length, 0);
  });

  await t.step("an endless streamed body is cut off after COUNT_PAST_LIMIT", async () => {
    const { app, engine } = makeApp({ args: ["--max-body-bytes", "2000000"] });
    const mib = 1024 * 1024;
    const s = streamed(new Uint8Array(mib), Infinity);
    const res = await app.request("/v1/kv/k", s.init);
    assert.equal(res.status, 413);
    const err = (await body(res) as { error: { actual: number } }).error;
    assert.ok(err.actual > 2_000_000 + COUNT_PAST_LIMIT, `actual ${err.actual}`);
    assert.ok(s.pulled() < (COUNT_PAST_LIMIT + 2_000_000) / mib + 4, `read ${s.pulled()} chunks`);
    assert.equal(engine.commands.length, 0);
  });
});
