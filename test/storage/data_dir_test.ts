/** Claiming a data dir: lock, owner, and files a crash cannot tear. */
import assert from "node:assert/strict";
import { claimDataDir, DataDirError, writeDurably } from "../../src/storage/data_dir.ts";
import { tempDir } from "./helpers.ts";

Deno.test("claimDataDir: one holder, one owner; an empty owner file is no owner", async () => {
  const dir = await tempDir();
  try {
    const first = await claimDataDir(`${dir.path}/d`, "n1");
    await assert.rejects(claimDataDir(`${dir.path}/d`, "n1"), DataDirError, "held");
    first.release();
    await assert.rejects(claimDataDir(`${dir.path}/d`, "n2"), /belongs to node "n1"/);
    await Deno.writeTextFile(`${dir.path}/d/node-id`, ""); // torn by a crash
    const again = await claimDataDir(`${dir.path}/d`, "n2");
    assert.equal(await Deno.readTextFile(`${dir.path}/d/node-id`), "n2\n");
    again.release();
  } finally {
    await dir.cleanup();
  }
});

Deno.test("writeDurably replaces a file whole and leaves no temp file", async () => {
  const dir = await tempDir();
  try {
    writeDurably(`${dir.path}/f`, "one\n");
    writeDurably(`${dir.path}/f`, "two\n");
    assert.equal(await Deno.readTextFile(`${dir.path}/f`), "two\n");
    const names = [];
    for await (const e of Deno.readDir(dir.path)) names.push(e.name);
    assert.deepEqual(names, ["f"]);
  } finally {
    await dir.cleanup();
  }
});
