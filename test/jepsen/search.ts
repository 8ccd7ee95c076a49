/**
 * Wing & Gong's linearizability search with Lowe's just-in-time refinement
 * and memoization (as in Porcupine): a depth-first search over a doubly
 * linked list of call/return events, remembering every (linearized set,
 * model state) already explored. The set is kept as a Zobrist hash (two
 * random 32-bit words per op): a false "already seen" needs a 64-bit
 * collision.
 *
 * Pruning, each sound and complete:
 * - an op that must happen (`required`) and leaves the state unchanged is
 *   linearized greedily: if the search fails after it, it fails without it,
 *   so backtracking pops past it;
 * - an optional op (outcome unknown) that would not change the state is never
 *   linearized: leaving it out keeps more options;
 * - optional ops of one `pool` are interchangeable, so only the earliest
 *   invoked one still pending is tried (the used ones are a prefix);
 * - of two configurations with the same required ops and state, the one that
 *   used fewer optional ops dominates (see `search_memo.ts`);
 * - ops on the `chain` (writes whose log index is known) must be linearized
 *   in chain order;
 * - an optional op right before an op that would have done the same
 *   without it is pointless;
 * - required ops are tried before optional ones at each point.
 * @module
 */

import { Events } from "./search_events.ts";
import { Memo, type Used } from "./search_memo.ts";

export const INVALID = -0x7fffffff;

export interface SearchOp {
  readonly start: number;
  /** +Infinity for optional ops: they may take effect any time after start. */
  readonly end: number;
  /** Must be linearized (completed ok, or observed). */
  readonly required: boolean;
  /** 0, or a pool id (1..30) of interchangeable optional ops. */
  readonly pool: number;
  /** -1, or the position in the chain of known-order writes. */
  readonly chain: number;
}

export interface SearchInput {
  readonly ops: readonly SearchOp[];
  readonly init: number;
  /** The state after op `i` in `state`, or INVALID when not allowed. */
  step(i: number, state: number): number;
}

export interface SearchLimits {
  /** Give up (result "unknown") after this long. */
  readonly budgetMs: number;
  /** Give up after this many memoized configurations (memory bound). */
  readonly maxConfigs: number;
}

export type SearchResult =
  | { readonly result: "ok"; readonly configs: number }
  | {
    readonly result: "violation" | "unknown";
    readonly configs: number;
    /** The op that blocked the deepest attempt (-1 when none). */
    readonly blocker: number;
    /** States the model could be in when `blocker` had to complete. */
    readonly states: readonly BlockedState[];
  };

/** A state and the op that put the model in it (-1: the initial state). */
export interface BlockedState {
  readonly state: number;
  readonly writer: number;
}

interface Frame {
  readonly op: number;
  readonly state: number;
  readonly used: Used | null;
  readonly optionalPhase: boolean;
  readonly greedy: boolean;
}

/** Decides whether `input.ops` has a linearization from `input.init`. */
export function search(input: SearchInput, limits: SearchLimits): SearchResult {
  return new Search(input, limits).run();
}

class Search {
  readonly #ops: readonly SearchOp[];
  readonly #ev: Events;
  readonly #memo = new Memo();
  readonly #z1: Int32Array;
  readonly #z2: Int32Array;
  readonly #stack: Frame[] = [];
  readonly #pools: Pools;
  readonly #isUsed: Uint8Array;
  #used: Used | null = null;
  #state: number;
  #h1 = 0;
  #h2 = 0;
  #pos = 0;
  #blocker = -1;
  #blockerEnd = -Infinity;
  #blockStates = new Map<number, BlockedState>();

  constructor(readonly input: SearchInput, readonly limits: SearchLimits) {
    this.#ops = input.ops;
    this.#ev = new Events(input.ops);
    this.#state = input.init;
    this.#pools = new Pools(input.ops);
    this.#isUsed = new Uint8Array(input.ops.length);
    [this.#z1, this.#z2] = zobrist(input.ops.length);
  }

  run(): SearchResult {
    const deadline = performance.now() + this.limits.budgetMs;
    let entry = this.#ev.first();
    let optionalPhase = false;
    for (let iter = 1;; iter++) {
      if ((iter & 1023) === 0 && this.#overLimits(deadline)) {
        return this.#failure("unknown");
      }
      if (entry < 0 && !optionalPhase) return this.#ok();
      if (entry < 0 || this.#ev.isReturn(entry)) {
        if (!optionalPhase) {
          [entry, optionalPhase] = [this.#ev.first(), true];
          continue;
        }
        if (entry >= 0) this.#noteBlocked(this.#ev.opOf(entry));
        const f = this.#backtrack();
        if (!f) return this.#failure("violation");
        [entry, optionalPhase] = [this.#ev.after(f.op), f.optionalPhase];
        continue;
      }
      const i = this.#ev.opOf(entry);
      const op = this.#ops[i] as SearchOp;
      if (op.required === optionalPhase || !this.#tryLinearize(i, op)) {
        entry = this.#ev.next(entry);
        continue;
      }
      [entry, optionalPhase] = [this.#ev.first(), false];
    }
  }

  #tryLinearize(i: number, op: SearchOp): boolean {
    if (op.chain >= 0 && op.chain !== this.#pos) return false;
    if (op.pool > 0 && !this.#pools.isNext(op.pool, i)) return false;
    const next = this.input.step(i, this.#state);
    if (next === INVALID) return false;
    if (!op.required && next === this.#state) return false;
    if (this.#afterUselessOptional(i, next)) return false;
    const [h1, h2] = op.required
      ? [this.#h1 ^ (this.#z1[i] as number), this.#h2 ^ (this.#z2[i] as number)]
      : [this.#h1, this.#h2];
    const used = op.required
      ? this.#used
      : { op: i, prev: this.#used, size: (this.#used?.size ?? 0) + 1 };
    this.#isUsed[i] = 1;
    if (!this.#memo.add(h1, h2, next, used, this.#usedFn)) {
      this.#isUsed[i] = 0;
      return false;
    }
    this.#stack.push({
      op: i,
      state: this.#state,
      used: this.#used,
      optionalPhase: !op.required,
      greedy: op.required && op.chain < 0 && next === this.#state,
    });
    this.#ev.lift(i);
    this.#pools.take(op.pool);
    [this.#state, this.#h1, this.#h2, this.#used] = [next, h1, h2, used];
    if (op.chain >= 0) this.#pos++;
    return true;
  }

  /**
   * True when the last op linearized was optional and op i would have done
   * the same without it: that optional op achieved nothing, and the path
   * without it (tried before optional ops are) dominates this one.
   */
  #afterUselessOptional(i: number, next: number): boolean {
    const top = this.#stack[this.#stack.length - 1];
    if (!top || (this.#ops[top.op] as SearchOp).required) return false;
    return this.input.step(i, top.state) === next;
  }

  readonly #usedFn = (op: number): boolean => this.#isUsed[op] === 1;

  /** Pops to the last choice that may still have alternatives. */
  #backtrack(): Frame | undefined {
    for (;;) {
      const f = this.#stack.pop();
      if (!f) return undefined;
      const op = this.#ops[f.op] as SearchOp;
      this.#ev.unlift(f.op);
      this.#pools.untake(op.pool);
      this.#isUsed[f.op] = 0;
      [this.#state, this.#used] = [f.state, f.used];
      if (op.required) {
        this.#h1 ^= this.#z1[f.op] as number;
        this.#h2 ^= this.#z2[f.op] as number;
      }
      if (op.chain >= 0) this.#pos--;
      if (!f.greedy) return f;
    }
  }

  #noteBlocked(i: number): void {
    const end = (this.#ops[i] as SearchOp).end;
    if (end > this.#blockerEnd) {
      [this.#blocker, this.#blockerEnd] = [i, end];
      this.#blockStates = new Map();
    }
    const s = this.#state;
    if (i === this.#blocker && this.#blockStates.size < 16) {
      if (!this.#blockStates.has(s)) {
        this.#blockStates.set(s, { state: s, writer: this.#lastWriter() });
      }
    }
  }

  /** The last linearized op that changed the state, or -1. */
  #lastWriter(): number {
    let after = this.#state;
    for (let k = this.#stack.length - 1; k >= 0; k--) {
      const f = this.#stack[k] as Frame;
      if (f.state !== after) return f.op;
      after = f.state;
    }
    return -1;
  }

  #overLimits(deadline: number): boolean {
    return performance.now() > deadline ||
      this.#memo.size > this.limits.maxConfigs;
  }

  #ok(): SearchResult {
    return { result: "ok", configs: this.#memo.size };
  }

  #failure(result: "violation" | "unknown"): SearchResult {
    return {
      result,
      configs: this.#memo.size,
      blocker: this.#blocker,
      states: [...this.#blockStates.values()],
    };
  }
}

/** Pool members in call order, and how many of each are linearized. */
class Pools {
  readonly #members = new Map<number, number[]>();
  readonly #taken = new Map<number, number>();

  constructor(ops: readonly SearchOp[]) {
    const idx = [...ops.keys()].filter((i) => (ops[i] as SearchOp).pool > 0);
    idx.sort((a, b) => (ops[a] as SearchOp).start - (ops[b] as SearchOp).start || a - b);
    for (const i of idx) {
      const p = (ops[i] as SearchOp).pool;
      const list = this.#members.get(p) ?? [];
      list.push(i);
      this.#members.set(p, list);
    }
  }

  isNext(pool: number, op: number): boolean {
    return this.#members.get(pool)?.[this.#taken.get(pool) ?? 0] === op;
  }

  take(pool: number): void {
    if (pool > 0) this.#taken.set(pool, (this.#taken.get(pool) ?? 0) + 1);
  }

  untake(pool: number): void {
    if (pool > 0) this.#taken.set(pool, (this.#taken.get(pool) ?? 1) - 1);
  }
}

/** Two independent random words per op, from a fixed seed (reproducible). */
function zobrist(n: number): [Int32Array, Int32Array] {
  let x = 0x9e3779b9 | 0;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x | 0;
  };
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  for (let i = 0; i < n; i++) [a[i], b[i]] = [rnd(), rnd()];
  return [a, b];
}
