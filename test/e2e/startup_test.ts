/**
 * Starts that cannot go on, run as `deno task start` runs main.ts: one
 * clear line and a non-zero exit, nothing written where it should not be,
 * and a data dir that stays with its node and its process.
 */
import assert from "node:assert/strict";
import { freePort, PERMS, TestNode, until } from "./_cluster.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const opts = { sanitizeOps: false, sanitizeResources: false };

/** Runs main.ts to its exit (bounded): code and stderr. */
async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** Waits (bounded) until the node at `url` answers /readyz 200. */
function ready(what: string, url: string) {
  return until(what, async () => {
    const res = await fetch(`${url}/readyz`).catch(() => null);
    await res?.body?.cancel();
    return res?.ok || undefined;
  }, 20_000);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("startup refusals", opts, async (t) => {
  const root = await Deno.makeTempDir({ prefix: "raftkv-startup-" });
  const port = freePort();
  const node = new TestNode(
    { id: "n1", port, dataDir: `${root}/n1` },
    ["--id", "n1", "--listen", `127.0.0.1:${port}`, "--data-dir", `${root}/n1`],
    {},
  );
  try {
    node.start();
    await ready("n1 ready", node.url);
    const put = await fetch(`${node.url}/v1/kv/k`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: '{"value":1}',
    });
    assert.equal(put.status, 200, await put.text());

    await t.step("a port in use: one line, exit 1, no data dir created", async () => {
      const r = await run(["--listen", `127.0.0.1:${port}`, "--data-dir", `${root}/other`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^raftkv: Cannot listen on 127\.0\.0\.1:\d+: .+\n$/);
      assert.equal(await exists(`${root}/other`), false);
    });

    await t.step("a data dir another process holds is refused", async () => {
      const r = await run(["--listen", `127.0.0.1:${freePort()}`, "--data-dir", `${root}/n1`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^raftkv: Data dir .+ is in use by another process\n$/);
    });

    await node.kill();
    await t.step("a data dir that belongs to another node id is refused", async () => {
      const r = await run([
        "--id",
        "n9",
        "--listen",
        `127.0.0.1:${freePort()}`,
        "--data-dir",
        `${root}/n1`,
      ]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^raftkv: Data dir .+ belongs to node "n1", not "n9"\n$/);
    });

    await t.step("a data dir that cannot be created: one line, exit 1", async () => {
      await Deno.writeTextFile(`${root}/file`, "");
      const r = await run(["--listen", `127.0.0.1:${freePort()}`, "--data-dir", `${root}/file/d`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^raftkv: Cannot use data dir .+\n$/);
    });

    /** A copy of n1's data dir without `lose` (file name prefixes), run as n1. */
    const runWithout = async (lose: string[]) => {
      const copy = `${root}/copy-${lose[0]}`;
      await new Deno.Command("cp", { args: ["-a", `${root}/n1`, copy] }).output();
      for await (const f of Deno.readDir(copy)) {
        if (lose.some((l) => f.name.startsWith(l))) await Deno.remove(`${copy}/${f.name}`);
      }
      return await run(["--id", "n1", "--listen", `127.0.0.1:${freePort()}`, "--data-dir", copy]);
    };

    await t.step("applied data without raft.kv (vote and log lost) is refused", async () => {
      const r = await runWithout(["raft.kv", "LOCK"]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^raftkv: Data dir .+: .+ raft\.kv was lost or replaced; .+\n$/);
    });

    await t.step("applied data without its cluster-id file is refused", async () => {
      const r = await runWithout(["cluster-id", "LOCK"]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /^raftkv: Data dir .+ holds applied data but no cluster-id file: .+\n$/,
      );
    });

    await t.step(
      "a restart leaves cluster-id as it is (rewriting it failed on a full disk)",
      async () => {
        const file = `${root}/n1/cluster-id`;
        const before = await Deno.stat(file);
        node.start();
        await ready("n1 restarted", node.url);
        const after = await Deno.stat(file);
        assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
        assert.equal(after.ino, before.ino);
        await node.kill();
      },
    );

    await t.step(
      "a node restarted at another address warns that peers cannot reach it",
      async () => {
        const copy = `${root}/moved`;
        await new Deno.Command("cp", { args: ["-a", `${root}/n1`, copy] }).output();
        await Deno.remove(`${copy}/LOCK`).catch(() => {});
        const moved = new TestNode({ id: "n1", port: freePort(), dataDir: copy }, [], {});
        moved.args.push(
          "--id",
          "n1",
          "--listen",
          `127.0.0.1:${moved.spec.port}`,
          "--data-dir",
          copy,
        );
        try {
          moved.start();
          const line = await until(
            "the warning",
            () => moved.output.split("\n").find((l) => l.includes("serves at another URL")),
          );
          assert.match(line, new RegExp(`"memberUrl":"http://127\\.0\\.0\\.1:${port}"`));
        } finally {
          await moved.kill();
        }
      },
    );

    await t.step("its own data dir, after the holder exited, starts", async () => {
      node.start();
      await ready("n1 ready again", node.url);
    });
  } finally {
    await node.kill();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});

Deno.test(
  "a restarted single node campaigns at once, not after an election timeout",
  opts,
  () =>
    inTempDir("raftkv-startup-", async (root, port) => {
      const base = ["--listen", `127.0.0.1:${port}`, "--data-dir", root];
      // New: the usual election timeout (a joiner without --peers must not lead alone).
      const fresh = new TestNode({ id: "n1", port, dataDir: root }, base, {});
      // Restarted with a 100 s election timeout: ready in time only by campaigning at start.
      const slow = new TestNode({ id: "n1", port, dataDir: root }, [
        ...base,
        "--tick-ms",
        "1000",
        "--election-ticks",
        "100",
        "--heartbeat-ticks",
        "10",
      ], {});
      try {
        fresh.start();
        await ready("a new single node ready", fresh.url);
        await fresh.kill();
        slow.start();
        await ready("the restarted single node ready", slow.url);
      } finally {
        await fresh.kill();
        await slow.kill();
      }
    }),
);

Deno.test(
  "out of file descriptors, a node listens again once connections close",
  opts,
  () =>
    inTempDir("raftkv-fds-", async (root, port) => {
      const url = `http://127.0.0.1:${port}`;
      const args = ["--listen", `127.0.0.1:${port}`, "--data-dir", root].join(" ");
      const node = new Deno.Command("bash", {
        // A low limit stands for a connection flood against a normal one.
        args: [
          "-c",
          `ulimit -n 256 && exec "${Deno.execPath()}" run ${PERMS.join(" ")} ${MAIN} ${args}`,
        ],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const conns: Deno.TcpConn[] = [];
      try {
        await ready("the node ready", url);
        // Past ~250 the accept loop meets EMFILE and the listener closes (refused).
        for (let i = 0; i < 300; i++) {
          const c = await Deno.connect({ hostname: "127.0.0.1", port }).catch(() => null);
          if (!c) break;
          conns.push(c);
        }
        assert.ok(conns.length > 200, `${conns.length} connections`);
        await new Promise((r) => setTimeout(r, 300));
        for (const c of conns.splice(0)) c.close();
        await until("the node to answer again", async () => {
          const res = await fetch(`${url}/v1/kv/k`, {
            method: "PUT",
            headers: { "content-type": "application/json" },
            body: '{"value":1}',
          }).catch(() => null);
          await res?.body?.cancel();
          return res?.status === 200 || undefined;
        }, 20_000);
      } finally {
        for (const c of conns) c.close();
        try {
          node.kill("SIGKILL");
        } catch { /* exited */ }
        await node.stderr.cancel();
        await node.status;
      }
    }),
);

/** A temp dir and a free port for one test; the dir is removed afterwards. */
async function inTempDir(
  prefix: string,
  fn: (root: string, port: number) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix });
  try {
    await fn(root, freePort());
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}
