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
    await until("n1 ready", async () => (await fetch(`${node.url}/readyz`)).ok || undefined);

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

    await t.step("its own data dir, after the holder exited, starts", async () => {
      node.start();
      await until(
        "n1 ready again",
        async () => (await fetch(`${node.url}/readyz`)).ok || undefined,
      );
    });
  } finally {
    await node.kill();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});

Deno.test(
  "a restarted single node campaigns at once, not after an election timeout",
  opts,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "raftkv-startup-" });
    const port = freePort();
    const base = ["--listen", `127.0.0.1:${port}`, "--data-dir", root];
    const ready = (what: string, n: TestNode) =>
      until(what, async () => {
        const res = await fetch(`${n.url}/readyz`).catch(() => null);
        await res?.body?.cancel();
        return res?.ok || undefined;
      }, 20_000);
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
      await ready("a new single node ready", fresh);
      await fresh.kill();
      slow.start();
      await ready("the restarted single node ready", slow);
    } finally {
      await fresh.kill();
      await slow.kill();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
);
