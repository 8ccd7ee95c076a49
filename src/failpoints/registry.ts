/**
 * Failpoints (TiKV's `fail` crate idea): named places in the engine,
 * transport and storage where a test can inject a fault. Off by default; a
 * node enables them only with `--enable-failpoints`, and they are driven
 * through `/debug/failpoints`. When disabled, `get()` is one boolean check.
 * @module
 */

/** What a failpoint does when reached. */
export type FailAction =
  /** Throw a FailpointError (a failed Deno KV commit, a failed send). */
  | { readonly kind: "error" }
  /** Wait `ms` before going on (a slow disk, a slow link). */
  | { readonly kind: "delay"; readonly ms: number }
  /** Drop the message (transport); `peers` limits it to those targets. */
  | { readonly kind: "drop"; readonly peers?: readonly string[] }
  /** Hold until the failpoint is changed or cleared (pause apply). */
  | { readonly kind: "pause" }
  /** Kill the process at once, as SIGKILL would. */
  | { readonly kind: "crash" };

/** The failpoints the code evaluates; the route rejects other names. */
export const FAILPOINT_NAMES = [
  "transport.send",
  "transport.receive",
  "storage.raft.commit",
  "storage.data.commit",
  "peer.after_persist_before_send",
  "apply.before",
] as const;
export type FailpointName = typeof FAILPOINT_NAMES[number];

export class FailpointError extends Error {
  override name = "FailpointError";
  constructor(point: string) {
    super(`Failpoint "${point}" injected an error`);
  }
}

export class Failpoints {
  #enabled = false;
  #actions = new Map<FailpointName, FailAction>();
  #waiters = new Set<() => void>();

  get enabled(): boolean {
    return this.#enabled;
  }

  enable(): void {
    this.#enabled = true;
  }

  /** The action set at `name`, or undefined (always when disabled). */
  get(name: FailpointName): FailAction | undefined {
    if (!this.#enabled) return undefined;
    return this.#actions.get(name);
  }

  set(name: FailpointName, action: FailAction): void {
    this.#actions.set(name, action);
    this.#wake();
  }

  clear(name?: FailpointName): void {
    if (name) this.#actions.delete(name);
    else this.#actions.clear();
    this.#wake();
  }

  list(): Record<string, FailAction> {
    return Object.fromEntries(this.#actions);
  }

  /**
   * Evaluates a failpoint on an async path: throws for `error`, sleeps for
   * `delay`, waits for `pause` to be lifted, exits for `crash`. `drop` is
   * the caller's to interpret (see `shouldDrop`).
   */
  async eval(name: FailpointName): Promise<void> {
    let action = this.get(name);
    while (action) {
      switch (action.kind) {
        case "error":
          throw new FailpointError(name);
        case "delay": {
          const ms = action.ms;
          await new Promise((r) => setTimeout(r, ms));
          return;
        }
        case "crash":
          // Exit at once: no handlers, no flush, like SIGKILL.
          Deno.exit(137);
          return;
        case "pause":
          await new Promise<void>((r) => this.#waiters.add(r));
          action = this.get(name);
          continue;
        case "drop":
          return;
      }
    }
  }

  /** True when `name` is set to drop messages to `peer`. */
  shouldDrop(name: FailpointName, peer: string): boolean {
    const a = this.get(name);
    return a?.kind === "drop" && (!a.peers || a.peers.includes(peer));
  }

  #wake(): void {
    const ws = [...this.#waiters];
    this.#waiters.clear();
    for (const w of ws) w();
  }
}

/** The process-wide registry (one node per process). */
export const failpoints = new Failpoints();
