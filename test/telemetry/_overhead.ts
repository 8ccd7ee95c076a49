/**
 * Tracing overhead: write throughput of a three-node cluster with Deno's
 * OpenTelemetry off, then on (exporting OTLP/HTTP JSON to a local sink that
 * only drains the bodies), alternating rounds to spread out machine noise.
 *
 *   deno run --unstable-kv -A test/telemetry/_overhead.ts [rounds=2] [seconds=5] [workers=64]
 *
 * @module
 */
import { put, TestCluster, TestNode } from "../e2e/_cluster.ts";

interface Result {
  /** CPU time (user + system) of the three nodes, ms, during the run. */
  readonly cpuMs: number;
  readonly ok: number;
  readonly failed: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p99: number;
}

/** A sink that counts export requests and bytes, and parses nothing. */
function startSink() {
  const seen = { requests: 0, bytes: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    seen.requests++;
    seen.bytes += (await req.arrayBuffer()).byteLength;
    return new Response("{}", { headers: { "content-type": "application/json" } });
  });
  return { seen, server, endpoint: `http://127.0.0.1:${server.addr.port}` };
}

async function cluster(env: Record<string, string> | null): Promise<TestCluster> {
  const root = await Deno.makeTempDir({ prefix: "raftkv-overhead-" });
  const c = new TestCluster(root, { size: 3, extraArgs: ["--election-ticks", "30"] });
  c.nodes.forEach((n, i) => {
    const own = env ? { ...env, OTEL_SERVICE_NAME: `raftkv-${n.spec.id}` } : {};
    c.nodes[i] = new TestNode(n.spec, n.args, own);
  });
  for (const n of c.nodes) n.start();
  await c.waitLeader();
  return c;
}

/** User + system CPU of a process so far, in ms (Linux /proc; clock ticks are 10 ms). */
function cpuMs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function clusterCpu(c: TestCluster): number {
  return c.nodes.reduce((n, node) => n + cpuMs(node.proc!.pid), 0);
}

async function load(url: string, seconds: number, workers: number): Promise<Omit<Result, "cpuMs">> {
  const latencies: number[] = [];
  let failed = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; performance.now() < end; i++) {
      const t0 = performance.now();
      const res = await put(url, `w${w}/${i % 100}`, { i, pad: "x".repeat(64) });
      if (res.status === 200) latencies.push(performance.now() - t0);
      else failed++;
    }
  }));
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return {
    ok: latencies.length,
    failed,
    seconds: (performance.now() - started) / 1000,
    p50: at(0.5),
    p99: at(0.99),
  };
}

async function round(traced: boolean, seconds: number, workers: number) {
  const sink = startSink();
  const env = traced
    ? {
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_DENO_CONSOLE: "ignore",
    }
    : null;
  const c = await cluster(env);
  try {
    const leader = c.node(await c.waitLeader());
    await load(leader.url, 1, workers); // warm-up
    const cpu0 = clusterCpu(c);
    const r = await load(leader.url, seconds, workers);
    const cpuMs = clusterCpu(c) - cpu0;
    return { ...r, cpuMs, exports: sink.seen.requests, exportedMiB: sink.seen.bytes / 2 ** 20 };
  } finally {
    await c.stop();
    await sink.server.shutdown();
  }
}

if (import.meta.main) {
  const [rounds = 2, seconds = 5, workers = 64] = Deno.args.map(Number);
  console.log(
    `${workers} workers, ${seconds}s per run, ${rounds} rounds, ${navigator.hardwareConcurrency} CPUs`,
  );
  for (let i = 0; i < rounds; i++) {
    for (const traced of [false, true]) {
      const r = await round(traced, seconds, workers);
      console.log(
        `${traced ? "tracing on " : "tracing off"}  ${
          (r.ok / r.seconds).toFixed(0).padStart(6)
        } writes/s` +
          `  p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  failed ${r.failed}` +
          `  node CPU ${(r.cpuMs * 1000 / r.ok).toFixed(0)} µs/write` +
          (traced ? `  exported ${r.exportedMiB.toFixed(1)} MiB in ${r.exports} requests` : ""),
      );
    }
  }
}
