import assert from "node:assert/strict";
import { compareKeys, prefixEnd, utf8Length } from "../../src/kv/key_order.ts";
import { mulberry32, randomKey, utf8Compare } from "./prng.ts";

const sign = (n: number) => n < 0 ? -1 : n > 0 ? 1 : 0;

Deno.test("compareKeys() orders keys by UTF-8 bytes", async (t) => {
  const cases: [string, string, number][] = [
    ["a", "b", -1],
    ["a", "a", 0],
    ["a", "ab", -1],
    ["", "a", -1],
    ["\uffff", "\u{10000}", -1],
    ["\ue000", "\u{1F600}", -1],
    ["\u{1F600}", "\ud7ff", 1],
    ["\u{10000}", "\u{10001}", -1],
    ["\u{1F600}a", "\u{1F600}b", -1],
    ["é", "z", 1],
  ];
  for (const [a, b, want] of cases) {
    await t.step(`${JSON.stringify(a)} vs ${JSON.stringify(b)}`, () => {
      assert.equal(sign(compareKeys(a, b)), want);
      assert.equal(sign(compareKeys(b, a)), 0 - want);
      assert.equal(sign(utf8Compare(a, b)), want, "reference agrees");
    });
  }
  await t.step("agrees with UTF-8 byte order on 5000 random pairs", () => {
    const rand = mulberry32(7);
    for (let i = 0; i < 5000; i++) {
      const a = randomKey(rand, 6);
      const b = randomKey(rand, 6);
      assert.equal(sign(compareKeys(a, b)), sign(utf8Compare(a, b)));
    }
  });
});

Deno.test("prefixEnd() is the least string above every extension", async (t) => {
  const cases: [string, string | null][] = [
    ["", null],
    ["a", "b"],
    ["users/", "users0"],
    ["a\u{10FFFF}", "b"],
    ["\u{10FFFF}\u{10FFFF}", null],
    ["\ud7ff", "\ue000"],
    ["\uffff", "\u{10000}"],
    ["x\u{1F600}", "x\u{1F601}"],
    ["\u{FFFFF}", "\u{100000}"],
    ["a\ud800", "a\ud801"],
    ["a\udfff", "b"],
    ["a\udc00", "a\udc01"],
  ];
  for (const [p, want] of cases) {
    await t.step(`prefixEnd(${JSON.stringify(p)})`, () => {
      assert.equal(prefixEnd(p), want);
    });
  }
  await t.step("bounds every random extension of random prefixes", () => {
    const rand = mulberry32(11);
    for (let i = 0; i < 2000; i++) {
      const p = randomKey(rand, 3);
      const end = prefixEnd(p);
      const ext = p + randomKey(rand, 3);
      if (end === null) continue;
      assert.ok(compareKeys(p, end) < 0);
      assert.ok(compareKeys(ext, end) < 0, `${ext} < ${end}`);
      const other = randomKey(rand, 4);
      if (compareKeys(other, p) >= 0 && !other.startsWith(p)) {
        assert.ok(compareKeys(other, end) >= 0, `${other} >= ${end}`);
      }
    }
  });
});

Deno.test("prefixEnd() bounds extensions of prefixes ending in lone surrogates", () => {
  const rand = mulberry32(5);
  for (const p of ["a\ud800", "\udbff", "x\udc00", "\udffe", "\ud83d"]) {
    const end = prefixEnd(p)!;
    for (let i = 0; i < 200; i++) {
      const ext = p + randomKey(rand, 3);
      assert.ok(compareKeys(ext, end) < 0, JSON.stringify([ext, end]));
    }
  }
});

Deno.test("utf8Length() counts like TextEncoder", () => {
  const enc = new TextEncoder();
  for (const s of ["", "abc", "é", "漢字", "😀", "a😀b\u{10FFFF}", "\ud800x", "x\udc00"]) {
    assert.equal(utf8Length(s), enc.encode(s).length, JSON.stringify(s));
  }
});
