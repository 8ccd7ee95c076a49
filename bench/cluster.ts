// Starts a RaftKV or etcd cluster on loopback, each member with its own temp
// data dir and log, and waits until it serves with a leader.

import { removeDir, sleep, spawn, type Spawned, stop, tail, tempDir } from "./procs.ts";
import { etcd, raftkv } from "./targets.ts";
import { NODE_RUN_FLAGS } from "../tools/node_flags.ts";

export type System = "raftkv" | "etcd";

export interface Member {
  id: string;
  /** Client URL. */
  url: string;
  proc: Spawned;
}

export interface Cluster {
  system: System;
  members: Member[];
  dir: string;
}

export interface StartOptions {
  /** RaftKV's main.ts (absolute), run with the current deno. */
  main: string;
  readyTimeoutMs: number;
  /** Copy every log here before the temp dir goes (for post-mortems). */
  keepLogs?: string;
}

/** A loopback port that was free a moment ago (the OS picks it). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export async function startCluster(
  system: System,
  size: number,
  opts: StartOptions,
): Promise<Cluster> {
  const dir = await tempDir(`bench-${system}-`);
  const prefix = system === "raftkv" ? "n" : "e";
  const ids = Array.from({ length: size }, (_, i) => `${prefix}${i + 1}`);
  const start = system === "raftkv" ? startRaftKv : startEtcd;
  const cluster: Cluster = {
    system,
    dir,
    members: await start(ids, dir, opts),
  };
  try {
    await waitReady(cluster, opts.readyTimeoutMs);
  } catch (e) {
    await stopCluster(cluster, opts.keepLogs);
    throw e;
  }
  return cluster;
}

export async function stopCluster(c: Cluster, keepLogs?: string): Promise<void> {
  await Promise.all(c.members.map((m) => stop(m.proc.child)));
  if (keepLogs) await copyLogs(c.dir, keepLogs);
  await removeDir(c.dir);
}

function startRaftKv(
  ids: string[],
  dir: string,
  o: StartOptions,
): Promise<Member[]> {
  const urls = ids.map(() => `http://127.0.0.1:${freePort()}`);
  const peers = ids.map((id, i) => `${id}=${urls[i]}`).join(",");
  return Promise.all(ids.map(async (id, i) => {
    const url = urls[i] ?? "";
    const args = [
      "run",
      ...NODE_RUN_FLAGS,
      o.main,
      "--id",
      id,
      "--listen",
      url.slice(7),
    ];
    args.push("--peers", peers, "--data-dir", `${dir}/${id}`);
    const cwd = o.main.replace(/\/[^/]*$/, "");
    const proc = await spawn(Deno.execPath(), args, `${dir}/${id}.log`, {
      cwd,
    });
    return { id, url, proc };
  }));
}

function startEtcd(ids: string[], dir: string): Promise<Member[]> {
  const ports = ids.map(() => ({ client: freePort(), peer: freePort() }));
  const peerUrl = (i: number) => `http://127.0.0.1:${ports[i]?.peer}`;
  const initial = ids.map((id, i) => `${id}=${peerUrl(i)}`).join(",");
  const token = `bench-${crypto.randomUUID()}`;
  return Promise.all(ids.map(async (id, i) => {
    const url = `http://127.0.0.1:${ports[i]?.client}`;
    const args = [
      ...["--name", id, "--data-dir", `${dir}/${id}`],
      ...["--listen-client-urls", url, "--advertise-client-urls", url],
      ...[
        "--listen-peer-urls",
        peerUrl(i),
        "--initial-advertise-peer-urls",
        peerUrl(i),
      ],
      ...["--initial-cluster", initial, "--initial-cluster-state", "new"],
      ...["--initial-cluster-token", token],
      ...["--logger", "zap", "--log-level", "warn"],
    ];
    const proc = await spawn("etcd", args, `${dir}/${id}.log`);
    return { id, url, proc };
  }));
}

interface Probe {
  status: number;
  json: Record<string, unknown>;
}

/** One readiness request; any failure (refused, timeout, not JSON) is null. */
async function probe(
  url: string,
  init: RequestInit = {},
): Promise<Probe | null> {
  try {
    const res = await fetch(url, {
      ...init,
      signal: AbortSignal.timeout(2000),
    });
    const text = await res.text();
    return {
      status: res.status,
      json: text.startsWith("{") ? JSON.parse(text) : {},
    };
  } catch {
    return null;
  }
}

/** RaftKV: every /readyz is 200 and /v1/cluster names a leader. */
async function raftKvReady(ms: Member[]): Promise<boolean> {
  const ready = await Promise.all(ms.map((m) => probe(`${m.url}/readyz`)));
  if (!ready.every((r) => r?.status === 200)) return false;
  const leader = (await probe(`${ms[0]?.url}/v1/cluster`))?.json.leader;
  return typeof leader === "string" && leader !== "";
}

/** etcd: every member reports a leader (its id is "0" until there is one). */
async function etcdReady(ms: Member[]): Promise<boolean> {
  const post = { method: "POST", body: "{}" };
  const st = await Promise.all(
    ms.map((m) => probe(`${m.url}/v3/maintenance/status`, post)),
  );
  return st.every((r) => {
    const leader = r?.json.leader;
    return r?.status === 200 && typeof leader === "string" && leader !== "0";
  });
}

async function waitReady(c: Cluster, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const ready = c.system === "raftkv" ? raftKvReady : etcdReady;
  while (Date.now() < deadline) {
    const dead = c.members.find((m) => m.proc.exited());
    if (dead) {
      throw new Error(
        `${dead.id} exited while starting:\n${await tail(dead.proc.log)}`,
      );
    }
    if (await ready(c.members)) return;
    await sleep(100);
  }
  const logs = await Promise.all(
    c.members.map(async (m) => `--- ${m.id}\n${await tail(m.proc.log)}`),
  );
  throw new Error(
    `${c.system} not ready in ${timeoutMs} ms:\n${logs.join("\n")}`,
  );
}

/** The client URL of the member that currently leads. */
export async function leaderUrl(c: Cluster): Promise<string | null> {
  const t = (c.system === "raftkv" ? raftkv : etcd)("", "linearizable");
  for (const m of c.members) {
    if (await t.isLeader(m.url).catch(() => false)) return m.url;
  }
  return null;
}

async function copyLogs(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  const tag = from.replace(/^.*\//, "");
  for await (const e of Deno.readDir(from)) {
    if (e.isFile && e.name.endsWith(".log")) {
      await Deno.copyFile(`${from}/${e.name}`, `${to}/${tag}-${e.name}`);
    }
  }
}
