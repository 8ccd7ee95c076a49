// The harness's pure parts: percentiles, /proc and Prometheus parsing, flags,
// and the ratio table. No processes, no network, no permissions.

import assert from "node:assert/strict";
import { parseAbArgs, summarize } from "./ab.ts";
import { parseSeconds } from "./duration.ts";
import { failed, parseLoadArgs } from "./load.ts";
import { emptyRow, type Row } from "./measure.ts";
import { bucketQuantile, describe, diff, parseHistograms } from "./metrics.ts";
import { cpuPercent, parseStatTicks, parseStatusKiB } from "./procfs.ts";
import { median, ratioTable, resultsTable } from "./report.ts";
import { allScenarios, pickScenarios } from "./scenarios.ts";
import { percentile, Samples } from "./stats.ts";
import { makeValue } from "./targets.ts";

Deno.test("percentiles are nearest-rank over the samples", () => {
  const s = new Samples();
  for (let i = 1000; i >= 1; i--) s.push(i); // grows past its first buffer
  const sum = s.summary();
  assert.equal(sum.p50Ms, 500);
  assert.equal(sum.p99Ms, 990);
  assert.equal(sum.p999Ms, 999);
  assert.equal(sum.maxMs, 1000);
  assert.equal(sum.meanMs, 500.5);
  assert.ok(Number.isNaN(percentile(new Float64Array(), 50)));
});

Deno.test("stat ticks survive a command name with spaces and parens", () => {
  const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
  const stat = `4242 (deno (main) x) ${fields.join(" ")}`;
  // field 14 (utime) and 15 (stime) hold 14 and 15 in this synthetic line
  assert.equal(parseStatTicks(stat), 29);
  assert.equal(cpuPercent(100, 350, 5), 50);
  assert.equal(cpuPercent(null, 350, 5), null);
});

Deno.test("status fields are read in KiB", () => {
  const status = "Name:\tdeno\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
  assert.equal(parseStatusKiB(status, "VmRSS"), 1024);
  assert.equal(parseStatusKiB(status, "VmHWM"), 2048);
  assert.equal(parseStatusKiB(status, "VmSwap"), null);
});

const METRICS_BEFORE = `
# TYPE raftkv_batch_size histogram
raftkv_batch_size_bucket{region="1",le="1"} 2
raftkv_batch_size_bucket{region="1",le="8"} 4
raftkv_batch_size_bucket{region="1",le="64"} 4
raftkv_batch_size_bucket{region="1",le="+Inf"} 4
raftkv_batch_size_sum{region="1"} 10
raftkv_batch_size_count{region="1"} 4
raftkv_requests_total{route="put"} 99
`;

const METRICS_AFTER = METRICS_BEFORE
  .replace('le="1"} 2', 'le="1"} 2').replace('le="8"} 4', 'le="8"} 5')
  .replace('le="64"} 4', 'le="64"} 104').replace('le="+Inf"} 4', 'le="+Inf"} 104')
  .replace('sum{region="1"} 10', 'sum{region="1"} 4010')
  .replace('count{region="1"} 4', 'count{region="1"} 104');

Deno.test("batch histograms are read, diffed and summarised", () => {
  const a = parseHistograms(METRICS_BEFORE);
  assert.deepEqual([...a.keys()], ["raftkv_batch_size"]);
  const d = diff(a, parseHistograms(METRICS_AFTER)).get("raftkv_batch_size");
  assert.ok(d);
  assert.equal(d.count, 100);
  assert.equal(d.sum, 4000);
  assert.equal(bucketQuantile(d, 0.5), 64);
  assert.equal(bucketQuantile(d, 0.01), 8);
  assert.match(describe(new Map([["b", d]])), /b mean 40, p99 ≤64, max ≤64/);
  assert.equal(describe(parseHistograms("up 1\n")), "");
});

Deno.test("durations and load flags", () => {
  assert.equal(parseSeconds("10s"), 10);
  assert.equal(parseSeconds("250ms"), 0.25);
  assert.equal(parseSeconds("2m"), 120);
  assert.equal(parseSeconds("3"), 3);
  assert.throws(() => parseSeconds("soon"), /bad duration/);
  const o = parseLoadArgs(["--urls", "http://a:1/,http://b:2", "--target", "etcd", "--mix", "0.9"]);
  assert.deepEqual(o.urls, ["http://a:1", "http://b:2"]);
  assert.equal(o.target, "etcd");
  assert.equal(o.mix, 0.9);
  assert.equal(o.maxOps, Infinity);
  assert.throws(() => parseLoadArgs(["--urls", "http://a", "--to", "nobody"]), /--to/);
  assert.throws(() => parseLoadArgs(["--urls", "http://a", "--mix", "2"]), /--mix/);
  assert.throws(() => parseLoadArgs([]), /--url/);
});

Deno.test("values have the exact size asked for", () => {
  assert.equal(makeValue(0), "");
  assert.equal(makeValue(100).length, 100);
  assert.equal(new TextEncoder().encode(makeValue(1_048_000)).length, 1_048_000);
});

Deno.test("scenarios are picked by name; unknown names are refused", () => {
  const all = allScenarios({ durationS: 10, warmupS: 5, writes: 1000 });
  assert.deepEqual(pickScenarios(all, "get,put").map((s) => s.name), ["get", "put"]);
  assert.equal(pickScenarios(all, "all").length, all.length);
  assert.throws(() => pickScenarios(all, "nope"), /unknown scenario/);
});

function loadRow(system: "raftkv" | "etcd", throughput: number, p: number, round = 1): Row {
  const [put] = allScenarios({ durationS: 1, warmupS: 0, writes: 1 });
  assert.ok(put);
  return {
    ...emptyRow(put, system, round),
    load: {
      target: system,
      urls: [],
      ops: 1,
      errors: 0,
      errorsByStatus: {},
      misses: 0,
      prefillErrors: 0,
      seconds: 1,
      throughput,
      p50Ms: p,
      p99Ms: p * 2,
      p999Ms: p * 3,
      maxMs: p * 4,
      meanMs: p,
    },
  };
}

Deno.test("ratios are RaftKV over etcd, per scenario present in both", () => {
  const md = ratioTable([loadRow("raftkv", 500, 4), loadRow("etcd", 1000, 2)]);
  assert.match(md, /\| put \| 0\.5 \| 2 \| 2 \| – \|/);
});

Deno.test("with rounds, a ratio is the median of the rounds' ratios", () => {
  const rows = [
    loadRow("raftkv", 1000, 2, 1),
    loadRow("etcd", 1000, 2, 1),
    loadRow("etcd", 1000, 4, 2),
    loadRow("raftkv", 2200, 2, 2),
    loadRow("raftkv", 2000, 1, 3),
    loadRow("etcd", 1000, 4, 3),
    loadRow("raftkv", 9000, 1, 4), // etcd failed in round 4: no ratio
  ];
  const md = ratioTable(rows);
  assert.match(md, /\| put \| 2 \(1 \/ 2\.2 \/ 2\) \| 0\.5 \(1 \/ 0\.5 \/ 0\.25\) \|/);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.match(resultsTable(rows), /\| scenario \| round \| system \|/);
  assert.doesNotMatch(resultsTable(rows.slice(0, 2)), /round/);
});

Deno.test("requests without an answer are named by their cause", () => {
  const refused = new TypeError(
    "error sending request for url (http://127.0.0.1:1/): client error (Connect): tcp connect error: Connection refused (os error 111)",
  );
  assert.deepEqual(failed(refused), {
    status: 0,
    ok: false,
    miss: false,
    cause: "Connection refused",
  });
  assert.equal(failed(new DOMException("signal timed out", "TimeoutError")).cause, "timeout");
});

Deno.test("the A/B runner's flags and summary", () => {
  const o = parseAbArgs(["--a", "/a/main.ts", "--b", "/b/main.ts", "--rounds", "4"]);
  assert.equal(o.rounds, 4);
  assert.equal(o.durationS, 5);
  assert.deepEqual(
    o.load.slice(o.load.indexOf("--concurrency"), o.load.indexOf("--concurrency") + 2),
    [
      "--concurrency",
      "64",
    ],
  );
  assert.throws(() => parseAbArgs(["--a", "/a/main.ts"]), /--a and --b/);
  assert.throws(() => parseAbArgs(["--a", "x", "--b", "y", "--rounds", "1"]), /--rounds/);
  const s = summarize([1, 0.9, 1.1, 1.2]);
  assert.equal(s.median, 1.05);
  assert.ok(Math.abs(s.mean - 1.05) < 1e-9);
  assert.ok(Math.abs(s.sd - 0.1290994) < 1e-6);
});
