/**
 * The test-side exposition parser (`_expo.ts`): it accepts what Prometheus
 * accepts, refuses what it refuses, and reads back everything the node's
 * registry renders.
 */
import assert from "node:assert/strict";
import {
  ExpoError,
  parseExposition,
  parseSample,
  parseValue,
  sampleValue,
  sumSamples,
} from "./_expo.ts";
import { LATENCY_BUCKETS, Registry } from "../../src/telemetry/metrics.ts";
import { createNodeMetrics } from "../../src/telemetry/node_metrics.ts";

const GOOD = `# HELP http_requests_total Requests by code.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"} 3
# a plain comment
# TYPE temp gauge
temp -1.5e3
# HELP lat Latency \\\\ with a\\nnewline.
# TYPE lat histogram
lat_bucket{le="0.05"} 24054
lat_bucket{le="0.1"} 33444
lat_bucket{le="+Inf"} 144320
lat_sum 53423
lat_count 144320
`;

Deno.test("exposition parser: reads families, help, types, labels, values", () => {
  const e = parseExposition(GOOD);
  assert.deepEqual([...e.keys()], ["http_requests_total", "temp", "lat"]);
  assert.equal(e.get("http_requests_total")!.type, "counter");
  assert.equal(e.get("lat")!.help, "Latency \\ with a\nnewline.");
  assert.equal(sampleValue(e, "http_requests_total", { code: "400", method: "post" }), 3);
  assert.equal(sumSamples(e, "http_requests_total", { method: "post" }), 1030);
  assert.equal(sampleValue(e, "temp"), -1500);
  assert.equal(sampleValue(e, "lat_bucket", { le: "+Inf" }), 144320);
  assert.equal(sampleValue(e, "missing"), undefined);
});

Deno.test("exposition parser: label values keep escapes, commas and braces", () => {
  const s = parseSample('m{a="x\\"y",b="1,2}",c="a\\\\b\\nc",} 2');
  assert.deepEqual(s.labels, { a: 'x"y', b: "1,2}", c: "a\\b\nc" });
  assert.equal(s.value, 2);
});

Deno.test("exposition parser: special values", () => {
  assert.equal(parseValue("+Inf"), Infinity);
  assert.equal(parseValue("-Inf"), -Infinity);
  assert.ok(Number.isNaN(parseValue("NaN")));
  assert.equal(parseValue("1e-7"), 1e-7);
  assert.throws(() => parseValue("1,5"), ExpoError);
  assert.throws(() => parseValue(""), ExpoError);
});

const BAD: readonly [string, string][] = [
  ["no final line feed", "# TYPE a counter\na 1"],
  ["sample before TYPE", "a 1\n"],
  ["TYPE after samples", "# TYPE a counter\na 1\n# TYPE a counter\n"],
  ["unknown type", "# TYPE a countr\n"],
  ["series twice", '# TYPE a counter\na{x="1"} 1\na{x="1"} 2\n'],
  ["bad label name", '# TYPE a counter\na{1x="1"} 1\n'],
  ["unterminated label", '# TYPE a counter\na{x="1} 1\n'],
  ["bad escape", '# TYPE a counter\na{x="\\t"} 1\n'],
  ["missing value", "# TYPE a counter\na\n"],
  ["bad timestamp", "# TYPE a counter\na 1 soon\n"],
  ["bucket without le", "# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n"],
  ["no +Inf", '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
  [
    "decreasing buckets",
    '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n',
  ],
  ["+Inf != count", '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
  ["no _sum", '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 2\n'],
  ["bare histogram sample", "# TYPE h histogram\nh 1\n"],
];

Deno.test("exposition parser refuses malformed input", async (t) => {
  for (const [what, text] of BAD) {
    await t.step(what, () => {
      assert.throws(() => parseExposition(text), ExpoError);
    });
  }
});

Deno.test("the node's registry renders an exposition the parser accepts whole", () => {
  const m = createNodeMetrics();
  m.httpRequests.inc({ route: "/v1/kv/:key{.+}", method: "PUT", code: "200" });
  m.httpRequests.inc({ route: 'odd "route"\\\n', method: "GET", code: "404" });
  for (const v of [0, 0.0004, 0.003, 0.2, 7, 11, NaN]) {
    m.httpLatency.observe(v, { route: "/x" });
  }
  m.batchSize.observe(3);
  m.term.set(Infinity);
  const e = parseExposition(m.registry.render());
  assert.equal(e.get("raftkv_http_latency_seconds"), undefined);
  assert.equal(e.get("raftkv_http_request_duration_seconds")!.type, "histogram");
  assert.equal(
    sampleValue(e, "raftkv_http_requests_total", {
      route: 'odd "route"\\\n',
      method: "GET",
      code: "404",
    }),
    1,
  );
  const le = (b: number) =>
    sampleValue(e, "raftkv_http_request_duration_seconds_bucket", { route: "/x", le: String(b) });
  assert.equal(le(LATENCY_BUCKETS[0]!), 2);
  assert.equal(le(0.005), 3);
  assert.equal(le(10), 5);
  assert.equal(sampleValue(e, "raftkv_http_request_duration_seconds_count", { route: "/x" }), 7);
  assert.equal(sampleValue(e, "raftkv_raft_term"), Infinity);
  // Series made to exist at zero before their first event.
  assert.equal(sampleValue(e, "raftkv_snapshots_sent_total"), 0);
  assert.equal(sampleValue(e, "raftkv_proposals_total", { outcome: "timeout" }), 0);
  assert.equal(sampleValue(e, "raftkv_denokv_commits_total", { engine: "data" }), 0);
  for (const f of e.values()) {
    assert.ok(f.help && f.type, `${f.name} has HELP and TYPE`);
  }
});

Deno.test("an empty registry renders a valid, empty exposition", () => {
  assert.equal(parseExposition(new Registry().render()).size, 0);
});
