/**
 * A strict parser for the Prometheus text exposition format (0.0.4), for
 * tests: every line must parse, every sample must belong to a family
 * declared by `# TYPE` before it, no series twice, and histograms must be
 * whole (`_bucket` with `le` up to `+Inf`, cumulative counts that never
 * go down, `+Inf` equal to `_count`, a `_sum`). The first problem throws an
 * {@link ExpoError} naming the line.
 * @module
 */

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly line: number;
}

export interface Family {
  readonly name: string;
  help: string | undefined;
  type: MetricType | undefined;
  readonly samples: Sample[];
}

/** Families by name, in the order they appeared. */
export type Exposition = Map<string, Family>;

export class ExpoError extends Error {
  override name = "ExpoError";
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses a whole exposition; throws on the first malformed line or family. */
export function parseExposition(text: string): Exposition {
  if (text !== "" && !text.endsWith("\n")) throw new ExpoError(0, "no final line feed");
  const out: Exposition = new Map();
  const seen = new Set<string>();
  text.split("\n").forEach((raw, i) => {
    const n = i + 1;
    if (raw.trim() === "") return;
    if (raw.startsWith("#")) return parseComment(raw, n, out);
    const s = parseSample(raw, n);
    const fam = familyOf(s, out);
    const id = seriesId(s.name, s.labels);
    if (seen.has(id)) throw new ExpoError(n, `series ${id} appears twice`);
    seen.add(id);
    fam.samples.push(s);
  });
  for (const fam of out.values()) {
    if (fam.type === "histogram") checkHistogram(fam);
  }
  return out;
}

function family(out: Exposition, name: string): Family {
  let f = out.get(name);
  if (!f) out.set(name, f = { name, help: undefined, type: undefined, samples: [] });
  return f;
}

function parseComment(raw: string, n: number, out: Exposition): void {
  const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
  if (!m) return; // a plain comment
  const [, kind, name = "", rest = ""] = m;
  if (!NAME.test(name) || NAME.exec(name)![0] !== name) {
    throw new ExpoError(n, `bad metric name "${name}"`);
  }
  const f = family(out, name);
  if (kind === "HELP") {
    if (f.help !== undefined) throw new ExpoError(n, `second HELP for ${name}`);
    f.help = unescape(rest, n, false);
    return;
  }
  if (f.type !== undefined) throw new ExpoError(n, `second TYPE for ${name}`);
  if (f.samples.length > 0) throw new ExpoError(n, `TYPE for ${name} after its samples`);
  if (!TYPES.has(rest)) throw new ExpoError(n, `unknown type "${rest}"`);
  f.type = rest as MetricType;
}

/** `name{labels} value [timestamp]`. */
export function parseSample(raw: string, n = 0): Sample {
  const name = NAME.exec(raw)?.[0];
  if (!name) throw new ExpoError(n, `no metric name in "${raw}"`);
  let rest = raw.slice(name.length);
  let labels: Record<string, string> = {};
  if (rest.startsWith("{")) [labels, rest] = parseLabels(rest, n);
  const parts = rest.trim().split(/\s+/);
  if (!/^\s/.test(rest) || parts.length < 1 || parts.length > 2) {
    throw new ExpoError(n, `expected "value [timestamp]" after ${name}`);
  }
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) {
    throw new ExpoError(n, `bad timestamp "${parts[1]}"`);
  }
  return { name, labels, value: parseValue(parts[0]!, n), line: n };
}

/** Parses `{a="x",b="y"}` at the start of `s`; returns the labels and the rest. */
function parseLabels(s: string, n: number): [Record<string, string>, string] {
  const labels: Record<string, string> = {};
  let i = 1;
  while (s[i] !== "}") {
    const key = LABEL.exec(s.slice(i))?.[0];
    if (!key) throw new ExpoError(n, `bad label name at "${s.slice(i)}"`);
    if (key in labels) throw new ExpoError(n, `label ${key} twice`);
    i += key.length;
    if (s[i] !== "=" || s[i + 1] !== '"') throw new ExpoError(n, `expected ="…" after ${key}`);
    i += 2;
    let end = i;
    while (end < s.length && s[end] !== '"') end += s[end] === "\\" ? 2 : 1;
    if (end >= s.length) throw new ExpoError(n, `unterminated value of ${key}`);
    labels[key] = unescape(s.slice(i, end), n, true);
    i = end + 1;
    if (s[i] === ",") i++;
    else if (s[i] !== "}") throw new ExpoError(n, `expected , or } after ${key}`);
  }
  return [labels, s.slice(i + 1)];
}

/** Label values escape `\\`, `\"` and `\n`; HELP text only `\\` and `\n`. */
function unescape(s: string, n: number, quotes: boolean): string {
  return s.replace(/\\(.)/g, (_, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    if (c === '"' && quotes) return '"';
    throw new ExpoError(n, `bad escape \\${c}`);
  });
}

export function parseValue(s: string, n = 0): number {
  if (s === "+Inf" || s === "Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (s === "NaN") return NaN;
  if (!FLOAT.test(s)) throw new ExpoError(n, `bad value "${s}"`);
  return Number(s);
}

/** The declared family a sample belongs to, checked against its type. */
function familyOf(s: Sample, out: Exposition): Family {
  for (const [suffix, types] of SUFFIXES) {
    if (!s.name.endsWith(suffix)) continue;
    const f = out.get(s.name.slice(0, s.name.length - suffix.length));
    if (f?.type && types.includes(f.type)) {
      if (suffix === "_bucket" && s.labels.le === undefined) {
        throw new ExpoError(s.line, `${s.name} without le`);
      }
      return f;
    }
  }
  const f = out.get(s.name);
  if (!f?.type) throw new ExpoError(s.line, `sample ${s.name} without a TYPE before it`);
  if (f.type === "histogram" || f.type === "summary") {
    throw new ExpoError(s.line, `bare sample ${s.name} in a ${f.type}`);
  }
  return f;
}

const SUFFIXES: readonly (readonly [string, readonly MetricType[]])[] = [
  ["_bucket", ["histogram"]],
  ["_sum", ["histogram", "summary"]],
  ["_count", ["histogram", "summary"]],
];

/** A series' identity: its name and sorted labels. */
export function seriesId(name: string, labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort();
  return `${name}{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(",")}}`;
}

function withoutLe(labels: Readonly<Record<string, string>>): Record<string, string> {
  const { le: _, ...rest } = labels;
  return rest;
}

function checkHistogram(f: Family): void {
  const groups = new Map<
    string,
    { buckets: [number, number, number][]; sum?: number; count?: number }
  >();
  for (const s of f.samples) {
    const id = seriesId("", withoutLe(s.labels));
    let g = groups.get(id);
    if (!g) groups.set(id, g = { buckets: [] });
    if (s.name.endsWith("_bucket")) {
      g.buckets.push([parseValue(s.labels.le!, s.line), s.value, s.line]);
    } else if (s.name.endsWith("_sum")) g.sum = s.value;
    else g.count = s.value;
  }
  for (const [id, g] of groups) checkGroup(f.name + id, g.buckets, g.sum, g.count);
}

function checkGroup(
  id: string,
  buckets: [number, number, number][],
  sum: number | undefined,
  count: number | undefined,
): void {
  const line = buckets[0]?.[2] ?? 0;
  if (sum === undefined || count === undefined) throw new ExpoError(line, `${id}: no _sum/_count`);
  buckets.sort((a, b) => a[0] - b[0]);
  const inf = buckets[buckets.length - 1];
  if (!inf || inf[0] !== Infinity) throw new ExpoError(line, `${id}: no le="+Inf" bucket`);
  if (inf[1] !== count) throw new ExpoError(inf[2], `${id}: +Inf ${inf[1]} != _count ${count}`);
  for (let i = 0; i < buckets.length; i++) {
    const [le, v, at] = buckets[i]!;
    if (!Number.isInteger(v) || v < 0) throw new ExpoError(at, `${id}: bucket count ${v}`);
    if (i > 0 && le === buckets[i - 1]![0]) throw new ExpoError(at, `${id}: le=${le} twice`);
    if (i > 0 && v < buckets[i - 1]![1]) {
      throw new ExpoError(at, `${id}: bucket le=${le} (${v}) below the one before`);
    }
  }
}

/** The sample `name` whose labels are exactly `labels`, or undefined. */
export function sampleValue(
  expo: Exposition,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const id = seriesId(name, labels);
  for (const f of expo.values()) {
    for (const s of f.samples) if (seriesId(s.name, s.labels) === id) return s.value;
  }
  return undefined;
}

/** Sum of the samples `name` whose labels include every pair in `match`. */
export function sumSamples(
  expo: Exposition,
  name: string,
  match: Readonly<Record<string, string>> = {},
): number {
  let total = 0;
  for (const f of expo.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
    }
  }
  return total;
}
