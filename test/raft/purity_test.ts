/**
 * The core is pure (DESIGN.md): no I/O, timers, clocks, global randomness,
 * console, async, or imports from outside src/raft/.
 */
import assert from "node:assert/strict";

const dir = new URL("../../src/raft/", import.meta.url);
const canRead = (await Deno.permissions.query({ name: "read", path: dir })).state === "granted";

const FORBIDDEN: [RegExp, string][] = [
  [/\bDeno\./, "Deno.*"],
  [/\bfetch\s*\(/, "fetch"],
  [/\bset(Timeout|Interval)\b/, "timers"],
  [/\bDate\b/, "Date"],
  [/Math\.random/, "Math.random"],
  [/\bconsole\./, "console"],
  [/\basync\b|\bawait\b|\bPromise\b/, "async"],
  [/\bperformance\./, "performance"],
];

Deno.test({
  name: "src/raft is pure: no I/O, clocks, randomness or foreign imports",
  ignore: !canRead,
  fn: () => {
    for (const f of Deno.readDirSync(dir)) {
      if (!f.name.endsWith(".ts")) continue;
      const src = Deno.readTextFileSync(new URL(f.name, dir));
      const code = src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
      for (const [re, what] of FORBIDDEN) assert.ok(!re.test(code), `${f.name} uses ${what}`);
      for (const m of code.matchAll(/from\s+"([^"]+)"/g)) {
        assert.match(m[1]!, /^\.\/[a-z_]+\.ts$/, `${f.name} imports ${m[1]}`);
      }
      const lines = src.split("\n").length;
      assert.ok(lines <= 400, `${f.name} has ${lines} lines`);
    }
  },
});
