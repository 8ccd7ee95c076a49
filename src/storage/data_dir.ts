/**
 * Claiming a data dir before anything in it is opened: one process at a
 * time (an advisory lock, released by the kernel however the process
 * ends), and one node id for its life (a copied or mistyped dir would
 * otherwise serve another node's log under a new name).
 * @module
 */
import { within } from "../within.ts";

/** A data dir that cannot be used; the message says why, for the operator. */
export class DataDirError extends Error {
  override name = "DataDirError";
}

/** How long a held lock is waited for (a node that is just exiting). */
const LOCK_WAIT_MS = 500;

/** A claimed data dir; `release` drops the lock (tests; exit drops it anyway). */
export interface DataDirClaim {
  release(): void;
}

/** Creates `dir`, takes its lock and checks (or records) that it belongs to `id`. */
export async function claimDataDir(dir: string, id: string): Promise<DataDirClaim> {
  const lockFile = await explain(dir, async () => {
    await Deno.mkdir(dir, { recursive: true });
    return await Deno.open(`${dir}/LOCK`, { create: true, write: true });
  });
  const locked = await within(lockFile.lock(true).then(() => true), LOCK_WAIT_MS, () => false)
    .catch((e) => {
      lockFile.close();
      throw new DataDirError(`Cannot lock data dir ${dir}: ${(e as Error).message}`);
    });
  if (!locked) {
    lockFile.close();
    throw new DataDirError(`Data dir ${dir} is in use by another process`);
  }
  const release = () => lockFile.close();
  try {
    await explain(dir, () => checkOwner(`${dir}/node-id`, id));
  } catch (e) {
    release();
    throw e;
  }
  return { release };
}

async function checkOwner(file: string, id: string): Promise<void> {
  let owner: string | null = null;
  try {
    owner = (await Deno.readTextFile(file)).trim();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  // Empty: a crash while it was first written (before this was durable).
  if (owner === null || owner === "") return writeDurably(file, `${id}\n`);
  if (owner !== id) {
    throw new DataDirError(`Data dir ${file.slice(0, -8)} belongs to node "${owner}", not "${id}"`);
  }
}

/**
 * Writes `text` to `file` so that a crash leaves the old content or the
 * new, never a torn or empty file: a temp file, fsync, rename, and fsync of
 * the directory (the rename itself). Synchronous: small files written once
 * (at start, or when a joiner adopts its cluster's id, which must be
 * durable before the leader's messages are stepped).
 */
export function writeDurably(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  Deno.writeTextFileSync(tmp, text);
  const f = Deno.openSync(tmp, { read: true, write: true });
  try {
    f.syncSync();
  } finally {
    f.close();
  }
  Deno.renameSync(tmp, file);
  const dir = Deno.openSync(file.slice(0, file.lastIndexOf("/")) || ".", { read: true });
  try {
    dir.syncSync();
  } catch {
    /* a file system without directory fsync */
  } finally {
    dir.close();
  }
}

/** Runs `fn`; a file system error becomes a DataDirError naming the dir. */
async function explain<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof DataDirError) throw e;
    throw new DataDirError(`Cannot use data dir ${dir}: ${(e as Error).message}`);
  }
}
