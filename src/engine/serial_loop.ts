/**
 * One async worker loop at a time over a queue, with no lost wake-ups. A
 * `finally` that clears a "running" flag runs a microtask after the loop's
 * last look at its queue; work queued in that gap used to wait for the next
 * kick (jepsen found a follower stuck behind its commit index that way).
 * Here the loop looks again when a run ends.
 * @module
 */
export class SerialLoop {
  #running: Promise<void> | null = null;

  /** `body` drains the queue; `hasWork` says whether anything is queued. */
  constructor(
    readonly body: () => Promise<void>,
    readonly hasWork: () => boolean,
  ) {}

  get busy(): boolean {
    return this.#running !== null;
  }

  /** Starts a run unless one is going; queued work is never stranded. */
  kick(): void {
    if (this.#running) return;
    this.#running = this.body().finally(() => {
      this.#running = null;
      if (this.hasWork()) this.kick();
    });
  }

  /** Resolves once no run is going (and none was restarted). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }
}
