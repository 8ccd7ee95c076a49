/**
 * The only owner of time: calls `fn` once per tick. Tests use ManualTicker
 * and drive ticks themselves, with no sleeps.
 * @module
 */
export interface Ticker {
  start(fn: () => void): void;
  stop(): void;
}

export class IntervalTicker implements Ticker {
  #id: ReturnType<typeof setInterval> | undefined;
  constructor(readonly ms: number) {}

  start(fn: () => void): void {
    this.#id = setInterval(fn, this.ms);
  }

  stop(): void {
    clearInterval(this.#id);
  }
}

export class ManualTicker implements Ticker {
  #fn: (() => void) | undefined;

  start(fn: () => void): void {
    this.#fn = fn;
  }

  stop(): void {
    this.#fn = undefined;
  }

  tick(n = 1): void {
    for (let i = 0; i < n; i++) this.#fn?.();
  }
}
