/**
 * One real RaftKV node as a child process: start, SIGKILL, SIGSTOP/SIGCONT
 * and restart on the same data dir and port. stdout and stderr go to a log
 * file that outlives restarts.
 * @module
 */
import { NODE_RUN_FLAGS } from "../../tools/node_flags.ts";

export interface NodeSpec {
  readonly id: string;
  readonly port: number;
  /** Client (and peer) URL. */
  readonly url: string;
  readonly dataDir: string;
  readonly logFile: string;
}

export interface LaunchOptions {
  /** The script to run (main.ts, or a stand-in in tests). */
  readonly main: string;
  /** Working directory (where deno.json is). */
  readonly cwd: string;
  /** Arguments after the script, for this node. */
  readonly args: readonly string[];
}

export class NodeProc {
  #child: Deno.ChildProcess | null = null;
  #pipes: Promise<unknown>[] = [];
  #paused = false;
  #starts = 0;
  #killing = false;
  #exits: string[] = [];
  /** Set while a crash failpoint may make the process exit on its own. */
  expectExit = false;

  constructor(readonly spec: NodeSpec, readonly launch: LaunchOptions) {}

  get id(): string {
    return this.spec.id;
  }

  get url(): string {
    return this.spec.url;
  }

  /** Started and not known to have exited. */
  get running(): boolean {
    return this.#child !== null;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** How many times the process was started. */
  get starts(): number {
    return this.#starts;
  }

  async start(): Promise<void> {
    if (this.#child) throw new Error(`${this.id} is already running`);
    const log = await Deno.open(this.spec.logFile, {
      create: true,
      append: true,
    });
    const note = `\n--- ${this.id} start #${++this.#starts} ---\n`;
    await log.write(new TextEncoder().encode(note));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...NODE_RUN_FLAGS, this.launch.main, ...this.launch.args],
      cwd: this.launch.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#paused = false;
    const err = await Deno.open(this.spec.logFile, { append: true });
    this.#pipes = [
      child.stdout.pipeTo(log.writable).catch(() => {}),
      child.stderr.pipeTo(err.writable).catch(() => {}),
    ];
    const pipes = this.#pipes;
    child.status.then(async (st) => {
      const expected = this.#child !== child || this.#killing || this.expectExit;
      if (this.#child === child) this.#child = null;
      if (expected) return;
      await Promise.all(pipes);
      const how = `code ${st.code}${st.signal ? `, signal ${st.signal}` : ""}`;
      this.#exits.push(how);
      await Deno.writeTextFile(this.spec.logFile, `--- ${this.id} EXITED (${how}) ---\n`, {
        append: true,
      }).catch(() => {});
    });
  }

  /** Exits the harness did not cause, e.g. "code 70" or "code 1, signal ...". */
  get unexpectedExits(): readonly string[] {
    return this.#exits;
  }

  /** SIGKILL (after SIGCONT when stopped) and wait for the exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#killing = true;
    this.#signal(child, "SIGCONT");
    this.#signal(child, "SIGKILL");
    this.#paused = false;
    await child.status;
    await Promise.all(this.#pipes);
    this.#child = null;
    this.#killing = false;
  }

  pause(): void {
    if (!this.#child || this.#paused) return;
    this.#signal(this.#child, "SIGSTOP");
    this.#paused = true;
  }

  resume(): void {
    if (!this.#child || !this.#paused) return;
    this.#signal(this.#child, "SIGCONT");
    this.#paused = false;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  #signal(child: Deno.ChildProcess, sig: Deno.Signal): void {
    try {
      child.kill(sig);
    } catch {
      // Already exited; status resolves.
    }
  }
}

/** A loopback port that was free a moment ago (the OS picks it). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** The last lines of a log, for error messages. */
export async function tail(file: string, lines = 20): Promise<string> {
  const text = await Deno.readTextFile(file).catch(() => "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
