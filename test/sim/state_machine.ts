/**
 * The simulated replicated state machine: a hash chain over the applied
 * entries. Two nodes agree on the state at index i iff their hashes at i are
 * equal, which is what State Machine Safety (Figure 3) compares. A snapshot's
 * data is the serialized chain head, so installing one is checkable too.
 * @module
 */
import type { Entry, Snapshot } from "../../src/raft/mod.ts";

/** The state after applying every entry up to and including `index`. */
export interface SmState {
  readonly index: number;
  readonly hash: number;
}

/** FNV-1a over `text`, continuing from `hash`. */
export function fnv(hash: number, text: string): number {
  let h = hash >>> 0;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h;
}

const EMPTY_HASH = 0x811c9dc5;

/** Durable with the node: survives crashes, like the kv engine's data.kv. */
export class HashStateMachine {
  #state: SmState = { index: 0, hash: EMPTY_HASH };

  get index(): number {
    return this.#state.index;
  }

  get hash(): number {
    return this.#state.hash;
  }

  /** Applies the next entry. Invariant: `e.index === index + 1`. */
  apply(e: Entry): void {
    if (e.index !== this.#state.index + 1) {
      throw new Error(
        `Apply gap: applied ${this.#state.index}, got entry ${e.index}`,
      );
    }
    const hash = fnv(this.#state.hash, `${e.type}:${e.data};`);
    this.#state = { index: e.index, hash };
  }

  /** Serializes the current state as snapshot data. */
  snapshotData(): string {
    return JSON.stringify(this.#state);
  }

  /** Replaces the state by a snapshot's (§7); data must match meta.index. */
  restore(snap: Snapshot): void {
    const state = parseSmState(snap);
    if (state.index !== snap.meta.index) {
      throw new Error(
        `Snapshot data at ${state.index} does not match meta index ${snap.meta.index}`,
      );
    }
    this.#state = state;
  }
}

/**
 * Decodes snapshot data written by {@link HashStateMachine.snapshotData}.
 * The bootstrap snapshot carries no data: it is the empty state.
 */
export function parseSmState(snap: Snapshot): SmState {
  if (snap.data === "" && snap.meta.index === 0) {
    return { index: snap.meta.index, hash: EMPTY_HASH };
  }
  const v = JSON.parse(snap.data) as SmState;
  return { index: v.index, hash: v.hash };
}
