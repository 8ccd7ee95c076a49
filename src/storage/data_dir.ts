/**
 * Claiming a data dir before anything in it is opened: one process at a
 * time (an advisory lock, released by the kernel however the process
 * ends), and one node id for its life (a copied or mistyped dir would
 * otherwise serve another node's log under a new name).
 * @module
 */

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
  let timer: ReturnType<typeof setTimeout> | undefined;
  const locked = await Promise.race([
    lockFile.lock(true).then(() => true),
    new Promise<false>((r) => timer = setTimeout(() => r(false), LOCK_WAIT_MS)),
  ]);
  clearTimeout(timer);
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
  if (owner === null) return await Deno.writeTextFile(file, `${id}\n`);
  if (owner !== id) {
    throw new DataDirError(`Data dir ${file.slice(0, -8)} belongs to node "${owner}", not "${id}"`);
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
