/**
 * A cluster of real nodes on loopback for the Jepsen suite: free ports, one
 * temp root for data dirs and logs, readiness and leader polling, failpoint
 * control, and a teardown that always kills everything it started.
 * @module
 */

import { freePort, NodeProc, tail } from "./node_proc.ts";

export interface ClusterOptions {
  readonly nodes: number;
  /** RaftKV's main.ts (or a stand-in), absolute. */
  readonly main: string;
  readonly cwd: string;
  readonly tickMs: number;
  readonly requestTimeoutMs: number;
  /** Applied entries between compactions (low values exercise snapshots). */
  readonly snapshotEntries: number;
  /** Node log level (warn keeps logs small). */
  readonly logLevel?: string;
  /** Extra flags for every node. */
  readonly extraArgs?: readonly string[];
}

export interface JsonAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** GET/PUT/DELETE with a timeout; null on any network error. */
export async function call(
  url: string,
  init: RequestInit & { timeoutMs?: number } = {},
): Promise<JsonAnswer | null> {
  const { timeoutMs = 2000, ...rest } = init;
  try {
    const res = await fetch(url, {
      ...rest,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    return { status: res.status, body };
  } catch {
    return null;
  }
}

/** Clusters not torn down yet, for a Ctrl-C cleanup. */
const live = new Set<Cluster>();

/** Tears down every cluster still up (signal handlers call this). */
export async function teardownAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.teardown()));
}

export class Cluster {
  private constructor(
    readonly root: string,
    readonly nodes: readonly NodeProc[],
  ) {}

  /** Creates the nodes (not started yet) under a fresh temp root. */
  static async create(o: ClusterOptions): Promise<Cluster> {
    const root = await Deno.makeTempDir({ prefix: "raftkv-jepsen-" });
    const specs = Array.from({ length: o.nodes }, (_, i) => {
      const id = `n${i + 1}`;
      const port = freePort();
      const url = `http://127.0.0.1:${port}`;
      const dataDir = `${root}/${id}`;
      return { id, port, url, dataDir, logFile: `${root}/${id}.log` };
    });
    const peers = specs.map((s) => `${s.id}=${s.url}`).join(",");
    const nodes = specs.map((s) => {
      const args = [
        ...["--id", s.id, "--listen", `127.0.0.1:${s.port}`],
        ...["--peers", peers, "--data-dir", s.dataDir],
        "--enable-failpoints",
        ...["--tick-ms", String(o.tickMs)],
        ...["--request-timeout-ms", String(o.requestTimeoutMs)],
        ...["--snapshot-entries", String(o.snapshotEntries)],
        ...["--log-level", o.logLevel ?? "warn"],
        ...o.extraArgs ?? [],
      ];
      return new NodeProc(s, { main: o.main, cwd: o.cwd, args });
    });
    const c = new Cluster(root, nodes);
    live.add(c);
    return c;
  }

  node(id: string): NodeProc {
    const n = this.nodes.find((n) => n.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  async startAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.running ? null : n.start()));
  }

  /**
   * Polls until every running node answers /readyz 200 and they agree on a
   * leader; throws with the nodes' log tails at the deadline.
   */
  async waitReady(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const leader = await this.#readyLeader();
      if (leader) return leader;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`cluster not ready in ${timeoutMs} ms\n${await this.describe()}`);
  }

  /** Each node's /readyz and /v1/cluster answers and log tail. */
  async describe(): Promise<string> {
    const parts = await Promise.all(this.nodes.map(async (n) => {
      const ready = await call(`${n.url}/readyz`);
      const info = await call(`${n.url}/v1/cluster`);
      const state = n.running ? (n.paused ? "stopped" : "running") : "dead";
      return `--- ${n.id} (${state}) readyz ${ready?.status ?? "no answer"} ` +
        `${JSON.stringify(ready?.body ?? null)}\n/v1/cluster ` +
        `${JSON.stringify(info?.body ?? null)}\n${await tail(n.spec.logFile, 10)}`;
    }));
    return parts.join("\n");
  }

  async #readyLeader(): Promise<string | null> {
    const up = this.nodes.filter((n) => n.running && !n.paused);
    const ready = await Promise.all(up.map((n) => call(`${n.url}/readyz`)));
    if (up.length === 0 || ready.some((r) => r?.status !== 200)) return null;
    const leaders = await Promise.all(up.map((n) => this.leaderSeenBy(n)));
    const first = leaders[0];
    return first && leaders.every((l) => l === first) ? first : null;
  }

  /** The leader a node names in /v1/cluster, or null. */
  async leaderSeenBy(n: NodeProc): Promise<string | null> {
    const r = await call(`${n.url}/v1/cluster`, { timeoutMs: 1000 });
    const leader = (r?.body as { leader?: unknown } | null)?.leader;
    return typeof leader === "string" && leader !== "" ? leader : null;
  }

  /** The node that says it leads (highest term wins), among reachable ones. */
  async currentLeader(): Promise<NodeProc | null> {
    const up = this.nodes.filter((n) => n.running && !n.paused);
    const views = await Promise.all(up.map(async (n) => {
      const r = await call(`${n.url}/v1/cluster`, { timeoutMs: 1000 });
      const b = r?.body as { term?: number; self?: { state?: string } } | null;
      return { n, term: b?.term ?? -1, leads: b?.self?.state === "leader" };
    }));
    const leaders = views.filter((v) => v.leads).sort((a, b) => b.term - a.term);
    return leaders[0]?.n ?? null;
  }

  /** Sets a failpoint on a node; false when the node did not take it. */
  async setFailpoint(
    n: NodeProc,
    name: string,
    action: unknown,
  ): Promise<boolean> {
    const r = await call(`${n.url}/debug/failpoints/${name}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(action),
    });
    return r?.status === 200;
  }

  async clearFailpoints(n: NodeProc): Promise<boolean> {
    const r = await call(`${n.url}/debug/failpoints`, { method: "DELETE" });
    return r?.status === 200;
  }

  /**
   * Heals everything: SIGCONT, restart dead nodes, clear every failpoint
   * (polling each node until it takes the clear, up to the deadline).
   */
  async heal(timeoutMs: number): Promise<void> {
    for (const n of this.nodes) n.resume();
    await Promise.all(this.nodes.map((n) => n.running ? null : n.start()));
    const deadline = Date.now() + timeoutMs;
    for (const n of this.nodes) {
      while (!(await this.clearFailpoints(n))) {
        if (Date.now() > deadline) throw new Error(`${n.id}: heal timed out`);
        if (!n.running) await n.start();
        await new Promise((r) => setTimeout(r, 100));
      }
      n.expectExit = false;
    }
  }

  /** SIGKILLs every node (SIGCONT first); keeps the files. */
  async killAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
  }

  /** Kills every node and removes the temp root unless `keep`. */
  async teardown(keep = false): Promise<void> {
    live.delete(this);
    await this.killAll();
    if (!keep) await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}
