/**
 * Command line + environment -> a validated node configuration (API.md §1).
 * Every flag `--some-flag` also reads `RAFTKV_SOME_FLAG`; flags win. All
 * checks run here, before the node opens or writes anything.
 * @module
 */
import { z } from "zod";

/** A flag or variable is unknown, malformed or inconsistent with another. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Log verbosity, most verbose first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** A member of the initial cluster (`--peers`). */
export interface PeerConfig {
  readonly id: string;
  /** Origin only (`http://h:p`), no trailing slash. */
  readonly url: string;
}

/**
 * The validated configuration of one node. Defaults and meanings are in
 * {@link helpText}; limits are in bytes, durations in ms or ticks.
 */
export interface Config {
  /** `--help` / `-h` was given: print {@link helpText} and exit 0. */
  readonly help: boolean;
  readonly id: string;
  /** Where `Deno.serve` listens; `hostname` carries no IPv6 brackets. */
  readonly listen: { readonly hostname: string; readonly port: number };
  /** Origin peers reach us at: `--advertise`, else our `--peers` URL. */
  readonly advertise: string;
  /** The initial cluster, self included. */
  readonly peers: readonly PeerConfig[];
  readonly dataDir: string;
  /** Shared peer secret; null = peer routes are open. */
  readonly clusterToken: string | null;
  readonly tickMs: number;
  readonly electionTicks: number;
  /** Invariant: heartbeatTicks < electionTicks. */
  readonly heartbeatTicks: number;
  readonly snapshotEntries: number;
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  readonly maxTxnOps: number;
  /** Live keys and values past which writes are refused (507); 0: no quota. */
  readonly quotaBytes: number;
  /** Invariant: maxBodyBytes >= maxValueBytes. */
  readonly maxBodyBytes: number;
  readonly requestTimeoutMs: number;
  /** Invariant: 0 <= leaseDriftMs < electionTicks * tickMs. */
  readonly leaseDriftMs: number;
  readonly logLevel: LogLevel;
  readonly enableFailpoints: boolean;
}

type Key = Exclude<keyof Config, "help">;

/** One flag: metavar, static default (validated like input), help. */
interface FlagSpec {
  readonly arg: string;
  readonly value?: string;
  /** The default as `--help` shows it (computed ones are described). */
  readonly def?: string;
  readonly help: string;
}

const n = (value: string, help: string): FlagSpec => ({ arg: "n", value, help });

const SPECS: Readonly<Record<Key, FlagSpec>> = {
  id: { arg: "id", value: "n1", help: "this node's id: [a-z0-9-]{1,32}" },
  listen: { arg: "host:port", value: "127.0.0.1:8080", help: "API address" },
  advertise: { arg: "url", def: "http://<listen>", help: "URL peers use" },
  peers: { arg: "id=url,...", def: "this node alone", help: "initial cluster, self included" },
  dataDir: { arg: "dir", def: "./data/<id>", help: "Deno KV files" },
  clusterToken: { arg: "secret", def: "none", help: "peer RPC secret" },
  tickMs: n("100", "Raft tick length in ms"),
  electionTicks: n("10", "election timeout in ticks"),
  heartbeatTicks: n("1", "heartbeat interval in ticks"),
  snapshotEntries: n("10000", "applied entries between compactions"),
  maxKeyBytes: n("1024", "max key size in UTF-8 bytes"),
  maxValueBytes: n("1048576", "max serialized value size"),
  maxTxnOps: n("128", "max ops per txn branch"),
  quotaBytes: n("2147483648", "live keys and values past which writes are 507 (0: none)"),
  maxBodyBytes: { arg: "n", def: "value + 65536", help: "max body size" },
  requestTimeoutMs: n("5000", "deadline of a read or write"),
  leaseDriftMs: { arg: "n", def: "20% of election timeout", help: "lease clock drift bound" },
  logLevel: { arg: "level", value: "info", help: "debug|info|warn|error" },
  enableFailpoints: { arg: "", value: "false", help: "serve /debug/failpoints" },
};

const KEYS = Object.keys(SPECS) as Key[];
const flagName = (k: Key) => k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
const envName = (k: Key) => "RAFTKV_" + flagName(k).replaceAll("-", "_").toUpperCase();
const BY_FLAG = new Map(KEYS.map((k) => [flagName(k), k]));

const ID_RE = /^[a-z0-9-]{1,32}$/;

function int(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z.string().regex(/^\d{1,16}$/, "must be a whole number").transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

/**
 * A peer-reachable origin: http(s), host, optional port, nothing else;
 * normalised to `URL.origin`. Also checks member URLs at the API.
 */
export const peerUrl = z.string().transform((s, ctx) => {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    ctx.addIssue({ code: "custom", message: "must be a URL like http://h:p" });
    return z.NEVER;
  }
  const plain = u.pathname === "/" && !u.search && !u.hash && !u.username &&
    !u.password && !s.endsWith("?") && !s.endsWith("#");
  if ((u.protocol !== "http:" && u.protocol !== "https:") || !plain) {
    ctx.addIssue({
      code: "custom",
      message: "must be an http(s) URL without path, query or credentials",
    });
    return z.NEVER;
  }
  return u.origin;
});

/**
 * `host:port` or `[v6]:port`; the host must already be in URL form. A bare
 * `:port` is every IPv4 address, as Go and Node servers read it.
 */
const listen = z.string().transform((s, ctx) => {
  const m = /^(.+):(\d{1,5})$/.exec(s.startsWith(":") ? `0.0.0.0${s}` : s);
  const port = Number(m?.[2]);
  const hostname = m ? urlHostname(m[1]!) : null;
  if (hostname === null || port < 1 || port > 65535) {
    ctx.addIssue({
      code: "custom",
      message: "must be host:port (IPv4, hostname or [IPv6]), port 1-65535",
    });
    return z.NEVER;
  }
  return { hostname: hostname.replace(/^\[(.*)\]$/, "$1"), port };
});

/** The host as a URL parser sees it, or null if it would be rewritten. */
function urlHostname(host: string): string | null {
  try {
    const { hostname } = new URL(`http://${host}/`);
    return hostname === host.toLowerCase() ? hostname : null;
  } catch {
    return null;
  }
}

const peers = z.string().transform((s, ctx) => {
  const out: PeerConfig[] = [];
  for (const part of s.split(",").map((p) => p.trim())) {
    const eq = part.indexOf("=");
    const id = part.slice(0, eq);
    const url = peerUrl.safeParse(part.slice(eq + 1));
    const problem = eq < 0
      ? "expected id=url"
      : !ID_RE.test(id)
      ? "id must match [a-z0-9-]{1,32}"
      : !url.success
      ? url.error.issues[0]!.message
      : out.some((p) => p.id === id)
      ? "id given twice"
      : out.some((p) => p.url === url.data)
      ? "URL given twice"
      : null;
    if (problem || !url.success) {
      ctx.addIssue({ code: "custom", message: `"${part}": ${problem}` });
      return z.NEVER;
    }
    out.push({ id, url: url.data });
  }
  return out;
});

const bool = z.enum(["true", "false", "1", "0"], {
  errorMap: () => ({ message: "must be true, false, 1 or 0" }),
}).transform((v) => v === "true" || v === "1");

const MIB = 1024 * 1024;

const Schema = z.object({
  id: z.string().regex(ID_RE, "must match [a-z0-9-]{1,32}"),
  listen,
  advertise: peerUrl.optional(),
  peers: peers.optional(),
  dataDir: z.string().min(1, "must not be empty").optional(),
  clusterToken: z.string()
    .regex(/^[\x21-\x7e]+$/, "must be non-empty printable ASCII, no spaces")
    .optional(),
  tickMs: int(1, 60_000),
  electionTicks: int(2, 100_000),
  heartbeatTicks: int(1, 100_000),
  snapshotEntries: int(1),
  // A Deno KV key is at most 2 KiB, and the key space prefix needs room.
  maxKeyBytes: int(1, 1536),
  maxValueBytes: int(1, 64 * MIB),
  maxTxnOps: int(1, 10_000),
  quotaBytes: int(0),
  maxBodyBytes: int(1, 128 * MIB).optional(),
  requestTimeoutMs: int(1, 3_600_000),
  leaseDriftMs: int(0).optional(),
  logLevel: z.enum(["debug", "info", "warn", "error"], {
    errorMap: () => ({ message: "must be debug, info, warn or error" }),
  }),
  enableFailpoints: bool,
});
type Parsed = z.infer<typeof Schema>;

const ELECTION = "the election timeout (--election-ticks x --tick-ms)";

/** Rules that span several flags; each issue names the flag it blames. */
function crossCheck(p: Parsed): [Key, string][] {
  const issues: [Key, string][] = [];
  const issue = (key: Key, message: string) => issues.push([key, message]);
  if (p.heartbeatTicks >= p.electionTicks) {
    issue("heartbeatTicks", `must be less than --election-ticks (${p.electionTicks})`);
  }
  const electionMs = p.electionTicks * p.tickMs;
  if (p.leaseDriftMs !== undefined && p.leaseDriftMs >= electionMs) {
    issue("leaseDriftMs", `must be less than ${ELECTION}: ${electionMs} ms`);
  }
  if (p.maxBodyBytes !== undefined && p.maxBodyBytes < p.maxValueBytes) {
    issue("maxBodyBytes", `must be at least --max-value-bytes (${p.maxValueBytes})`);
  }
  if (p.peers && !p.peers.some((x) => x.id === p.id)) {
    issue("peers", `must include this node's id "${p.id}"`);
  }
  const self = p.peers?.find((x) => x.id === p.id);
  const bare = (url: string) => url.replace(/\/+$/, "");
  if (p.advertise && self && bare(p.advertise) !== bare(self.url)) {
    issue("advertise", `must be this node's URL in --peers (${self.url}), or left out`);
  }
  return issues;
}

interface Collected {
  readonly values: Partial<Record<Key, string>>;
  /** Where each value came from, for error messages: flag or variable. */
  readonly sources: Partial<Record<Key, string>>;
}

function readArgs(args: readonly string[]): Map<Key, string> {
  const given = new Map<Key, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("--")) {
      throw new ConfigError(`Unexpected argument "${a}"; see --help`);
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const key = BY_FLAG.get(name);
    if (!key) throw new ConfigError(`Unknown flag "--${name}"; see --help`);
    if (given.has(key)) throw new ConfigError(`Flag --${name} given twice`);
    let value = eq < 0 ? undefined : a.slice(eq + 1);
    if (value === undefined && !SPECS[key].arg) value = "true"; // a switch
    if (value === undefined) {
      value = args[++i];
      if (value === undefined || value.startsWith("--")) {
        throw new ConfigError(`Flag --${name} needs a value`);
      }
    }
    given.set(key, value);
  }
  return given;
}

function collect(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Collected {
  const given = readArgs(args);
  checkVariables(env);
  const values: Partial<Record<Key, string>> = {};
  const sources: Partial<Record<Key, string>> = {};
  for (const key of KEYS) {
    const fromEnv = env[envName(key)];
    if (given.has(key)) {
      values[key] = given.get(key)!;
      sources[key] = `--${flagName(key)}`;
    } else if (fromEnv !== undefined && fromEnv !== "") {
      // An empty variable counts as unset, as compose files often leave them.
      values[key] = fromEnv;
      sources[key] = envName(key);
    } else if (SPECS[key].value !== undefined) {
      values[key] = SPECS[key].value;
    }
  }
  return { values, sources };
}

/**
 * A misspelt variable would be ignored without a word, and RAFTKV_DATADIR
 * would put the data in ./data/<id>: refused like an unknown flag.
 */
function checkVariables(env: Readonly<Record<string, string | undefined>>): void {
  const known = new Set(KEYS.map(envName));
  for (const name of Object.keys(env)) {
    if (!name.startsWith("RAFTKV_") || known.has(name) || !env[name]) continue;
    const squash = (n: string) => n.replaceAll("_", "");
    const near = [...known].find((k) => squash(k) === squash(name));
    const hint = near ? `; did you mean ${near}?` : "";
    throw new ConfigError(`Unknown variable ${name}${hint} (see --help for the RAFTKV_* names)`);
  }
}

function describe(
  issues: readonly [Key, string][],
  sources: Collected["sources"],
): string {
  const lines = issues.map(([key, message]) =>
    `  ${sources[key] ?? `--${flagName(key)}`}: ${message}`
  );
  return `Invalid configuration:\n${lines.join("\n")}`;
}

/** What parseConfig may ask of the machine (only when it needs it). */
export interface ConfigHost {
  /** This machine's name: the advertised host when listening on every address. */
  hostname?: () => string | undefined;
}

function derive(p: Parsed, machine: ConfigHost): Config {
  const { hostname, port } = p.listen;
  // Listening on every address, `http://0.0.0.0:…` would be no URL for a
  // peer to dial: the machine's name is (a container's name in its network).
  const any = hostname === "0.0.0.0" || hostname === "::";
  const name = any && !p.advertise && !p.peers ? machine.hostname?.() : undefined;
  const host = name ?? (hostname.includes(":") ? `[${hostname}]` : hostname);
  const self = p.peers?.find((x) => x.id === p.id);
  const advertise = p.advertise ?? self?.url ?? `http://${host}:${port}`;
  return {
    ...p,
    help: false,
    advertise,
    peers: p.peers ?? [{ id: p.id, url: advertise }],
    dataDir: p.dataDir ?? `./data/${p.id}`,
    clusterToken: p.clusterToken ?? null,
    maxBodyBytes: p.maxBodyBytes ?? p.maxValueBytes + 64 * 1024,
    leaseDriftMs: p.leaseDriftMs ?? Math.floor(p.electionTicks * p.tickMs / 5),
  };
}

/**
 * Parses flags (`--name value` or `--name=value`) and `RAFTKV_*` variables
 * into a validated {@link Config}; flags win over variables.
 * @throws {ConfigError} naming the offending flag or variable.
 */
export function parseConfig(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  machine: ConfigHost = {},
): Config {
  if (args.some((a) => a === "--help" || a === "-h")) {
    return { ...parseConfig([], {}), help: true };
  }
  const { values, sources } = collect(args, env);
  const parsed = Schema.safeParse(values);
  const issues: [Key, string][] = parsed.success
    ? crossCheck(parsed.data)
    : parsed.error.issues.map((i) => [i.path[0] as Key, i.message]);
  if (!parsed.success || issues.length > 0) {
    throw new ConfigError(describe(issues, sources));
  }
  return derive(parsed.data, machine);
}

/** The `--help` text: every flag, its variable, default and meaning. */
export function helpText(): string {
  const rows = KEYS.map((k) => {
    const { arg, value, def, help } = SPECS[k];
    const flag = `--${flagName(k)}${arg ? ` <${arg}>` : ""}`;
    return [flag, envName(k), `${help} (default: ${def ?? value})`];
  });
  const w0 = Math.max(...rows.map((r) => r[0]!.length));
  const w1 = Math.max(...rows.map((r) => r[1]!.length));
  const lines = rows.map(([f, e, h]) => `  ${f!.padEnd(w0)}  ${e!.padEnd(w1)}  ${h}`);
  return [
    "Usage: deno task start [flags]",
    "",
    "RaftKV node. Every flag also reads the variable shown; flags win.",
    "",
    ...lines,
    "  -h, --help",
    "",
  ].join("\n");
}
