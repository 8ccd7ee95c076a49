/**
 * `GET /metrics` end to end (API.md §6): on three real nodes the exposition
 * parses whole (HELP and TYPE for every family, labels, histograms with
 * monotone buckets, `_sum` and `_count`), and the counters move with the
 * traffic sent: requests by route and code, forwarded writes, proposals,
 * batch sizes, raft term and role, commit and applied index, Deno KV
 * commits, linearizable reads, replication latency.
 */
import assert from "node:assert/strict";
import { get, put, TestCluster, until } from "./_cluster.ts";
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

Deno.test("metrics: /metrics parses whole and moves with the traffic", opts, async (t) => {
  // A longer election timeout: a spurious election under a loaded machine
  // would move the counts this test checks to another node.
  const c = await TestCluster.start({ size: 3, extraArgs: ["--election-ticks", "30"] });
  try {
    const leader = await c.waitLeader();
    const L = c.node(leader);
    const [F, O] = c.nodes.filter((n) => n.spec.id !== leader);
    const before = new Map(
      await Promise.all(c.nodes.map(async (n) => [n.spec.id, await scrape(n.url)] as const)),
    );
    const [direct, forwarded, reads] = [20, 5, 3];
    const writes = await Promise.all([
      ...Array.from({ length: direct }, (_, i) => put(L.url, `d${i}`, i)),
      ...Array.from({ length: forwarded }, (_, i) => put(F!.url, `f${i}`, i)),
    ]);
    for (const w of writes) assert.equal(w.status, 200);
    for (let i = 0; i < reads; i++) assert.equal((await get(F!.url, "d0")).status, 200);
    assert.equal((await get(L.url, "missing")).status, 404);
    const lastIndex = Math.max(...writes.map((w) => Number(w.headers.get("x-raftkv-index"))));

    await t.step(
      "every node's exposition parses whole, HELP and TYPE for each family",
      async () => {
        for (const n of c.nodes) {
          const e = await scrape(n.url);
          assert.ok(e.size >= 20, `${n.spec.id}: ${e.size} families`);
          for (const f of e.values()) {
            assert.ok(f.help, `${f.name} has HELP`);
            assert.ok(f.type, `${f.name} has TYPE`);
            assert.ok(f.name.startsWith("raftkv_"), f.name);
          }
        }
      },
    );

    await t.step("HTTP requests by route, method and code; latency counts agree", async () => {
      const [bl, al] = [before.get(leader)!, await scrape(L.url)];
      const put200 = { route: KV_ROUTE, method: "PUT", code: "200" };
      assert.equal(delta(bl, al, "raftkv_http_requests_total", put200), direct + forwarded);
      const get404 = { route: KV_ROUTE, method: "GET", code: "404" };
      assert.equal(delta(bl, al, "raftkv_http_requests_total", get404), 1);
      const [bf, af] = [before.get(F!.spec.id)!, await scrape(F!.url)];
      assert.equal(delta(bf, af, "raftkv_http_requests_total", put200), forwarded);
      const get200 = { route: KV_ROUTE, method: "GET", code: "200" };
      assert.equal(delta(bf, af, "raftkv_http_requests_total", get200), reads);
      for (const e of [al, af]) {
        const count = must(e, "raftkv_http_request_duration_seconds_count", { route: KV_ROUTE });
        assert.equal(count, sumSamples(e, "raftkv_http_requests_total", { route: KV_ROUTE }));
      }
    });

    await t.step(
      "writes to a follower are counted as forwarded, on the follower only",
      async () => {
        const af = await scrape(F!.url);
        const forwardedPuts = { method: "PUT" };
        assert.equal(
          delta(before.get(F!.spec.id)!, af, "raftkv_forwarded_requests_total", forwardedPuts),
          forwarded,
        );
        const al = await scrape(L.url);
        assert.equal(sumSamples(al, "raftkv_forwarded_requests_total"), 0);
      },
    );

    await t.step("proposals applied, batch sizes, Deno KV commits", async () => {
      const [b, a] = [before.get(leader)!, await scrape(L.url)];
      const applied = { outcome: "applied" };
      assert.equal(delta(b, a, "raftkv_proposals_total", applied), direct + forwarded);
      assert.equal(delta(b, a, "raftkv_proposals_total", { outcome: "timeout" }), 0);
      // Every entry is persisted in some batch; concurrent writes share batches.
      const batches = delta(b, a, "raftkv_batch_size_count");
      const entries = delta(b, a, "raftkv_batch_size_sum");
      assert.ok(entries >= direct + forwarded, `${entries} entries persisted`);
      assert.ok(batches >= 1 && batches <= entries, `${batches} batches`);
      assert.ok(delta(b, a, "raftkv_apply_batch_size_sum") >= direct + forwarded);
      for (const engine of ["raft", "data"]) {
        assert.ok(delta(b, a, "raftkv_denokv_commits_total", { engine }) >= 1, engine);
      }
      assert.ok(delta(b, a, "raftkv_persist_duration_seconds_count") >= 1);
      for (const peer of [F!.spec.id, O!.spec.id]) {
        assert.ok(must(a, "raftkv_replicate_duration_seconds_count", { peer }) >= 1, peer);
      }
    });

    await t.step("term and role gauges agree across the cluster", async () => {
      const all = await Promise.all(
        c.nodes.map(async (n) => [n.spec.id, await scrape(n.url)] as const),
      );
      const term = must(all[0]![1], "raftkv_raft_term");
      assert.ok(term >= 1);
      for (const [id, e] of all) {
        assert.equal(must(e, "raftkv_raft_term"), term, `${id} term`);
        assert.equal(must(e, "raftkv_raft_state"), id === leader ? 2 : 0, `${id} state`);
        assert.equal(must(e, "raftkv_raft_is_leader"), id === leader ? 1 : 0, `${id} is_leader`);
        assert.ok(must(e, "raftkv_raft_leader_changes_total") >= 1, `${id} leader changes`);
      }
    });

    await t.step("commit and applied index reach the last write on every node", async () => {
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
    });

    await t.step("linearizable reads on a follower count ReadIndex rounds", async () => {
      const af = await scrape(F!.url);
      const ok = delta(before.get(F!.spec.id)!, af, "raftkv_read_index_total", { outcome: "ok" });
      assert.equal(ok, reads);
    });
  } catch (e) {
    console.error(c.describe());
    throw e;
  } finally {
    await c.stop();
  }
});
