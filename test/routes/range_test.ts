import assert from "node:assert/strict";
import { decodeCursor, encodeCursor } from "../../routes/range.ts";
import { body, jsonInit, makeApp } from "./_app.ts";

interface Page {
  items: { key: string; value?: unknown; modIndex: number }[];
  cursor: string | null;
  index: number;
}

async function seeded(keys: string[], args: string[] = []) {
  const made = makeApp({ args });
  for (const k of keys) {
    const res = await made.app.request(
      `/v1/kv/${encodeURIComponent(k)}`,
      jsonInit("PUT", { value: k }),
    );
    assert.equal(res.status, 200);
  }
  return made;
}

async function page(app: { request: (p: string) => Response | Promise<Response> }, q: string) {
  const res = await app.request(`/v1/kv?${q}`);
  assert.equal(res.status, 200, await res.clone().text());
  return await body(res) as Page;
}

const keysOf = (p: Page) => p.items.map((i) => i.key);

Deno.test("GET /v1/kv ranges", async (t) => {
  const keys = ["a", "b/1", "b/2", "b/3", "c", "\uffff", "\u{10000}"];

  await t.step("prefix lists matching keys in order, with values", async () => {
    const { app } = await seeded(keys);
    const p = await page(app, "prefix=b/");
    assert.deepEqual(keysOf(p), ["b/1", "b/2", "b/3"]);
    assert.deepEqual(p.items[0], {
      key: "b/1",
      value: "b/1",
      version: 1,
      createIndex: 2,
      modIndex: 2,
    });
    assert.equal(p.cursor, null);
    assert.equal(p.index, 7);
  });

  await t.step("empty prefix lists all in code point (UTF-8) order", async () => {
    const { app } = await seeded(keys);
    assert.deepEqual(keysOf(await page(app, "prefix=")), keys);
  });

  await t.step("start/end is [start, end); end optional", async () => {
    const { app } = await seeded(keys);
    assert.deepEqual(keysOf(await page(app, "start=b/2&end=c")), ["b/2", "b/3"]);
    assert.deepEqual(keysOf(await page(app, "start=c")), ["c", "\uffff", "\u{10000}"]);
  });

  await t.step("reverse and keysOnly", async () => {
    const { app } = await seeded(keys);
    const p = await page(app, "prefix=b/&reverse=true&keysOnly=true");
    assert.deepEqual(keysOf(p), ["b/3", "b/2", "b/1"]);
    assert.equal("value" in p.items[0]!, false);
  });

  await t.step("limit and cursor page through everything, both ways", async () => {
    const many = Array.from({ length: 23 }, (_, i) => `k/${String(i).padStart(2, "0")}`);
    const { app } = await seeded(many);
    for (const reverse of [false, true]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = `prefix=k/&limit=5&reverse=${reverse}` +
          (cursor ? `&cursor=${cursor}` : "");
        const p = await page(app, q);
        seen.push(...keysOf(p));
        cursor = p.cursor;
        pages++;
      } while (cursor !== null);
      assert.deepEqual(seen, reverse ? [...many].reverse() : many);
      assert.equal(pages, 5);
    }
  });

  await t.step("a page also ends at 16M code units of records", async () => {
    const made = makeApp();
    const value = "v".repeat(1024 * 1024 - 2);
    for (let i = 0; i < 40; i++) {
      const res = await made.app.request(`/v1/kv/big/${i}`, jsonInit("PUT", { value }));
      assert.equal(res.status, 200);
    }
    const first = await page(made.app, "prefix=big/&limit=1000");
    assert.equal(first.items.length, 15, "1 MiB and a key each: the 16th passes 16M");
    assert.notEqual(first.cursor, null);
    let total = first.items.length;
    for (let c = first.cursor; c !== null;) {
      const p = await page(made.app, `prefix=big/&limit=1000&cursor=${c}`);
      total += p.items.length;
      c = p.cursor;
    }
    assert.equal(total, 40);
    const keys = await page(made.app, "prefix=big/&limit=1000&keysOnly=true");
    assert.equal(keys.items.length, 40, "keys alone fit");
  });

  await t.step("an exact last page has a null cursor", async () => {
    const { app } = await seeded(["x1", "x2"]);
    assert.equal((await page(app, "prefix=x&limit=2")).cursor, null);
    assert.notEqual((await page(app, "prefix=x&limit=1")).cursor, null);
  });

  await t.step("default limit is 100", async () => {
    const many = Array.from({ length: 105 }, (_, i) => `m${String(i).padStart(3, "0")}`);
    const { app } = await seeded(many);
    const p = await page(app, "prefix=m");
    assert.equal(p.items.length, 100);
    assert.notEqual(p.cursor, null);
  });

  await t.step("consistency is passed on; x-raftkv-index is set", async () => {
    const { app, engine } = await seeded(["a"]);
    const res = await app.request("/v1/kv?prefix=&consistency=stale");
    assert.equal(res.headers.get("x-raftkv-index"), "1");
    assert.deepEqual(engine.reads, ["stale"]);
  });

  await t.step("cursors are opaque base64url and round-trip any key", () => {
    for (const k of ["", "a", "€/\u{1F600}", "x".repeat(2000)]) {
      const c = encodeCursor(k);
      assert.match(c, /^[A-Za-z0-9_-]*$/);
      assert.equal(decodeCursor(c), k);
    }
  });

  await t.step("bad queries are 400s", async () => {
    const { app } = await seeded(["a"]);
    const bad = [
      "",
      "limit=5",
      "prefix=a&start=a",
      "end=b",
      "start=b&end=a",
      "start=a&end=a",
      "prefix=a&limit=0",
      "prefix=a&limit=-1",
      "prefix=a&limit=abc",
      "prefix=a&limit=10001",
      "prefix=a&limit=1.5",
      "prefix=a&cursor=!!",
      "prefix=a&cursor=" + btoa("nope"),
      "prefix=a&cursor=" + btoa('{"k":1}'),
      "prefix=a&reverse=yes",
      "prefix=a&keysOnly=2",
      "prefix=a&consistency=strong",
      "prefix=a&bogus=1",
      "prefix=a&prefix=b",
      "prefix=%zz",
      "prefix=%ED%A0%80",
    ];
    for (const q of bad) {
      const res = await app.request(`/v1/kv?${q}`);
      assert.equal(res.status, 400, q);
      assert.equal((await body(res) as { error: { code: string } }).error.code, "invalid_request");
    }
  });

  await t.step("a bound over max-key-bytes is a 413", async () => {
    const { app } = await seeded([]);
    const res = await app.request(`/v1/kv?prefix=${"p".repeat(1025)}`);
    assert.equal(res.status, 413);
  });

  await t.step("limit max is 10000", async () => {
    const { app } = await seeded(["a"]);
    assert.equal((await app.request("/v1/kv?prefix=&limit=10000")).status, 200);
  });
});

Deno.test("DELETE /v1/kv ranges", async (t) => {
  await t.step("deletes a prefix in one command", async () => {
    const { app, engine } = await seeded(["a", "b/1", "b/2", "c"]);
    const res = await app.request("/v1/kv?prefix=b/", { method: "DELETE" });
    assert.equal(res.status, 200);
    assert.deepEqual(await body(res), { deleted: 2 });
    assert.equal(res.headers.get("x-raftkv-index"), "5");
    assert.deepEqual(engine.commands.at(-1), {
      type: "deleteRange",
      range: { start: "b/", end: "b0" },
    });
    assert.deepEqual(keysOf(await page(app, "prefix=")), ["a", "c"]);
  });

  await t.step("If-Match or If-None-Match on a range delete is a 400, not ignored", async () => {
    const { app, engine } = await seeded(["p/1"]);
    const before = engine.commands.length;
    for (const h of [{ "if-match": '"1"' }, { "if-none-match": "*" }]) {
      const res = await app.request("/v1/kv?prefix=p/", { method: "DELETE", headers: h });
      assert.equal(res.status, 400);
    }
    assert.equal(engine.commands.length, before);
  });

  await t.step("deletes [start, end)", async () => {
    const { app } = await seeded(["a", "b", "c", "d"]);
    const res = await app.request("/v1/kv?start=b&end=d", { method: "DELETE" });
    assert.deepEqual(await body(res), { deleted: 2 });
  });

  await t.step("everything needs all=true", async () => {
    const { app, engine } = await seeded(["a", "b"]);
    for (const q of ["prefix=", "start=", "prefix=&all=false"]) {
      assert.equal((await app.request(`/v1/kv?${q}`, { method: "DELETE" })).status, 400, q);
    }
    assert.equal(engine.commands.length, 2);
    const res = await app.request("/v1/kv?prefix=&all=true", { method: "DELETE" });
    assert.deepEqual(await body(res), { deleted: 2 });
  });

  await t.step("an open end (start alone) needs all=true too", async () => {
    const { app, engine } = await seeded(["a", "b", "c"]);
    const res = await app.request("/v1/kv?start=%00", { method: "DELETE" });
    assert.equal(res.status, 400);
    assert.match((await body(res) as { error: { message: string } }).error.message, /all=true/);
    assert.equal(engine.commands.length, 3, "nothing proposed");
    const ok = await app.request("/v1/kv?start=b&all=true", { method: "DELETE" });
    assert.deepEqual(await body(ok), { deleted: 2 });
    // A prefix of U+10FFFF has no end key either, but it is a prefix: no all=true.
    const top = await app.request("/v1/kv?prefix=%F4%8F%BF%BF", { method: "DELETE" });
    assert.deepEqual(await body(top), { deleted: 0 });
  });

  await t.step("a range is required; unknown parameters are 400s", async () => {
    const { app, engine } = await seeded(["a"]);
    for (const q of ["", "all=true", "prefix=a&limit=1", "start=b&end=a", "prefix=a&start=a"]) {
      assert.equal((await app.request(`/v1/kv?${q}`, { method: "DELETE" })).status, 400, q);
    }
    assert.equal(engine.commands.length, 1);
  });
});
