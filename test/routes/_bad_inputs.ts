/**
 * Generators of malformed requests for bad_input_test.ts. Each case is
 * built so that it cannot be valid (a bad byte, an unknown parameter, a
 * letter in a modIndex), whatever the random draw.
 * @module
 */
import { jsonInit } from "./_app.ts";
import type { Prng } from "./_prng.ts";

export interface Case {
  readonly name: string;
  readonly path: string;
  readonly init: RequestInit;
}

export const LIMITS = [
  "--max-key-bytes",
  "64",
  "--max-value-bytes",
  "256",
  "--max-body-bytes",
  "512",
  "--max-txn-ops",
  "4",
  "--cluster-token",
  "tok",
];
const AUTH = { authorization: "Bearer tok" };
const hex = (b: Uint8Array) => [...b].map((x) => "%" + x.toString(16).padStart(2, "0")).join("");

export function bodyCases(r: Prng): Case[] {
  const out: Case[] = [];
  for (let i = 0; i < 80; i++) {
    const init = { ...jsonInit("PUT", ""), body: r.bytes(r.int(700)) };
    out.push({ name: "random bytes body", path: "/v1/kv/k", init });
  }
  const tokens = [
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    '"valu"',
    '"Value"',
    '"values"',
    "1",
    "-",
    "e",
    "true",
    "nul",
    "null",
    '"\\u12"',
    '"\\ud800"',
    " ",
    '"x"',
  ];
  for (let i = 0; i < 60; i++) {
    const soup = Array.from({ length: 1 + r.int(12) }, () => r.pick(tokens)).join("");
    out.push({ name: `token soup ${soup}`, path: "/v1/kv/k", init: jsonInit("PUT", soup) });
  }
  const shapes: unknown[] = [
    null,
    1,
    "v",
    [],
    [{ value: 1 }],
    {},
    { Value: 1 },
    { value: 1, extra: 2 },
    { value: 1, prev: true },
    { "value ": 1 },
    { values: [1] },
  ];
  for (const s of shapes) {
    out.push({ name: `shape ${JSON.stringify(s)}`, path: "/v1/kv/k", init: jsonInit("PUT", s) });
  }
  for (let i = 0; i < 40; i++) {
    const ct = i < 10
      ? r.pick([
        "text/plain",
        "application/jsonp",
        "application/x-www-form-urlencoded",
        "json",
        "application/json; charset=utf-16",
        "application/json;charset=ascii",
        "multipart/form-data",
        "application/*",
        "*/*",
        "",
      ])
      : r.latin1(1 + r.int(40));
    out.push({
      name: `content-type ${JSON.stringify(ct)}`,
      path: "/v1/kv/k",
      init: jsonInit("PUT", { value: 1 }, { "content-type": ct }),
    });
  }
  out.push({
    name: "no content-type",
    path: "/v1/kv/k",
    init: { method: "PUT", body: '{"value":1}' },
  });
  for (let i = 0; i < 10; i++) {
    const big = JSON.stringify({ value: "x".repeat(257 + r.int(200)) });
    out.push({ name: "value over limit", path: "/v1/kv/k", init: jsonInit("PUT", big) });
    const huge = JSON.stringify({ value: "x".repeat(600 + r.int(2000)) });
    out.push({
      name: "declared body over limit",
      path: "/v1/kv/k",
      init: jsonInit("PUT", huge, { "content-length": String(huge.length) }),
    });
    out.push({
      name: "streamed body over limit",
      path: "/v1/txn",
      init: { ...jsonInit("POST", ""), body: new Blob([huge]).stream() },
    });
  }
  return out;
}

export function pathCases(r: Prng): Case[] {
  const out: Case[] = [];
  const methods = ["GET", "PUT", "DELETE", "POST", "PATCH", "OPTIONS"];
  for (let i = 0; i < 80; i++) {
    // An invalid UTF-8 byte somewhere guarantees the key cannot be valid.
    const b = r.bytes(r.int(40));
    const at = r.int(b.length + 1);
    const raw = hex(b.slice(0, at)) +
      r.pick(["%ff", "%c0", "%ed%a0%80", "%e2%82%20", "%", "%g1", "%%"]) + hex(b.slice(at));
    const method = r.pick(methods);
    const init = method === "PUT" ? jsonInit("PUT", { value: 1 }) : { method };
    out.push({ name: `${method} bad key ${raw}`, path: `/v1/kv/${raw}`, init });
  }
  for (let i = 0; i < 30; i++) {
    const key = "k".repeat(65 + r.int(100));
    const method = r.pick(["GET", "PUT", "DELETE"]);
    const init = method === "PUT" ? jsonInit("PUT", { value: 1 }) : { method };
    out.push({ name: `${method} long key`, path: `/v1/kv/${key}`, init });
  }
  for (let i = 0; i < 40; i++) {
    const path = "/zz" + r.urlJunk(r.int(40)).replaceAll("?", "");
    out.push({ name: `unknown path ${path}`, path, init: { method: r.pick(methods) } });
  }
  for (const method of ["PATCH", "POST", "OPTIONS"]) {
    for (const path of ["/v1/kv/k", "/v1/kv", "/v1/cluster", "/healthz", "/readyz", "/metrics"]) {
      out.push({ name: `${method} ${path}`, path, init: { method } });
    }
  }
  out.push({ name: "empty key PUT", path: "/v1/kv/", init: jsonInit("PUT", { value: 1 }) });
  out.push({ name: "empty key DELETE", path: "/v1/kv/", init: { method: "DELETE" } });
  return out;
}

export function queryCases(r: Prng): Case[] {
  const out: Case[] = [];
  const targets: [string, () => RequestInit][] = [
    ["/v1/kv/k", () => ({ method: "GET" })],
    ["/v1/kv/k", () => jsonInit("PUT", { value: 1 })],
    ["/v1/kv/k", () => ({ method: "DELETE" })],
    ["/v1/kv", () => ({ method: "GET" })],
    ["/v1/kv", () => ({ method: "DELETE" })],
    ["/v1/txn", () => jsonInit("POST", {})],
    ["/v1/watch", () => ({ method: "GET" })],
  ];
  for (let i = 0; i < 90; i++) {
    const [path, init] = r.pick(targets);
    // The trailing unknown parameter guarantees a 400 even if the junk parses.
    const q = r.urlJunk(r.int(30)) + `&zz${r.int(1000)}=1`;
    out.push({ name: `query ${q}`, path: `${path}?${q}`, init: init() });
  }
  const rangeBad = [
    "prefix=a&limit=" + r.pick(["0", "-1", "x", "10001", "1e3", "", "99999999"]),
    "prefix=a&cursor=" + r.urlJunk(12).replace(/[&%+]/g, ""),
    "prefix=a&cursor=" + btoa(String.fromCharCode(...r.bytes(20))).replace(/[+/=]/g, ""),
    "prefix=a&start=b",
    "end=z",
    "start=z&end=a",
    "prefix=a&reverse=maybe",
    "prefix=a&keysOnly=2",
  ];
  for (const q of rangeBad) {
    out.push({ name: `range ${q}`, path: `/v1/kv?${q}`, init: { method: "GET" } });
  }
  for (
    const q of [
      "prefix=",
      "start=",
      "prefix=&all=0",
      "",
      "all=true",
      "prefix=a&limit=1",
      "prefix=%ff",
    ]
  ) {
    out.push({ name: `range delete ${q}`, path: `/v1/kv?${q}`, init: { method: "DELETE" } });
  }
  return out;
}

export function headerCases(r: Prng): Case[] {
  const out: Case[] = [];
  for (let i = 0; i < 60; i++) {
    // A letter inside guarantees the value is not a modIndex.
    const junk = r.latin1(r.int(10)) + "x" + r.latin1(r.int(10));
    const name = r.pick(["if-match", "if-none-match"]);
    const del = r.next() < 0.3;
    const init = del
      ? { method: "DELETE", headers: { [name]: junk } }
      : jsonInit("PUT", { value: 1 }, { [name]: junk });
    out.push({ name: `${name}: ${JSON.stringify(junk)}`, path: "/v1/kv/a", init });
  }
  out.push({
    name: "both preconditions",
    path: "/v1/kv/a",
    init: jsonInit("PUT", { value: 1 }, { "if-match": "1", "if-none-match": "*" }),
  });
  out.push({
    name: "bad content-length",
    path: "/v1/kv/a",
    init: jsonInit("PUT", { value: 1 }, { "content-length": "1x" }),
  });
  return out;
}

export function txnCases(r: Prng): Case[] {
  const valid = () => ({
    compare: [{ key: "a", target: "modIndex", op: "==", value: 1 }],
    success: [{ op: "put", key: "a", value: 2 }, { op: "delete", key: "b" }],
    failure: [{ op: "get", key: "a" }],
  });
  const wrong: unknown[] = [null, -1, 1.5, "1", true, [], {}, "", "k".repeat(65), "\ud800", {
    $gt: 1,
  }];
  const mutations: ((t: ReturnType<typeof valid>) => unknown)[] = [
    (t) => ({ ...t, extra: 1 }),
    (t) => ({ ...t, compare: r.pick(wrong.filter((w) => !Array.isArray(w))) }),
    (t) => ({ ...t, success: r.pick([null, 1, "x", {}, [null], [1]]) }),
    (t) => ({
      ...t,
      compare: [{ ...t.compare[0], target: r.pick(["size", "", "Value", null, 1]) }],
    }),
    (t) => ({ ...t, compare: [{ ...t.compare[0], op: r.pick(["=", "<=", "===", "", null]) }] }),
    (t) => ({
      ...t,
      compare: [{ ...t.compare[0], value: r.pick([-1, 1.5, "1", null, true, [], {}]) }],
    }),
    (t) => ({
      ...t,
      compare: [{ key: "a", target: "exists", op: r.pick(["<", ">"]), value: true }],
    }),
    (t) => ({
      ...t,
      compare: [{
        ...t.compare[0],
        key: r.pick(
          wrong.filter((w) => typeof w !== "string" || w === "" || w.length > 60 || w === "\ud800"),
        ),
      }],
    }),
    (t) => ({
      ...t,
      success: [{
        op: r.pick(["put", "delete", "get", "range", "", null]),
        key: "a",
        value: 1,
        extra: 1,
      }],
    }),
    (t) => ({ ...t, success: [{ op: "put", key: "a" }] }),
    (t) => ({ ...t, success: [{ op: "put", key: "a", value: "x".repeat(300) }] }),
    (t) => ({
      ...t,
      failure: Array.from({ length: 5 + r.int(10) }, () => ({ op: "get", key: "a" })),
    }),
    (t) => ({ ...t, compare: Array.from({ length: 5 }, () => t.compare[0]) }),
    (t) => ({
      ...t,
      success: [{
        op: "get",
        key: r.pick(
          wrong.filter((w) => typeof w !== "string" || w === "" || w.length > 60 || w === "\ud800"),
        ),
      }],
    }),
  ];
  const out: Case[] = [];
  for (let i = 0; i < 120; i++) {
    const m = r.int(mutations.length);
    const b = JSON.stringify(mutations[m]!(valid()));
    out.push({
      name: `txn mutation ${m}: ${b.slice(0, 120)}`,
      path: "/v1/txn",
      init: jsonInit("POST", b),
    });
  }
  return out;
}

export function debugCases(r: Prng): Case[] {
  const out: Case[] = [];
  for (let i = 0; i < 30; i++) {
    const name = r.urlJunk(1 + r.int(15)).replace(/[/?%]/g, "");
    out.push({
      name: `failpoint name ${name}`,
      path: `/debug/failpoints/${encodeURIComponent(name)}x`,
      init: jsonInit("PUT", { kind: "error" }, AUTH),
    });
    out.push({
      name: "failpoint random body",
      path: "/debug/failpoints/apply.before",
      init: { ...jsonInit("PUT", "", AUTH), body: r.bytes(r.int(100)) },
    });
    out.push({
      name: "failpoint without token",
      path: "/debug/failpoints/apply.before",
      init: jsonInit("PUT", { kind: "error" }, { authorization: "Bearer " + r.latin1(5) }),
    });
  }
  out.push({
    name: "failpoints clear without token",
    path: "/debug/failpoints",
    init: { method: "DELETE" },
  });
  return out;
}

export function memberCases(r: Prng): Case[] {
  const out: Case[] = [];
  for (let i = 0; i < 30; i++) {
    const init = { ...jsonInit("POST", ""), body: r.bytes(r.int(80)) };
    out.push({
      name: "member random bytes",
      path: r.pick(["/v1/cluster/members", "/v1/cluster/leader"]),
      init,
    });
    // An uppercase letter guarantees the id is invalid.
    const id = r.urlJunk(r.int(10)).replace(/[/?%#]/g, "") + "X";
    out.push({
      name: `member bad id ${id}`,
      path: `/v1/cluster/members/${encodeURIComponent(id)}`,
      init: { method: "DELETE" },
    });
    const url = r.pick(["", "h:1", "http://h:1/p", "ftp://h", "http://u@h", r.urlJunk(12)]);
    out.push({
      name: `member bad url ${url}`,
      path: "/v1/cluster/members",
      init: jsonInit("POST", { id: "n5", url }),
    });
  }
  return out;
}
