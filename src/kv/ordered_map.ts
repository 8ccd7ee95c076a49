/**
 * An ordered map from string keys in code point order (see `key_order.ts`)
 * to values: a hash map holds the values, and a list of blocks, each a
 * sorted array of at most {@link MAX_BLOCK} keys, holds the order. Gets and
 * overwrites (most puts) are one hash lookup; inserts and deletes also do
 * two binary searches and splice one block, O(log n + B) with B the block
 * size, which stays fast at a million keys without a B+tree's bookkeeping.
 * @module
 */
import { compareKeys } from "./key_order.ts";

/** A block splits in two when it grows past this many keys. */
const MAX_BLOCK = 512;
/** A block this small merges with a neighbour when the two fit in one. */
const MIN_BLOCK = 128;
/** Two blocks merge when together they hold at most this many keys. */
const MERGE_MAX = 384;
/** Bulk loads fill blocks this far, leaving room to grow. */
const FILL_BLOCK = 384;

interface Block {
  keys: string[];
}

/** Options of {@link OrderedMap.scan}. */
export interface ScanOptions {
  /** Descending order. @default false */
  readonly reverse?: boolean;
  /** At most this many entries. @default unlimited */
  readonly limit?: number;
}

/** A position: block index and index in that block. */
type Pos = [number, number];

/** A sorted map with range scans; see the module doc. */
export class OrderedMap<V> {
  #blocks: Block[] = [];
  #values = new Map<string, V>();
  /** Bumped when keys are added or removed, so scans re-seek. */
  #version = 0;

  /** Number of keys. */
  get size(): number {
    return this.#values.size;
  }

  /** The value of `key`, or undefined. */
  get(key: string): V | undefined {
    return this.#values.get(key);
  }

  /** True when `key` is present. */
  has(key: string): boolean {
    return this.#values.has(key);
  }

  /** Inserts or replaces. */
  set(key: string, value: V): void {
    const before = this.#values.size;
    this.#values.set(key, value); // one hash lookup, not has() and set()
    if (this.#values.size === before) return; // same key set: scans stay valid
    this.#version++;
    if (this.#blocks.length === 0) {
      this.#blocks.push({ keys: [key] });
      return;
    }
    const [b, i] = this.#locate(key);
    const block = this.#blocks[b]!;
    block.keys.splice(i, 0, key);
    if (block.keys.length > MAX_BLOCK) this.#split(b);
  }

  /** Removes `key`; true when it was present. */
  delete(key: string): boolean {
    if (!this.#values.delete(key)) return false;
    const [b, i] = this.#locate(key);
    const block = this.#blocks[b]!;
    block.keys.splice(i, 1);
    this.#version++;
    if (block.keys.length === 0) this.#blocks.splice(b, 1);
    else if (block.keys.length < MIN_BLOCK) this.#mergeAround(b);
    return true;
  }

  /** Removes everything. */
  clear(): void {
    this.#blocks = [];
    this.#values = new Map();
    this.#version++;
  }

  /**
   * Replaces the contents with entries already in strictly ascending key
   * order (a snapshot or a storage load); O(n).
   * @throws {RangeError} when the keys are not strictly ascending.
   */
  assignSorted(entries: Iterable<readonly [string, V]>): void {
    const blocks: Block[] = [];
    const values = new Map<string, V>();
    let prev: string | null = null;
    let cur: Block = { keys: [] };
    for (const [k, v] of entries) {
      if (prev !== null && compareKeys(prev, k) >= 0) {
        throw new RangeError(`Cannot load keys out of order at "${k}"`);
      }
      if (cur.keys.length === FILL_BLOCK) {
        blocks.push(cur);
        cur = { keys: [] };
      }
      cur.keys.push(k);
      values.set(k, v);
      prev = k;
    }
    if (cur.keys.length > 0) blocks.push(cur);
    this.#blocks = blocks;
    this.#values = values;
    this.#version++;
  }

  /**
   * Entries with `start <= key < end` (`end` null: unbounded) in key order,
   * or descending with `reverse`. Safe across mutations of the map: after
   * one, the scan re-seeks past the last key it returned.
   */
  *scan(
    start: string,
    end: string | null,
    opts: ScanOptions = {},
  ): Generator<[string, V]> {
    const limit = opts.limit ?? Infinity;
    if (limit <= 0) return;
    if (opts.reverse) yield* this.#scanDown(start, end, limit);
    else yield* this.#scanUp(start, end, limit);
  }

  /** All entries in key order. */
  entries(): Generator<[string, V]> {
    return this.scan("", null);
  }

  [Symbol.iterator](): Generator<[string, V]> {
    return this.entries();
  }

  *#scanUp(start: string, end: string | null, limit: number) {
    let [b, i] = this.#seekGE(start, false);
    let version = this.#version;
    for (let n = 0; n < limit; n++) {
      const block = this.#blocks[b];
      if (!block) return;
      const key = block.keys[i]!;
      if (end !== null && compareKeys(key, end) >= 0) return;
      yield [key, this.#values.get(key)!] as [string, V];
      if (version !== this.#version) {
        [b, i] = this.#seekGE(key, true);
        version = this.#version;
      } else if (++i === block.keys.length) {
        b++;
        i = 0;
      }
    }
  }

  *#scanDown(start: string, end: string | null, limit: number) {
    let [b, i] = end === null ? this.#lastPos() : this.#seekLT(end);
    let version = this.#version;
    for (let n = 0; n < limit && b >= 0; n++) {
      const block = this.#blocks[b]!;
      const key = block.keys[i]!;
      if (compareKeys(key, start) < 0) return;
      yield [key, this.#values.get(key)!] as [string, V];
      if (version !== this.#version) {
        [b, i] = this.#seekLT(key);
        version = this.#version;
      } else if (--i < 0) {
        b--;
        i = b >= 0 ? this.#blocks[b]!.keys.length - 1 : 0;
      }
    }
  }

  /** The block that holds or would hold `key`, and the index in it. */
  #locate(key: string): Pos {
    const blocks = this.#blocks;
    const compareKeys = comparatorFor(key);
    let lo = 0;
    let hi = blocks.length - 1;
    // First block whose last key >= key; the last block when none is.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const keys = blocks[mid]!.keys;
      if (compareKeys(keys[keys.length - 1]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    const block = blocks[lo];
    return [lo, block ? lowerBound(block.keys, key, compareKeys) : 0];
  }

  /** First position with key >= `key` (> with `strict`); past the end: blocks.length. */
  #seekGE(key: string, strict: boolean): Pos {
    let [b, i] = this.#locate(key);
    const block = this.#blocks[b];
    if (!block) return [this.#blocks.length, 0];
    if (strict && block.keys[i] === key) i++;
    if (i >= block.keys.length) return [b + 1, 0];
    return [b, i];
  }

  /** Last position with key < `key`, or [-1, 0]. */
  #seekLT(key: string): Pos {
    const [b, i] = this.#locate(key);
    if (!this.#blocks[b]) return [-1, 0];
    if (i > 0) return [b, i - 1];
    if (b === 0) return [-1, 0];
    return [b - 1, this.#blocks[b - 1]!.keys.length - 1];
  }

  #lastPos(): Pos {
    const b = this.#blocks.length - 1;
    return b < 0 ? [-1, 0] : [b, this.#blocks[b]!.keys.length - 1];
  }

  #split(b: number): void {
    const block = this.#blocks[b]!;
    const half = block.keys.length >>> 1;
    const right: Block = { keys: block.keys.splice(half) };
    this.#blocks.splice(b + 1, 0, right);
  }

  /** Merges block `b` into a neighbour when both fit in one block. */
  #mergeAround(b: number): void {
    for (const left of [b - 1, b]) {
      const l = this.#blocks[left];
      const r = this.#blocks[left + 1];
      if (!l || !r || l.keys.length + r.keys.length > MERGE_MAX) continue;
      l.keys.push(...r.keys);
      this.#blocks.splice(left + 1, 1);
      return;
    }
  }
}

/** A code unit at or above the surrogates (where UTF-16 order can differ). */
const HIGH_UNIT = /[\ud800-\uffff]/;

const compareUnits = (a: string, b: string) => a < b ? -1 : a > b ? 1 : 0;

/**
 * The comparator for searches of `key`. When `key` has no code unit at or
 * above U+D800, JavaScript's `<` already orders it against any key in code
 * point order: at the first difference its unit is a code point below every
 * surrogate and every U+E000..U+FFFF, in both orders. Native comparison is
 * several times cheaper, and this runs on every put.
 */
function comparatorFor(key: string): (a: string, b: string) => number {
  return HIGH_UNIT.test(key) ? compareKeys : compareUnits;
}

/** First index in sorted `keys` whose key is >= `key`. */
function lowerBound(
  keys: readonly string[],
  key: string,
  compareKeys: (a: string, b: string) => number,
): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
