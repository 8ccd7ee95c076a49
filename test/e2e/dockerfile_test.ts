/**
 * No Docker engine runs here, so this keeps the Dockerfile honest: it starts
 * a node with the exact ENTRYPOINT and ENV the Dockerfile declares (only the
 * port and the data dir moved to free ones), runs its HEALTHCHECK command,
 * and stops it with its STOPSIGNAL.
 */
import assert from "node:assert/strict";
import { NODE_RUN_FLAGS } from "../../tools/node_flags.ts";
import { freePort, until } from "./_cluster.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DOCKERFILE = await Deno.readTextFile(`${ROOT}Dockerfile`);

function instruction(name: string): string[] {
  return DOCKERFILE.replace(/\\\n\s*/g, "").split("\n")
    .filter((l) => l.startsWith(`${name} `))
    .map((l) => l.slice(name.length + 1).trim());
}

function execForm(text: string): string[] {
  const json = text.slice(text.indexOf("["));
  return JSON.parse(json);
}

function deno(args: string[]): [string, string[]] {
  assert.equal(args[0], "deno");
  return [Deno.execPath(), args.slice(1)];
}

Deno.test("Dockerfile: pinned base, non-root, volume, expose, healthcheck", () => {
  assert.deepEqual(instruction("FROM"), ["denoland/deno:2.9.6"]);
  assert.deepEqual(instruction("USER"), ["deno"]);
  assert.deepEqual(instruction("VOLUME"), ["/data"]);
  assert.deepEqual(instruction("EXPOSE"), ["8080"]);
  assert.ok(instruction("RUN").some((r) => r.startsWith("deno cache")));
  assert.deepEqual(instruction("STOPSIGNAL"), ["SIGTERM"]);
});

Deno.test("deno task start, the ENTRYPOINT and the node scripts run main.ts alike", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
  assert.equal(tasks.start, ["deno", "run", ...NODE_RUN_FLAGS, "main.ts"].join(" "));
  assert.deepEqual(execForm(instruction("ENTRYPOINT")[0]!), [
    "deno",
    "run",
    ...NODE_RUN_FLAGS,
    "main.ts",
  ]);
});

Deno.test(
  "Dockerfile: its ENTRYPOINT and ENV start a healthy node that SIGTERM stops",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    const env: Record<string, string> = {};
    for (const e of instruction("ENV")) {
      const [k, v] = e.split("=") as [string, string];
      env[k] = v;
    }
    assert.equal(env.RAFTKV_LISTEN, "0.0.0.0:8080");
    const port = freePort();
    const dir = await Deno.makeTempDir({ prefix: "raftkv-docker-" });
    env.RAFTKV_LISTEN = `0.0.0.0:${port}`; // the image's address, on a free port
    env.RAFTKV_DATA_DIR = dir;
    const [cmd, args] = deno(execForm(instruction("ENTRYPOINT")[0]!));
    const node = new Deno.Command(cmd, { args, cwd: ROOT, env, stdout: "null", stderr: "null" })
      .spawn();
    try {
      // The check reads the port from RAFTKV_LISTEN, as in the container.
      const health = instruction("HEALTHCHECK")[0]!;
      const [hcCmd, hcArgs] = deno(execForm(health.slice(health.indexOf("CMD"))));
      await until("the HEALTHCHECK to pass", async () => {
        const out = await new Deno.Command(hcCmd, {
          args: hcArgs,
          env: { RAFTKV_LISTEN: env.RAFTKV_LISTEN! },
          stdout: "null",
          stderr: "null",
        }).output();
        return out.success ? true : undefined;
      }, 30_000);
      const res = await fetch(`http://127.0.0.1:${port}/v1/kv/k`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: '{"value":1}',
      });
      await res.body?.cancel();
      assert.equal(res.status, 200);
      // Peers could not dial http://0.0.0.0: the member URL names the machine.
      const cluster = await (await fetch(`http://127.0.0.1:${port}/v1/cluster`)).json();
      assert.equal(cluster.members[0].url, `http://${Deno.hostname()}:${port}`);
    } finally {
      node.kill("SIGTERM");
      const status = await node.status;
      await Deno.remove(dir, { recursive: true });
      assert.equal(status.code, 0);
    }
  },
);
