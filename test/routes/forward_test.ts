import assert from "node:assert/strict";
import { body, jsonInit, makeApp } from "./_app.ts";
import { FakeEngine } from "./_fake_engine.ts";
import { forwardPath } from "../../routes/forward.ts";

const LEADER = { id: "n1", url: "http://n1.test:8080" };

interface Sent {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

/** A fetch that records what it is sent and answers with `reply`. */
function recordingFetch(reply: () => Response | Promise<Response>) {
  const sent: Sent[] = [];
  const f = async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    sent.push({ url: req.url, method: req.method, headers: req.headers, body: await req.text() });
    return await reply();
  };
  return { sent, fetch: f as typeof fetch };
}

/** A follower and a leader app wired together through the follower's fetch. */
function pair() {
  const leader = makeApp({ id: "n1" });
  const follower = makeApp({
    id: "n2",
    leader: LEADER,
    fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
      leader.app.request(new Request(input, init))) as typeof fetch,
  });
  return { leader, follower };
}

Deno.test("a follower forwards writes to the leader and relays the answer", async () => {
  const reply = () =>
    new Response('{"key":"k","version":1,"createIndex":7,"modIndex":7}', {
      status: 200,
      headers: {
        "content-type": "application/json",
        etag: '"7"',
        "x-raftkv-index": "7",
        "x-raftkv-node": "n1",
        "x-raftkv-leader": "n1",
        "x-secret-internal": "no",
      },
    });
  const { sent, fetch } = recordingFetch(reply);
  const { app, metrics, engine } = makeApp({ id: "n2", leader: LEADER, fetch });
  const res = await app.request(
    "/v1/kv/a%2Fb?prev=true",
    jsonInit("PUT", '{"value": [1, 2]}', {
      "if-match": '"3"',
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      "x-other": "dropped",
    }),
  );
  assert.equal(res.status, 200);
  assert.equal(await res.text(), '{"key":"k","version":1,"createIndex":7,"modIndex":7}');
  assert.equal(res.headers.get("x-raftkv-node"), "n2", "the node that answered the client");
  assert.equal(res.headers.get("x-raftkv-leader"), "n1");
  assert.equal(res.headers.get("etag"), '"7"');
  assert.equal(res.headers.get("x-raftkv-index"), "7");
  assert.equal(res.headers.get("x-secret-internal"), null);

  assert.equal(sent.length, 1);
  const s = sent[0]!;
  assert.equal(s.url, "http://n1.test:8080/v1/kv/a%2Fb?prev=true");
  assert.equal(s.method, "PUT");
  assert.equal(s.body, '{"value": [1, 2]}', "the original bytes");
  assert.equal(s.headers.get("x-raftkv-forwarded"), "n2");
  assert.equal(s.headers.get("if-match"), '"3"');
  assert.equal(s.headers.get("content-type"), "application/json");
  assert.match(s.headers.get("traceparent")!, /^00-0af7/);
  assert.equal(s.headers.get("x-other"), null);
  assert.equal(metrics.forwarded.value({ method: "PUT" }), 1);
  assert.equal(engine.commands.length, 0);
});

Deno.test("forwarding end to end: follower app -> leader app", async (t) => {
  const { leader, follower } = pair();

  await t.step("PUT through the follower lands on the leader", async () => {
    const res = await follower.app.request("/v1/kv/k", jsonInit("PUT", { value: "v" }));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-raftkv-node"), "n2");
    assert.equal(res.headers.get("etag"), '"1"');
    assert.equal(leader.engine.sm.get("k")?.value, '"v"');
  });

  await t.step("a 412 from the leader is relayed as is", async () => {
    const res = await follower.app.request(
      "/v1/kv/k",
      jsonInit("PUT", { value: "w" }, { "if-none-match": "*" }),
    );
    assert.equal(res.status, 412);
    const err = (await body(res) as { error: { current: { value: string } } }).error;
    assert.equal(err.current.value, "v");
  });

  await t.step("DELETE, range delete and txn are forwarded", async () => {
    let res = await follower.app.request(
      "/v1/txn",
      jsonInit("POST", { success: [{ op: "put", key: "t", value: 1 }] }),
    );
    assert.equal((await body(res) as { succeeded: boolean }).succeeded, true);
    res = await follower.app.request("/v1/kv?prefix=t", { method: "DELETE" });
    assert.deepEqual(await body(res), { deleted: 1 });
    res = await follower.app.request("/v1/kv/k", { method: "DELETE" });
    assert.deepEqual(await body(res), { deleted: 1 });
    assert.equal(leader.engine.dump(), JSON.stringify({ index: 5, records: [] }));
    assert.equal(follower.metrics.forwarded.value({ method: "DELETE" }), 2);
  });

  await t.step("lease reads are forwarded; linearizable and stale are served locally", async () => {
    await leader.app.request("/v1/kv/r", jsonInit("PUT", { value: 1 }));
    const lease = await follower.app.request("/v1/kv/r?consistency=lease");
    assert.equal(lease.status, 200);
    assert.equal(lease.headers.get("x-raftkv-node"), "n2");
    assert.equal(lease.headers.get("x-raftkv-leader"), "n1");
    const local = await follower.app.request("/v1/kv/r?consistency=stale");
    assert.equal(local.status, 404, "the fake follower has no data of its own");
    assert.equal(local.headers.get("x-raftkv-node"), "n2");
    assert.equal(local.headers.get("x-raftkv-leader"), "n1");
    assert.deepEqual(follower.engine.reads, ["stale"]);
  });

  await t.step("HEAD is forwarded too", async () => {
    const res = await follower.app.request("/v1/kv/r?consistency=lease", { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-raftkv-node"), "n2");
  });
});

Deno.test("a forwarded request is never forwarded again", async () => {
  const { sent, fetch } = recordingFetch(() => new Response("{}"));
  const { app } = makeApp({ id: "n2", leader: LEADER, fetch });
  const res = await app.request(
    "/v1/kv/k",
    jsonInit("PUT", { value: 1 }, { "x-raftkv-forwarded": "n3" }),
  );
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "1");
  assert.deepEqual(await body(res), {
    error: {
      code: "unavailable",
      message: "Not the leader (the leader is n1); retry",
      leader: "n1",
    },
  });
  assert.equal(sent.length, 0);
});

Deno.test("no known leader → 503 no_leader with Retry-After", async () => {
  const { sent, fetch } = recordingFetch(() => new Response("{}"));
  const { app } = makeApp({ id: "n2", leader: null, fetch });
  const res = await app.request("/v1/kv/k", jsonInit("PUT", { value: 1 }));
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "1");
  assert.equal(res.headers.get("x-raftkv-leader"), null);
  assert.equal((await body(res) as { error: { code: string } }).error.code, "no_leader");
  assert.equal(sent.length, 0);
});

Deno.test("forward failures", async (t) => {
  await t.step(
    "a write whose forward failed, even as refused → 503 leadership_changed",
    async () => {
      // Deno's fetch resends on a new connection when a pooled one dies and
      // reports that resend's "(Connect)" error: the write may have landed.
      const { fetch } = recordingFetch(() => {
        throw new TypeError("fetch failed", {
          cause: new Error(
            "error sending request: client error (Connect): tcp connect error: Connection refused",
          ),
        });
      });
      const { app } = makeApp({ id: "n2", leader: LEADER, fetch });
      const res = await app.request("/v1/kv/k", jsonInit("PUT", { value: 1 }));
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("retry-after"), "1");
      const code = (await body(res) as { error: { code: string } }).error.code;
      assert.equal(code, "leadership_changed");
    },
  );

  await t.step("a lease read whose forward failed → 503 unavailable", async () => {
    const { fetch } = recordingFetch(() => {
      throw new TypeError("fetch failed", { cause: new Error("client error (Connect)") });
    });
    const engine = new FakeEngine({ id: "n2", leader: LEADER });
    const { app } = makeApp({ engine, fetch });
    const res = await app.request("/v1/kv/k?consistency=lease");
    assert.equal(res.status, 503);
    assert.equal((await body(res) as { error: { code: string } }).error.code, "unavailable");
  });

  await t.step(
    "connection lost after sending → 503 leadership_changed (outcome unknown)",
    async () => {
      const { fetch } = recordingFetch(() => {
        throw new TypeError("fetch failed", {
          cause: new Error(
            "client error (SendRequest): connection closed before message completed",
          ),
        });
      });
      const { app } = makeApp({ id: "n2", leader: LEADER, fetch });
      const res = await app.request("/v1/kv/k", jsonInit("PUT", { value: 1 }));
      assert.equal(res.status, 503);
      const code = (await body(res) as { error: { code: string } }).error.code;
      assert.equal(code, "leadership_changed");
    },
  );

  await t.step("leader too slow → 504 timeout (outcome unknown)", async () => {
    const { fetch } = recordingFetch(() => {
      throw new DOMException("Signal timed out.", "TimeoutError");
    });
    const { app } = makeApp({ id: "n2", leader: LEADER, fetch });
    const res = await app.request("/v1/kv/k", jsonInit("PUT", { value: 1 }));
    assert.equal(res.status, 504);
    assert.equal((await body(res) as { error: { code: string } }).error.code, "timeout");
  });
});

Deno.test("bad requests are rejected locally, not forwarded", async () => {
  const { sent, fetch } = recordingFetch(() => new Response("{}"));
  const engine = new FakeEngine({ id: "n2", leader: LEADER });
  const { app } = makeApp({ engine, fetch });
  assert.equal((await app.request("/v1/kv/k", jsonInit("PUT", { nope: 1 }))).status, 400);
  assert.equal(
    (await app.request("/v1/kv/k", jsonInit("PUT", { value: 1 }, { "if-match": "x" }))).status,
    400,
  );
  assert.equal(sent.length, 0);
});

/** A Request whose `url` is what the client sent, unparsed (as Deno.serve hands it over). */
class RawRequest extends Request {
  readonly #raw: string;
  constructor(raw: string, init?: RequestInit) {
    super("http://n2.test/", init);
    this.#raw = raw;
  }
  override get url(): string {
    return this.#raw;
  }
}

Deno.test("a forwarded request reaches the leader with the key it named", async (t) => {
  const { leader, follower } = pair();
  for (const [k, v] of [["bs%5Cq", 1], ["bs%2Fq", 2], ["a%2F..%2Fb", 3], ["b", 4]] as const) {
    await leader.app.request(`/v1/kv/${k}`, jsonInit("PUT", { value: v }));
  }
  // A Request's URL is parsed (a `\` would already be a `/`): this one is raw,
  // as Deno.serve hands over what the client sent.
  const raw = (path: string, init?: RequestInit) => new RawRequest(`http://n2.test${path}`, init);
  for (const [path, key, value] of [["/v1/kv/bs\\q", "bs\\q", 1], ["/v1/kv/a/../b", "a/../b", 3]]) {
    await t.step(`a lease read of ${key} through the follower`, async () => {
      const res = await follower.app.request(raw(`${path}?consistency=lease`));
      assert.equal(res.status, 200);
      assert.deepEqual([(await body(res) as { key: string }).key, value], [key, value]);
    });
  }
  await t.step("a put of bs\\q through the follower", async () => {
    const res = await follower.app.request(
      raw("/v1/kv/bs\\q", jsonInit("PUT", '{"value":5}', { "content-length": "11" })),
    );
    assert.equal(res.status, 200);
    assert.equal(leader.engine.sm.get("bs\\q")?.value, "5");
    assert.equal(leader.engine.sm.get("bs/q")?.value, "2");
  });
  await t.step("a key that is . or .. is refused, not sent as another path", async () => {
    for (const k of ["..", ".", "%2E%2e"]) {
      const res = await follower.app.request(raw(`/v1/kv/${k}?consistency=lease`));
      assert.equal(res.status, 400, k);
      const { error } = await body(res) as { error: { message: string } };
      assert.match(error.message, /cannot be forwarded/);
    }
  });
  await t.step("the path as sent on", () => {
    assert.equal(forwardPath("/v1/kv/a/../b\\c"), "/v1/kv/a%2F..%2Fb%5Cc");
    assert.equal(forwardPath("/v1/txn"), "/v1/txn");
  });
});
