/**
 * Commits mutation lists to one Deno KV database, evaluating the storage
 * failpoint and the test hooks before every commit. After any failed
 * commit the committer is poisoned: what is on disk is then some prefix of
 * the write, which only a reopen (load) sorts out.
 * @module
 */
import { type FailpointName, failpoints } from "../failpoints/registry.ts";
import { fitsOneCommit, type Mutation, splitCommits } from "./chunks.ts";

/** Hooks an engine accepts at open time (metrics, crash tests). */
export interface EngineHooks {
  /** Called after each successful commit (a metric: commits/second). */
  readonly onCommit?: () => void;
  /**
   * Called before commit number `n` (1-based, counted from open). A test
   * throws here to simulate a crash between the commits of a split write.
   */
  readonly beforeCommit?: (n: number) => void | Promise<void>;
}

/** Thrown by every write after a commit failed: reopen the engine. */
export class StoragePoisonedError extends Error {
  override name = "StoragePoisonedError";
  constructor(cause: unknown) {
    super("Storage engine failed a commit earlier; reopen it", { cause });
  }
}

/** See the module doc. */
export class Committer {
  readonly #kv: Deno.Kv;
  readonly #point: FailpointName;
  readonly #hooks: EngineHooks;
  #count = 0;
  #failure: unknown = undefined;
  #failed = false;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(kv: Deno.Kv, point: FailpointName, hooks: EngineHooks = {}) {
    this.#kv = kv;
    this.#point = point;
    this.#hooks = hooks;
  }

  /**
   * Runs `fn` after every earlier call has settled, so engine calls (a
   * background compaction and the next Ready's write) never interleave
   * their planning and commits.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Throws when an earlier commit failed. */
  checkHealthy(): void {
    if (this.#failed) throw new StoragePoisonedError(this.#failure);
  }

  /** Commits `ops` in order: one commit when they fit, else several. */
  async commitAll(ops: readonly Mutation[]): Promise<void> {
    if (ops.length === 0) return;
    if (fitsOneCommit(ops)) return await this.commit(ops);
    for (const group of splitCommits(ops)) await this.commit(group);
  }

  /** One atomic commit of `ops` (which must fit). */
  async commit(ops: readonly Mutation[]): Promise<void> {
    this.checkHealthy();
    try {
      if (failpoints.enabled) await failpoints.eval(this.#point);
      const n = ++this.#count;
      if (this.#hooks.beforeCommit) await this.#hooks.beforeCommit(n);
      const atomic = this.#kv.atomic();
      for (const op of ops) {
        if (op.value === undefined) atomic.delete(op.key);
        else atomic.set(op.key, op.value);
      }
      await atomic.commit();
    } catch (e) {
      this.#failed = true;
      this.#failure = e;
      throw e;
    }
    this.#hooks.onCommit?.();
  }
}
