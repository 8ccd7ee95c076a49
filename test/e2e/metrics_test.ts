/**
 * `GET /metrics` end to end (API.md §6): on three real nodes the exposition
 * parses whole (HELP and TYPE for every family, labels, histograms with
 * monotone buckets, `_sum` and `_count`), and the counters move with the
 * traffic sent: requests by route and code, forwarded writes, proposals,
 * batch sizes, raft term and role, commit and applied index, Deno KV
 * commits, linearizable reads, replication latency.
 */
import assert from "node:assert/strict";
import { get, put, type TestCluster, type TestNode, until, withCluster } from "./_cluster.ts";
import { type Exposition, parseExposition, sampleValue, sumSamples } from "../telemetry/_expo.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const KV_ROUTE = "/v1/kv/:key{.+}";

async function scrape(url: string): Promise<Exposition> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
  return parseExposition(await res.text());
}

/** The value of a sample that must exist. */
function must(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  const v = sampleValue(e, name, labels);
  assert.ok(v !== undefined, `${name}${JSON.stringify(labels)} is exported`);
  return v;
}

/** after - before for a sample (absent counts as 0). */
function delta(
  before: Exposition,
  after: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number {
  return (sampleValue(after, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);
}

const [DIRECT, FORWARDED, READS] = [20, 5, 3];

/** The cluster, who is who, the scrapes before the traffic, the last index written. */
interface Ctx {
  readonly c: TestCluster;
  readonly leader: TestNode;
  readonly follower: TestNode;
  readonly other: TestNode;
  readonly before: ReadonlyMap<string, Exposition>;
  readonly lastIndex: number;
}

/** Scrapes every node, then sends the traffic the steps check. */
async function traffic(c: TestCluster): Promise<Ctx> {
  const id = await c.waitLeader();
  const [leader, follower, other] = [c.node(id), ...c.nodes.filter((n) => n.spec.id !== id)];
  const before = new Map(
    await Promise.all(c.nodes.map(async (n) => [n.spec.id, await scrape(n.url)] as const)),
  );
  const writes = await Promise.all([
    ...Array.from({ length: DIRECT }, (_, i) => put(leader!.url, `d${i}`, i)),
    ...Array.from({ length: FORWARDED }, (_, i) => put(follower!.url, `f${i}`, i)),
  ]);
  for (const w of writes) assert.equal(w.status, 200);
  for (let i = 0; i < READS; i++) assert.equal((await get(follower!.url, "d0")).status, 200);
  assert.equal((await get(leader!.url, "missing")).status, 404);
  const lastIndex = Math.max(...writes.map((w) => Number(w.headers.get("x-raftkv-index"))));
  return { c, leader: leader!, follower: follower!, other: other!, before, lastIndex };
}

async function parsesWhole({ c }: Ctx): Promise<void> {
  for (const n of c.nodes) {
    const e = await scrape(n.url);
    assert.ok(e.size >= 20, `${n.spec.id}: ${e.size} families`);
    for (const f of e.values()) {
      assert.ok(f.help, `${f.name} has HELP`);
      assert.ok(f.type, `${f.name} has TYPE`);
      assert.ok(f.name.startsWith("raftkv_"), f.name);
    }
  }
}

async function httpRequests({ leader, follower, before }: Ctx): Promise<void> {
  const [bl, al] = [before.get(leader.spec.id)!, await scrape(leader.url)];
  const [bf, af] = [before.get(follower.spec.id)!, await scrape(follower.url)];
  const req = (method: string, code: string) => ({ route: KV_ROUTE, method, code });
  const count = "raftkv_http_requests_total";
  // Forwarded writes reach the leader on the peer stream, not over HTTP.
  assert.equal(delta(bl, al, count, req("PUT", "200")), DIRECT);
  assert.equal(delta(bl, al, count, req("GET", "404")), 1);
  assert.equal(delta(bf, af, count, req("PUT", "200")), FORWARDED);
  assert.equal(delta(bf, af, count, req("GET", "200")), READS);
  for (const e of [al, af]) {
    const latencies = sumSamples(e, "raftkv_http_request_duration_seconds_count", {
      route: KV_ROUTE,
    });
    assert.equal(latencies, sumSamples(e, count, { route: KV_ROUTE }));
  }
}

async function forwardedWrites({ leader, follower, before }: Ctx): Promise<void> {
  const af = await scrape(follower.url);
  const name = "raftkv_forwarded_requests_total";
  assert.equal(delta(before.get(follower.spec.id)!, af, name, { method: "PUT" }), FORWARDED);
  assert.equal(sumSamples(await scrape(leader.url), name), 0);
}

async function proposalsAndBatches({ leader, follower, other, before }: Ctx): Promise<void> {
  const [b, a] = [before.get(leader.spec.id)!, await scrape(leader.url)];
  const writes = DIRECT + FORWARDED;
  assert.equal(delta(b, a, "raftkv_proposals_total", { outcome: "applied" }), writes);
  assert.equal(delta(b, a, "raftkv_proposals_total", { outcome: "timeout" }), 0);
  // Every entry is persisted in some batch; concurrent writes share batches.
  const batches = delta(b, a, "raftkv_batch_size_count");
  const entries = delta(b, a, "raftkv_batch_size_sum");
  assert.ok(entries >= writes, `${entries} entries persisted`);
  assert.ok(batches >= 1 && batches <= entries, `${batches} batches`);
  assert.ok(delta(b, a, "raftkv_apply_batch_size_sum") >= writes);
  for (const engine of ["raft", "data"]) {
    assert.ok(delta(b, a, "raftkv_denokv_commits_total", { engine }) >= 1, engine);
  }
  assert.ok(delta(b, a, "raftkv_persist_duration_seconds_count") >= 1);
  // Append round trips are timed on the leader only.
  assert.ok(delta(b, a, "raftkv_replicate_duration_seconds_count") >= 1);
  const f = [before.get(follower.spec.id)!, await scrape(follower.url)] as const;
  assert.equal(delta(f[0], f[1], "raftkv_replicate_duration_seconds_count"), 0);
  for (const peer of [follower.spec.id, other.spec.id]) {
    assert.ok(delta(b, a, "raftkv_peer_messages_sent_total", { peer }) >= 1, peer);
  }
}

async function termAndRole({ c, leader }: Ctx): Promise<void> {
  const all = await Promise.all(
    c.nodes.map(async (n) => [n.spec.id, await scrape(n.url)] as const),
  );
  const term = must(all[0]![1], "raftkv_raft_term");
  assert.ok(term >= 1);
  for (const [id, e] of all) {
    const lead = id === leader.spec.id;
    assert.equal(must(e, "raftkv_raft_term"), term, `${id} term`);
    assert.equal(must(e, "raftkv_raft_state"), lead ? 2 : 0, `${id} state`);
    assert.equal(must(e, "raftkv_raft_is_leader"), lead ? 1 : 0, `${id} is_leader`);
    assert.ok(must(e, "raftkv_raft_leader_changes_total") >= 1, `${id} leader changes`);
  }
}

async function indexes({ c, lastIndex }: Ctx): Promise<void> {
  for (const n of c.nodes) {
    await until(`${n.spec.id} applied ${lastIndex}`, async () => {
      const e = await scrape(n.url);
      const applied = must(e, "raftkv_raft_applied_index");
      const commit = must(e, "raftkv_raft_commit_index");
      assert.ok(applied <= commit, "applied <= commit");
      assert.ok(commit <= must(e, "raftkv_raft_last_index"), "commit <= last");
      return applied >= lastIndex ? true : undefined;
    });
  }
}

async function readIndexRounds({ follower, before }: Ctx): Promise<void> {
  const af = await scrape(follower.url);
  const b = before.get(follower.spec.id)!;
  assert.equal(delta(b, af, "raftkv_read_index_total", { outcome: "ok" }), READS);
}

const STEPS: readonly [string, (ctx: Ctx) => Promise<void>][] = [
  ["every node's exposition parses whole, HELP and TYPE for each family", parsesWhole],
  ["HTTP requests by route, method and code; latency counts agree", httpRequests],
  ["writes to a follower are counted as forwarded, on the follower only", forwardedWrites],
  ["proposals applied, batch sizes, Deno KV commits", proposalsAndBatches],
  ["term and role gauges agree across the cluster", termAndRole],
  ["commit and applied index reach the last write on every node", indexes],
  ["linearizable reads on a follower count ReadIndex rounds", readIndexRounds],
];

Deno.test("metrics: /metrics parses whole and moves with the traffic", opts, async (t) => {
  // A longer election timeout: a spurious election under a loaded machine
  // would move the counts this test checks to another node.
  await withCluster({ size: 3, extraArgs: ["--election-ticks", "30"] }, async (c) => {
    const ctx = await traffic(c);
    for (const [name, fn] of STEPS) await t.step(name, () => fn(ctx));
  });
});
