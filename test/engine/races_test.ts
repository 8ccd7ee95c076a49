/**
 * Engine races that would stop the node with a fatal engine error (exit
 * 70), each run in a process of its own (`_races.ts`): a failure is the
 * fatal line, not a dead test runner.
 * @module
 */
import assert from "node:assert/strict";
import { RACE_NAMES } from "./_races.ts";

const SCRIPT = new URL("./_races.ts", import.meta.url).pathname;

for (const race of RACE_NAMES) {
  Deno.test(`engine race: ${race}`, async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--unstable-kv", "--allow-read", "--allow-write", "--allow-env", SCRIPT, race],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.match(text, /^ok$/m);
  });
}
