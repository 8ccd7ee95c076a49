// Every process and temp dir the runner makes is registered here, so one
// cleanup (normal end, error, Ctrl-C, SIGTERM) stops and removes all of them.

const children = new Map<number, Deno.ChildProcess>();
const tempDirs = new Set<string>();
/** Set on Ctrl-C: from then on nothing new may start (it would leak). */
let aborted = false;

function refuseAfterAbort(): void {
  if (aborted) throw new Error("interrupted");
}

export interface Spawned {
  child: Deno.ChildProcess;
  pid: number;
  /** File that receives the child's stdout and stderr (unless piped). */
  log: string;
  exited: () => boolean;
}

export async function tempDir(prefix: string): Promise<string> {
  refuseAfterAbort();
  const dir = await Deno.makeTempDir({ prefix });
  tempDirs.add(dir);
  if (aborted) await removeDir(dir); // made while cleanup was already running
  refuseAfterAbort();
  return dir;
}

/** Starts a child whose stdout+stderr go to `log` (stdout: "piped" keeps it). */
export async function spawn(
  cmd: string,
  args: string[],
  log: string,
  opts: { cwd?: string; pipeStdout?: boolean } = {},
): Promise<Spawned> {
  refuseAfterAbort();
  const child = new Deno.Command(cmd, {
    args,
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  children.set(child.pid, child);
  let done = false;
  child.status.then(() => {
    done = true;
    children.delete(child.pid);
  });
  const open = () => Deno.open(log, { create: true, append: true });
  child.stderr.pipeTo((await open()).writable).catch(() => {});
  if (!opts.pipeStdout) {
    child.stdout.pipeTo((await open()).writable).catch(() => {});
  }
  return { child, pid: child.pid, log, exited: () => done };
}

/** Resolves after `ms`, without holding the process open longer than that. */
export function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

/** SIGTERM, then SIGKILL if the child is still there after `graceMs`. */
export async function stop(
  child: Deno.ChildProcess,
  graceMs = 3000,
): Promise<void> {
  if (!children.has(child.pid)) return;
  try {
    child.kill("SIGTERM");
  } catch { /* already gone */ }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((res) => {
    timer = setTimeout(() => res("late"), graceMs);
  });
  const how = await Promise.race([child.status, late]);
  clearTimeout(timer);
  if (how === "late") {
    try {
      child.kill("SIGKILL");
    } catch { /* exited meanwhile */ }
    await child.status;
  }
}

export async function removeDir(dir: string): Promise<void> {
  tempDirs.delete(dir);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

/** Stops all children and removes all temp dirs; safe to call twice. */
export async function cleanupAll(): Promise<void> {
  await Promise.all([...children.values()].map((c) => stop(c)));
  await Promise.all([...tempDirs].map(removeDir));
}

/** Ctrl-C and SIGTERM clean up before exiting, instead of orphaning nodes. */
export function cleanupOnSignals(): void {
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => {
      aborted = true;
      console.error(`\nbench: ${sig}, stopping every process started...`);
      cleanupAll().finally(() => Deno.exit(130));
    });
  }
}

/** The last lines of a child's log, for error messages. */
export async function tail(log: string, lines = 15): Promise<string> {
  const text = await Deno.readTextFile(log).catch(() => "");
  const last = text.trimEnd().split("\n").slice(-lines);
  return last.map((l) => l.length > 240 ? `${l.slice(0, 240)}…` : l).join("\n");
}
