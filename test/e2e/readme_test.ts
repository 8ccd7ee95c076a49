/**
 * Follows the README as a new user would: the two set-up commands are
 * there, `deno task start` serves, every curl example answers without a
 * server error, and Ctrl-C stops the node.
 */
import assert from "node:assert/strict";
import { freePort, until } from "./_cluster.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const README = await Deno.readTextFile(`${ROOT}README.md`);

function codeBlockAfter(heading: string): string {
  const at = README.indexOf(heading);
  assert.ok(at >= 0, `README has "${heading}"`);
  const start = README.indexOf("```sh\n", at) + 6;
  return README.slice(start, README.indexOf("```", start));
}

Deno.test("README: the two set-up commands use the pinned Deno", () => {
  const block = codeBlockAfter("## Quick start");
  const commands = block.split("\n").filter((l) => l.trim() && !l.startsWith("#"));
  assert.deepEqual(commands.map((l) => l.split("#")[0]!.trim()), [
    "npx -y deno@2.9.6 task start",
    "npx -y deno@2.9.6 task test",
  ]);
});

Deno.test(
  "README: deno task start serves every curl example; Ctrl-C stops it",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    const port = freePort();
    const dir = await Deno.makeTempDir({ prefix: "raftkv-readme-" });
    const node = new Deno.Command(Deno.execPath(), {
      args: ["task", "start"],
      cwd: ROOT,
      env: { RAFTKV_LISTEN: `127.0.0.1:${port}`, RAFTKV_DATA_DIR: `${dir}/n1` },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      await until("the node to be ready", async () => {
        const r = await fetch(`http://127.0.0.1:${port}/readyz`);
        await r.body?.cancel();
        return r.ok ? true : undefined;
      });
      const script = codeBlockAfter("## The API").replaceAll("localhost:8080", `127.0.0.1:${port}`);
      const wrapped =
        `curl() { command curl -s -o /dev/null -w "%{http_code}\\n" "$@"; }\n${script}`;
      const out = await new Deno.Command("bash", { args: ["-c", wrapped], stdout: "piped" })
        .output();
      const codes = new TextDecoder().decode(out.stdout).trim().split("\n").map(Number);
      assert.ok(codes.length >= 15, `ran ${codes.length} curl examples`);
      for (const code of codes) {
        assert.ok(code >= 200 && code < 500, `curl example answered ${code}`);
      }
      assert.equal(codes[0], 200);
    } finally {
      node.kill("SIGINT");
      const status = await node.status;
      await node.stderr.cancel();
      await Deno.remove(dir, { recursive: true });
      assert.equal(status.code, 0);
    }
  },
);
