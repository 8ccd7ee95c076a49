/**
 * Crashes between the commits of a split write: for every commit number n
 * of a big write, fail commit n (the `beforeCommit` hook throws; the disk
 * then holds what a process killed there would leave), reopen, check that
 * load() gives the old state or the new one, never a mix, and that load()
 * left no garbage behind.
 * @module
 */
import assert from "node:assert/strict";
import type { EngineHooks } from "../../src/storage/committer.ts";
import { tempDir } from "./helpers.ts";

/** Thrown by the hook: the simulated crash. */
export class Crash extends Error {}

/** Hooks that throw before commit `n`. */
export function crashAt(n: number): EngineHooks {
  return {
    beforeCommit: (i) => {
      if (i === n) throw new Crash(`crash before commit ${i}`);
    },
  };
}

/** One crash scenario over an engine type E whose load gives S. */
export interface CrashSpec<E extends { close(): void }, S> {
  open(path: string, hooks: EngineHooks): Promise<E>;
  load(e: E): Promise<S>;
  /** The old state, written without crashes. */
  setup(e: E): Promise<void>;
  /** The big write that crashes. */
  act(e: E): Promise<void>;
  /** Checks a reloaded state; `crashed` is false for the full run. */
  check(s: S, crashed: boolean): void;
  /** Checks the raw keys after the reload (no garbage left). */
  inspect?(keys: Deno.KvEntry<unknown>[], s: S): void;
}

/**
 * Runs `spec` with a crash at commit n = 1, 2, ... until `act` completes
 * without reaching commit n. Returns how many commits `act` took.
 */
export async function everyCrashPoint<E extends { close(): void }, S>(
  spec: CrashSpec<E, S>,
): Promise<number> {
  for (let n = 1;; n++) {
    const dir = await tempDir();
    try {
      const path = `${dir.path}/x.kv`;
      await withOpen(spec, path, {}, (e) => spec.setup(e));
      let crashed = false;
      try {
        await withOpen(spec, path, crashAt(n), (e) => spec.act(e));
      } catch (e) {
        if (!(e instanceof Crash)) throw e;
        crashed = true;
      }
      const s = await withOpen(spec, path, {}, () => Promise.resolve());
      spec.check(s, crashed);
      if (spec.inspect) spec.inspect(await rawEntries(path), s);
      if (!crashed) return n - 1;
    } finally {
      await dir.cleanup();
    }
  }
}

/** Opens, loads, runs `fn`, closes; returns the loaded state. */
async function withOpen<E extends { close(): void }, S>(
  spec: CrashSpec<E, S>,
  path: string,
  hooks: EngineHooks,
  fn: (e: E) => Promise<void>,
): Promise<S> {
  const e = await spec.open(path, hooks);
  try {
    const s = await spec.load(e);
    await fn(e);
    return s;
  } finally {
    e.close();
  }
}

/** Every entry of the Deno KV file at `path`. */
export async function rawEntries(
  path: string,
): Promise<Deno.KvEntry<unknown>[]> {
  const kv = await Deno.openKv(path);
  try {
    return await Array.fromAsync(kv.list({ prefix: [] }));
  } finally {
    kv.close();
  }
}

/** Structural equality through JSON (fast enough for thousands of records). */
export function eq(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Asserts that a split write was really split. */
export function assertSplit(commits: number, atLeast: number): void {
  assert.ok(commits >= atLeast, `split into ${commits} commits`);
}
