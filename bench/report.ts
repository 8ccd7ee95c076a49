// Markdown for stdout and BENCHMARKS.md: one row per (scenario, system,
// round), a ratio table RaftKV/etcd from the same run (the median of the
// rounds' ratios, each round's in brackets), and the memory table.

import type { Row } from "./measure.ts";
import type { Memory } from "./procfs.ts";

const dash = "–";

function num(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return dash;
  return v.toLocaleString("en-US", { maximumFractionDigits: digits });
}

export function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join(
    "\n",
  );
}

function errorCell(r: Row): string {
  const l = r.load;
  if (!l) return dash;
  const codes = Object.entries(l.errorsByStatus).map(([k, n]) => `${k}×${n}`);
  return codes.length ? `${l.errors} (${codes.join(", ")})` : "0";
}

export function resultsTable(rows: Row[]): string {
  const rounds = rows.some((r) => r.round > 1);
  const head = [
    "scenario",
    ...(rounds ? ["round"] : []),
    "system",
    "ops",
    "errors",
    "ops/s",
    "p50 ms",
    "p99 ms",
    "p99.9 ms",
    "node CPU % (each)",
    "CPU µs/op",
    "loadgen CPU %",
    "batch sizes",
  ];
  const body = rows.filter((r) => r.load).map((r) => {
    const l = r.load!;
    return [
      r.scenario.name,
      ...(rounds ? [String(r.round)] : []),
      r.system,
      num(l.ops, 0),
      errorCell(r),
      num(l.throughput, 0),
      num(l.p50Ms, 2),
      num(l.p99Ms, 2),
      num(l.p999Ms, 2),
      r.nodeCpu.map((c) => num(c, 0)).join(" / "),
      num(r.cpuUsPerOp, 0),
      num(r.loadCpu, 0),
      r.batch || dash,
    ];
  });
  return table(head, body);
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * RaftKV/etcd per scenario: ops/s above 1 and latency below 1 favour RaftKV.
 * A ratio is taken within a round (the two systems back to back); with
 * several rounds the cell is their median, then each round's in brackets.
 */
export function ratioTable(rows: Row[]): string {
  const names = [...new Set(rows.map((r) => r.scenario.name))];
  const metrics: ((r: Row) => number | null | undefined)[] = [
    (r) => r.load?.throughput,
    (r) => r.load?.p50Ms,
    (r) => r.load?.p99Ms,
    (r) => r.cpuUsPerOp,
  ];
  const body = names.flatMap((n) => {
    const pairs = [...new Set(rows.map((r) => r.round))].flatMap((round) => {
      const of = (sys: string) =>
        rows.find((r) => r.scenario.name === n && r.round === round && r.system === sys && r.load);
      const [k, e] = [of("raftkv"), of("etcd")];
      return k && e ? [[k, e] as const] : [];
    });
    if (pairs.length === 0) return [];
    return [[n, ...metrics.map((f) => ratioCell(pairs.map(([k, e]) => ratio(f(k), f(e)))))]];
  });
  return table(["scenario", "ops/s", "p50", "p99", "CPU µs/op"], body);
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a === null || a === undefined || !b ? null : a / b;
}

function ratioCell(rs: (number | null)[]): string {
  const known = rs.filter((r): r is number => r !== null && Number.isFinite(r));
  if (known.length === 0) return dash;
  if (rs.length === 1) return num(known[0], 2);
  return `${num(median(known), 2)} (${rs.map((r) => num(r, 2)).join(" / ")})`;
}

function mib(m: Memory[], f: keyof Memory): string {
  return m.map((x) => num(x[f] === null ? null : x[f] / 1024, 0)).join(" / ");
}

export function memoryTable(rows: Row[]): string {
  const body = rows.filter((r) => r.scenario.memory && r.load).map((r) => [
    r.system,
    num(r.load?.ops, 0),
    num(r.load?.throughput, 0),
    mib(r.rssBefore, "rssKiB"),
    mib(r.rssAfter, "rssKiB"),
    mib(r.rssAfter, "hwmKiB"),
  ]);
  const head = [
    "system",
    "writes",
    "ops/s",
    "RSS before MiB",
    "RSS after MiB",
    "peak RSS MiB",
  ];
  return table(head, body);
}

export interface Header {
  command: string;
  machine: string;
  versions: string;
  date: string;
}

export function report(h: Header, rows: Row[]): string {
  const titles = [
    ...new Map(rows.map((r) => [r.scenario.name, r.scenario.title])),
  ]
    .map(([n, t]) => `- \`${n}\`: ${t}`);
  // The first line says what failed, the last one (a log tail) usually why.
  const failures = rows.filter((r) => r.error).map((r) => {
    const lines = (r.error ?? "").trim().split("\n");
    const why = lines.length > 1 ? ` … ${lines[lines.length - 1]}` : "";
    return `- ${r.scenario.name} / ${r.system}: ${lines[0]}${why}`;
  });
  const parts = [
    `Run ${h.date} on ${h.machine}; ${h.versions}.`,
    "```\n" + h.command + "\n```",
    titles.join("\n"),
    resultsTable(rows),
  ];
  if (new Set(rows.filter((r) => r.load).map((r) => r.system)).size > 1) {
    parts.push(
      "RaftKV/etcd ratios (ops/s above 1 and latency or CPU below 1 favour RaftKV):",
      ratioTable(rows),
    );
  }
  if (rows.some((r) => r.scenario.memory)) {
    parts.push("Memory (MiB per node, in member order):", memoryTable(rows));
  }
  if (failures.length) parts.push("Failed:", failures.join("\n"));
  return parts.join("\n\n") + "\n";
}
