/**
 * A real node's logs: one JSON object per stderr line with time, level,
 * node, term and msg; `--log-level` sets the floor; the events an operator
 * needs (listening, leader changes, shutdown) are there at info.
 */
import assert from "node:assert/strict";
import { freePort, PERMS, until, withCluster } from "../e2e/_cluster.ts";
import { parseExposition, sumSamples } from "./_expo.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const RANK: Record<string, number> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 };

/** Runs one node at `level` until it is ready, stops it, returns its JSON log lines. */
async function runNode(level: string): Promise<Record<string, unknown>[]> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "raftkv-log-" });
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, MAIN, "--listen", `127.0.0.1:${port}`, "--data-dir", `${dir}/n1`],
    env: { RAFTKV_LOG_LEVEL: level, RAFTKV_TICK_MS: "20" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(proc.stderr).text();
  try {
    await until("the node to be ready", async () => {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      await r.body?.cancel();
      return r.ok ? true : undefined;
    });
  } finally {
    proc.kill("SIGTERM");
    await proc.status;
    await Deno.remove(dir, { recursive: true });
  }
  // Deno's own warnings are plain text; ours are the JSON lines.
  return (await stderr).split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

Deno.test("logging: --log-level sets the floor of a real node's JSON logs", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  await t.step("debug: every line is structured; the lifecycle is there", async () => {
    const lines = await runNode("debug");
    for (const l of lines) {
      assert.equal(typeof l.time, "string");
      assert.ok(l.level as string in RANK, `level ${l.level}`);
      assert.equal(l.node, "n1");
      assert.equal(typeof l.term, "number");
      assert.equal(typeof l.msg, "string");
    }
    const msgs = lines.map((l) => l.msg);
    for (const m of ["listening", "leader changed", "shutting down", "stopped"]) {
      assert.ok(msgs.includes(m), `logs "${m}": ${msgs.join(", ")}`);
    }
    const led = lines.find((l) => l.msg === "leader changed")!;
    assert.equal(led.leader, "n1");
    assert.ok((led.term as number) >= 1, "the term is the current one");
    assert.ok(lines.some((l) => l.level === "debug"), "debug lines at debug");
  });

  await t.step("warn: nothing below warn", async () => {
    const lines = await runNode("warn");
    for (const l of lines) assert.ok(RANK[l.level as string]! >= RANK.warn!, JSON.stringify(l));
  });
});

/** The JSON log lines of a test node's captured output with message `msg`. */
function logged(output: string, msg: string): Record<string, unknown>[] {
  return output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
    .filter((l) => l.msg === msg);
}

Deno.test("logging: an unreachable peer is logged once per reason, not per retry", {
  sanitizeOps: false,
  sanitizeResources: false,
}, () =>
  withCluster({ size: 3, extraArgs: ["--election-ticks", "30"] }, async (c) => {
    const leader = c.node(await c.waitLeader());
    const down = c.nodes.find((n) => n !== leader)!;
    await down.kill();
    const errors = async () => {
      const text = await (await fetch(`${leader.url}/metrics`)).text();
      return sumSamples(parseExposition(text), "raftkv_peer_send_errors_total", {
        peer: down.spec.id,
      });
    };
    await until("several failed sends", async () => (await errors()) >= 4 ? true : undefined);
    const warned = logged(leader.output, "peer unreachable");
    // The stream closing, then connections refused: a line for each reason.
    assert.ok(warned.length >= 1 && warned.length <= 2, JSON.stringify(warned));
    for (const w of warned) {
      assert.equal(w.level, "warn");
      assert.equal(w.peer, down.spec.id);
      assert.equal(typeof w.error, "string");
    }
    if (warned.length === 2) assert.notEqual(warned[0]!.error, warned[1]!.error);
    down.start();
    await until("the peer back", () => {
      const back = logged(leader.output, "peer reachable again");
      return back.length === 1 && back[0]!.peer === down.spec.id ? true : undefined;
    });
  }));

Deno.test("logging: a peer refused for its cluster token says so on both sides", {
  sanitizeOps: false,
  sanitizeResources: false,
}, () =>
  withCluster({ size: 3, extraArgs: ["--cluster-token", "s3cret"] }, async (c) => {
    const leader = c.node(await c.waitLeader());
    const other = c.nodes.find((n) => n !== leader)!;
    await other.kill();
    other.args[other.args.indexOf("s3cret")] = "wrong";
    other.start();
    await until(
      "the leader logs the refusal, after the restart's close",
      () =>
        logged(leader.output, "peer unreachable").some((l) =>
          l.peer === other.spec.id && /HTTP 401/.test(String(l.error)) && l.hint !== undefined
        ) || undefined,
    );
    await until("the refusing node logs why", () => {
      const refused = logged(other.output, "refused a peer: missing or wrong cluster token");
      return refused.length === 1 ? true : undefined;
    });
  }));
