/**
 * Shared helpers of the storage tests: temp dirs and sample data.
 * @module
 */
import type { Entry, SnapshotMeta } from "../../src/raft/types.ts";
import type { KvRecord } from "../../src/kv/types.ts";
import type { DataState, Membership } from "../../src/storage/stores.ts";
import { DenoKvDataEngine } from "../../src/storage/deno_kv_data_engine.ts";

/** What a fresh DenoKvDataEngine on `path` loads (opened and closed around it). */
export async function loadData(
  path: string,
  opts: { rewriteSlack?: number } = {},
): Promise<DataState> {
  const e = await DenoKvDataEngine.open(path, {}, opts);
  try {
    return await e.load();
  } finally {
    e.close();
  }
}

/** Runs `fn` on the path of a `data.kv` in a fresh temp dir, removed afterwards. */
export async function withDataKv(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await tempDir();
  try {
    await fn(`${dir.path}/data.kv`);
  } finally {
    await dir.cleanup();
  }
}

/** A temp dir removed by `cleanup`. */
export async function tempDir(): Promise<
  { path: string; cleanup: () => Promise<void> }
> {
  const path = await Deno.makeTempDir({ prefix: "raftkv_storage_" });
  return {
    path,
    cleanup: () => Deno.remove(path, { recursive: true }),
  };
}

export const SEED: SnapshotMeta = {
  index: 0,
  term: 0,
  confState: { voters: ["n1", "n2", "n3"], learners: [] },
};

export const MEMBERSHIP: Membership = {
  voters: [{ id: "n1", url: "http://h1:8080" }],
  learners: [{ id: "n2", url: "http://h2:8080" }],
};

/** Entries from..to (inclusive) of `term`, data "e<index>-t<term>". */
export function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) {
    out.push({ index: i, term, type: "normal", data: `e${i}-t${term}` });
  }
  return out;
}

/** A string of about `bytes` UTF-8 bytes mixing ASCII, é, 漢 and 😀. */
export function bigText(bytes: number): string {
  const unit = 'abcé漢😀\u{10FFFF}\uffff"\\';
  const unitBytes = new TextEncoder().encode(unit).length;
  return unit.repeat(Math.ceil(bytes / unitBytes));
}

/** A record whose value is the JSON text of `value`. */
export function record(key: string, value: unknown, mod: number): KvRecord {
  return {
    key,
    value: JSON.stringify(value),
    version: 1,
    createIndex: mod,
    modIndex: mod,
  };
}

/** Records sorted by key (engines may return them in any order). */
export function byKey(records: readonly KvRecord[]): KvRecord[] {
  return [...records].sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** Yields `records` in batches, as a snapshot stream would. */
export async function* batches(
  records: readonly KvRecord[],
  size: number,
): AsyncIterable<readonly KvRecord[]> {
  for (let i = 0; i < records.length; i += size) {
    await Promise.resolve();
    yield records.slice(i, i + size);
  }
}

/** Durable state an engine can be (re)opened on. */
export interface Harness<E> {
  /** Opens an engine on the harness's state; again = a restart. */
  open(): Promise<E>;
  cleanup(): Promise<void>;
}

/**
 * Runs each case of a contract as a step of `t` on a fresh harness from
 * `make` (the denokv habit: one conformance suite, several backends).
 */
export async function runContract<H extends { cleanup(): Promise<void> }>(
  t: Deno.TestContext,
  make: () => Promise<H>,
  cases: Record<string, (h: H) => Promise<void>>,
): Promise<void> {
  for (const [name, fn] of Object.entries(cases)) {
    await t.step(name, async () => {
      const h = await make();
      try {
        await fn(h);
      } finally {
        await h.cleanup();
      }
    });
  }
}
