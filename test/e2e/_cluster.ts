/**
 * Real `main.ts` processes on loopback for end-to-end tests: free ports,
 * temp data dirs, polling with deadlines (never sleeps as synchronization),
 * SIGKILL/restart, and a cleanup that always runs.
 * @module
 */
import { NODE_RUN_FLAGS } from "../../tools/node_flags.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
/** The flags `deno task start` runs a node with. */
export const PERMS = NODE_RUN_FLAGS;

/** A port free a moment ago on `hostname` (0.0.0.0: on every address). */
export function freePort(hostname = "127.0.0.1"): number {
  const l = Deno.listen({ hostname, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Polls `fn` until it returns a non-undefined value or the deadline passes. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  while (performance.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

export interface NodeSpec {
  readonly id: string;
  /** The address it binds. @default "127.0.0.1" */
  readonly host?: string;
  readonly port: number;
  readonly dataDir: string;
}

export class TestNode {
  proc: Deno.ChildProcess | null = null;
  output = "";
  constructor(
    readonly spec: NodeSpec,
    readonly args: string[],
    readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://${this.spec.host ?? "127.0.0.1"}:${this.spec.port}`;
  }

  start(): void {
    this.output = "";
    this.proc = new Deno.Command(Deno.execPath(), {
      args: ["run", ...PERMS, MAIN, ...this.args],
      env: this.env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    void this.#collect(this.proc.stdout);
    void this.#collect(this.proc.stderr);
  }

  async #collect(s: ReadableStream<Uint8Array>): Promise<void> {
    try {
      for await (const c of s.pipeThrough(new TextDecoderStream())) {
        this.output = (this.output + c).slice(-20_000);
      }
    } catch { /* process gone */ }
  }

  async kill(signal: Deno.Signal = "SIGKILL"): Promise<Deno.CommandStatus | null> {
    const p = this.proc;
    if (!p) return null;
    this.proc = null;
    try {
      if (signal === "SIGKILL") p.kill("SIGCONT");
      p.kill(signal);
    } catch { /* already exited */ }
    return await p.status;
  }

  signal(sig: Deno.Signal): void {
    this.proc?.kill(sig);
  }
}

export interface ClusterOptions {
  readonly size: number;
  /**
   * One loopback address per node, all on ONE port: a node that bound more
   * than its own address would clash with the others (as nodes in separate
   * network namespaces, each with its own address, would not notice).
   */
  readonly hosts?: readonly string[];
  readonly extraArgs?: string[];
  readonly env?: Record<string, string>;
}

export class TestCluster {
  readonly nodes: TestNode[];
  constructor(readonly root: string, opts: ClusterOptions) {
    const shared = opts.hosts ? freePort("0.0.0.0") : 0;
    const specs = Array.from({ length: opts.size }, (_, i) => ({
      id: `n${i + 1}`,
      host: opts.hosts?.[i] ?? "127.0.0.1",
      port: shared || freePort(),
      dataDir: `${root}/n${i + 1}`,
    }));
    const peers = specs.map((s) => `${s.id}=http://${s.host}:${s.port}`).join(",");
    this.nodes = specs.map((s) =>
      new TestNode(s, [
        "--id",
        s.id,
        "--listen",
        `${s.host}:${s.port}`,
        "--peers",
        peers,
        "--data-dir",
        s.dataDir,
        "--tick-ms",
        "50",
        ...(opts.extraArgs ?? []),
      ], opts.env ?? {})
    );
  }

  static async start(opts: ClusterOptions): Promise<TestCluster> {
    const root = await Deno.makeTempDir({ prefix: "raftkv-e2e-" });
    const c = new TestCluster(root, opts);
    for (const n of c.nodes) n.start();
    await c.waitLeader();
    return c;
  }

  node(id: string): TestNode {
    return this.nodes.find((n) => n.spec.id === id)!;
  }

  /** The leader id every live node agrees on. */
  waitLeader(timeoutMs = 20_000): Promise<string> {
    return until("a leader", async () => {
      const live = this.nodes.filter((n) => n.proc);
      const leaders = await Promise.all(live.map(async (n) => {
        const res = await fetch(`${n.url}/v1/cluster`);
        const body = await res.json();
        return body.self.state === "leader" ? body.self.id : body.leader;
      }));
      const first = leaders[0];
      return first && leaders.every((l) => l === first) ? first as string : undefined;
    }, timeoutMs);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }

  describe(): string {
    return this.nodes.map((n) => `--- ${n.spec.id}\n${n.output.slice(-3000)}`).join("\n");
  }
}

/**
 * Runs `fn` against a fresh cluster; on failure prints the nodes' last log
 * lines; always stops the processes and removes the data.
 */
export async function withCluster(
  opts: ClusterOptions,
  fn: (c: TestCluster) => Promise<void>,
): Promise<void> {
  const c = await TestCluster.start(opts);
  try {
    await fn(c);
  } catch (e) {
    console.error(c.describe());
    throw e;
  } finally {
    await c.stop();
  }
}

export async function put(
  url: string,
  key: string,
  value: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${url}/v1/kv/${encodeURIComponent(key)}`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ value }),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

export async function get(url: string, key: string, consistency = "linearizable") {
  const res = await fetch(`${url}/v1/kv/${encodeURIComponent(key)}?consistency=${consistency}`);
  return { status: res.status, headers: res.headers, body: await res.json() };
}
