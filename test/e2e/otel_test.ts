/**
 * Tracing end to end (API.md §8): three real nodes with Deno's built-in
 * OpenTelemetry export OTLP/HTTP JSON to a receiver in this test. A PUT sent
 * to a follower must come back as ONE trace across the three services, with
 * the spans parented as the README describes; batch spans link to the
 * requests they serve; background traffic never joins a request's trace;
 * errors set the span status.
 */
import assert from "node:assert/strict";
import { put, TestCluster, TestNode, until } from "./_cluster.ts";
import { parseExposition, sumSamples } from "../telemetry/_expo.ts";
import {
  KIND,
  OtlpReceiver,
  type OtlpReceiver as Rx,
  type OtlpSpan,
  STATUS,
} from "../telemetry/_otlp.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const svc = (id: string) => `raftkv-${id}`;
const JSON_TYPE = { "content-type": "application/json" };

/** A cluster whose node `nK` exports as service `raftkv-nK`. */
async function tracedCluster(rx: Rx, extraArgs: string[]): Promise<TestCluster> {
  const env = {
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: rx.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_BSP_SCHEDULE_DELAY: "200",
    OTEL_DENO_CONSOLE: "ignore",
  };
  const root = await Deno.makeTempDir({ prefix: "raftkv-otel-" });
  const c = new TestCluster(root, { size: 3, extraArgs });
  c.nodes.forEach((n, i) => {
    c.nodes[i] = new TestNode(n.spec, n.args, { ...env, OTEL_SERVICE_NAME: svc(n.spec.id) });
  });
  for (const n of c.nodes) n.start();
  try {
    await c.waitLeader();
  } catch (e) {
    await c.stop();
    throw e;
  }
  return c;
}

/** Exactly one span in `t` on `service` named `name` that passes `pred`. */
function one(t: OtlpSpan[], service: string, name: string, pred = (_: OtlpSpan) => true) {
  const m = t.filter((s) => s.service === service && s.name === name && pred(s));
  if (m.length !== 1) throw new Error(`expected one ${name} on ${service}, got ${m.length}`);
  return m[0]!;
}

function childOf(s: OtlpSpan, parent: OtlpSpan): void {
  if (s.parentSpanId !== parent.spanId) {
    throw new Error(`${s.service} ${s.name} is not a child of ${parent.service} ${parent.name}`);
  }
}

/** The client request's server span on `node` for `PUT /v1/kv/<key>`. */
function putServerSpan(rx: Rx, node: string, key: string): OtlpSpan {
  const s = rx.spans.find((s) =>
    s.service === svc(node) && s.kind === KIND.server && s.name === "PUT" &&
    s.attributes["url.path"] === `/v1/kv/${key}`
  );
  if (!s) throw new Error(`no PUT server span on ${node} yet`);
  return s;
}

/** Checks the whole trace of a PUT sent to follower `f`; throws until complete. */
function writeTrace(rx: Rx, key: string, f: string, leader: string, other: string): OtlpSpan[] {
  const root = putServerSpan(rx, f, key);
  const t = rx.trace(root.traceId);
  const [F, L] = [svc(f), svc(leader)];
  const forward = one(t, F, "raftkv.forward");
  childOf(forward, root);
  // The write travels on the peer stream: the leader's propose span is the
  // forward span's child (its traceparent rides in the forward frame).
  const propose = one(t, L, "raftkv.propose");
  childOf(propose, forward);
  assert.equal(t.filter((s) => s.kind === KIND.client).length, 0, "no HTTP hop");
  assert.equal(
    t.filter((s) => s.name === "raftkv.propose").length,
    1,
    "propose only on the leader",
  );
  for (const name of ["raftkv.append", "raftkv.commit", "raftkv.apply"]) {
    childOf(one(t, L, name), propose);
  }
  for (const peer of [f, other]) {
    const rep = one(t, L, "raftkv.replicate", (s) => s.attributes["raftkv.peer"] === peer);
    childOf(rep, propose);
    for (const name of ["raftkv.append", "raftkv.apply"]) {
      const spans = t.filter((s) => s.service === svc(peer) && s.name === name);
      if (spans.length === 0) throw new Error(`no ${name} on ${peer} yet`);
      for (const s of spans) {
        const chain = rx.ancestry(s).map((a) => a.spanId);
        assert.ok(chain.includes(rep.spanId), `${peer} ${name} descends from the replicate span`);
      }
    }
  }
  assert.deepEqual(new Set(t.map((s) => s.service)), new Set([F, L, svc(other)]));
  assert.deepEqual(t.filter((s) => s.status.code === STATUS.error), [], "no errors");
  return t;
}

/** A leader batch span `name` whose links point at other requests' propose spans. */
function linkedBatch(rx: Rx, leader: string, name: string): OtlpSpan | undefined {
  return rx.spans.find((s) =>
    s.service === svc(leader) && s.name === name && s.links.length >= 1 &&
    rx.span(s.parentSpanId)?.name === "raftkv.propose" &&
    s.links.every((l) => rx.span(l.spanId)?.name === "raftkv.propose")
  );
}

/** What every step needs: the receiver, the cluster and who is who. */
interface Ctx {
  readonly rx: Rx;
  readonly c: TestCluster;
  readonly leader: string;
  /** The follower writes are sent to. */
  readonly f: string;
  readonly other: string;
}

async function writeToFollower({ rx, c, leader, f, other }: Ctx): Promise<void> {
  assert.equal((await put(c.node(f).url, "traced", { n: 1 })).status, 200);
  await until("the write's spans", () => writeTrace(rx, "traced", f, leader, other));
}

async function clientTraceparent({ rx, c, leader, f, other }: Ctx): Promise<void> {
  const tid = crypto.randomUUID().replaceAll("-", "");
  const sid = tid.slice(0, 16);
  const res = await put(c.node(f).url, "parented", 1, { traceparent: `00-${tid}-${sid}-01` });
  assert.equal(res.status, 200);
  await until("the parented trace", () => {
    const root = putServerSpan(rx, f, "parented");
    assert.equal(root.traceId, tid);
    assert.equal(root.parentSpanId, sid);
    return writeTrace(rx, "parented", f, leader, other);
  });
}

async function batchLinks({ rx, c, leader }: Ctx): Promise<void> {
  let round = 0;
  await until("a batch serving several requests", async () => {
    const url = c.node(leader).url;
    const puts = Array.from({ length: 32 }, (_, i) => put(url, `c${round}-${i}`, i));
    for (const r of await Promise.all(puts)) assert.equal(r.status, 200);
    round++;
    const want = ["raftkv.append", "raftkv.commit", "raftkv.apply"];
    return want.every((n) => linkedBatch(rx, leader, n)) ? true : undefined;
  }, 20_000);
}

async function boundedTraces({ rx, c, leader }: Ctx): Promise<void> {
  // 300 more messages from the leader (heartbeats, a tick is 50 ms) and as
  // many answers: enough to grow any trace they were wrongly chained into.
  const sent = async () => {
    const res = await fetch(`${c.node(leader).url}/metrics`);
    return sumSamples(parseExposition(await res.text()), "raftkv_peer_messages_sent_total");
  };
  const start = await sent();
  await until("heartbeats sent", async () => await sent() > start + 300 ? true : undefined, 30_000);
  const sizes = new Map<string, number>();
  for (const s of rx.spans) sizes.set(s.traceId, (sizes.get(s.traceId) ?? 0) + 1);
  const biggest = Math.max(...sizes.values());
  assert.ok(biggest < 80, `largest trace has ${biggest} of ${rx.spans.length} spans`);
  const batch = new Set(["raftkv.replicate", "raftkv.append", "raftkv.commit", "raftkv.apply"]);
  for (const s of rx.spans) {
    if (s.service !== svc(leader) || !batch.has(s.name)) continue;
    const served = rx.trace(s.traceId).some((p) => p.name === "raftkv.propose");
    assert.ok(served, `${s.name} serves a request`);
  }
}

async function errorStatus({ rx, c, leader, f }: Ctx): Promise<void> {
  // Apply paused on the leader: the write commits but never answers, so the
  // leader's proposal times out and the follower's forward fails.
  const fp = `${c.node(leader).url}/debug/failpoints/apply.before`;
  const pause = JSON.stringify({ kind: "pause" });
  const set = await fetch(fp, { method: "PUT", body: pause, headers: JSON_TYPE });
  assert.equal(set.status, 200, await set.text());
  try {
    assert.equal((await put(c.node(f).url, "stuck", 1)).status, 504);
    await until("the error spans", () => {
      const t = rx.trace(putServerSpan(rx, f, "stuck").traceId);
      const forward = one(t, svc(f), "raftkv.forward");
      const propose = one(t, svc(leader), "raftkv.propose");
      assert.equal(forward.status.code, STATUS.error);
      assert.equal(propose.status.code, STATUS.error);
      assert.match(propose.status.message, /TimeoutError/);
      return true;
    });
  } finally {
    await (await fetch(fp, { method: "DELETE" })).body?.cancel();
  }
}

const STEPS: readonly [string, (ctx: Ctx) => Promise<void>][] = [
  ["a PUT to a follower: forward, propose, append, replicate, commit, apply", writeToFollower],
  ["a client's traceparent is continued, not duplicated", clientTraceparent],
  ["concurrent PUTs: batch spans link to every request they serve", batchLinks],
  ["background traffic never grows a request's trace", boundedTraces],
  ["errors set the span status", errorStatus],
];

Deno.test("tracing: one write is one trace across three nodes", opts, async (t) => {
  const rx = OtlpReceiver.start();
  const args = ["--enable-failpoints", "--request-timeout-ms", "1500", "--election-ticks", "30"];
  const c = await tracedCluster(rx, args).catch(async (e) => {
    await rx.stop();
    throw e;
  });
  try {
    const leader = await c.waitLeader();
    const [f, other] = c.nodes.map((n) => n.spec.id).filter((id) => id !== leader);
    const ctx: Ctx = { rx, c, leader, f: f!, other: other! };
    for (const [name, fn] of STEPS) await t.step(name, () => fn(ctx));
  } catch (e) {
    console.error(c.describe());
    throw e;
  } finally {
    await c.stop();
    await rx.stop();
  }
});
