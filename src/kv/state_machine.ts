/**
 * The deterministic key-value state machine (API.md §3). `apply` depends
 * only on the current state, the entry's index and the command, so every
 * replica that applies the same log reaches the same state. No I/O: the
 * engine drains the changed keys after each apply batch and persists them
 * in one kv-engine commit together with the applied index.
 * @module
 */
import { evalCompare } from "./compare.ts";
import { compareKeys } from "./key_order.ts";
import { OrderedMap } from "./ordered_map.ts";
import type {
  KeyRange,
  KvChange,
  KvCommand,
  KvRecord,
  KvResult,
  TxnOp,
  TxnOpResult,
} from "./types.ts";

/** The keys changed since the last drain, each in its last state. */
export interface DirtySet {
  readonly puts: KvRecord[];
  readonly deletes: string[];
}

/** Options of {@link KvStateMachine.range}. */
export interface RangeOptions {
  readonly limit?: number;
  readonly reverse?: boolean;
}

/** The state machine; see the module doc. */
export class KvStateMachine {
  #map = new OrderedMap<KvRecord>();
  /** Key -> its record after the last change, or null when deleted. */
  #dirty = new Map<string, KvRecord | null>();
  /**
   * Told of every change in the order applied (the watch hub). Only the
   * state machine knows what a range delete deleted or whether a
   * precondition held, so the changes come from here. `load` tells nothing.
   */
  onChange: ((change: KvChange) => void) | undefined = undefined;

  /** Number of keys. */
  get size(): number {
    return this.#map.size;
  }

  /** Code units of every live key and value (what `--quota-bytes` bounds). */
  get liveBytes(): number {
    return this.#liveBytes;
  }
  #liveBytes = 0;

  /**
   * Applies the command of log entry `index`. A failed precondition is a
   * result (`preconditionFailed`), never an exception.
   */
  apply(index: number, cmd: KvCommand): KvResult {
    switch (cmd.type) {
      case "put":
        return this.#applyPut(index, cmd);
      case "delete": {
        const cur = this.#map.get(cmd.key) ?? null;
        if (cmd.ifModIndex !== undefined && cur?.modIndex !== cmd.ifModIndex) {
          return { type: "preconditionFailed", current: cur };
        }
        return { type: "delete", deleted: this.#delete(index, cmd.key) };
      }
      case "deleteRange":
        return { type: "deleteRange", deleted: this.#deleteRange(index, cmd.range) };
      case "txn": {
        const ok = cmd.compare.every((c) => evalCompare(c, this.#map.get(c.key) ?? null));
        const ops = ok ? cmd.success : cmd.failure;
        const results = ops.map((op) => this.#applyTxnOp(index, op));
        return { type: "txn", succeeded: ok, results };
      }
    }
  }

  /** The record of `key`, or null. */
  get(key: string): KvRecord | null {
    return this.#map.get(key) ?? null;
  }

  /** Records in `range` in key order (descending with `reverse`). */
  range(range: KeyRange, opts: RangeOptions = {}): KvRecord[] {
    const out: KvRecord[] = [];
    const scan = this.#map.scan(range.start, range.end, {
      reverse: opts.reverse ?? false,
      limit: opts.limit ?? Infinity,
    });
    for (const [, rec] of scan) out.push(rec);
    return out;
  }

  /**
   * Every record in key order (for snapshots). The iteration tolerates
   * applies in between: it continues after the last key it returned.
   */
  *entries(): Generator<KvRecord> {
    for (const [, rec] of this.#map.entries()) yield rec;
  }

  /**
   * Replaces the whole state (boot or snapshot install). Records may come
   * in any order; keys must be unique. Clears the dirty set: what was
   * loaded is already durable.
   */
  load(records: Iterable<KvRecord>): void {
    const list = [...records];
    if (!isSorted(list)) list.sort((a, b) => compareKeys(a.key, b.key));
    this.#map.assignSorted(list.map((r) => [r.key, r] as const));
    this.#liveBytes = list.reduce((n, r) => n + recordBytes(r), 0);
    this.#dirty.clear();
  }

  /** Empties the state and the dirty set. */
  reset(): void {
    this.#map.clear();
    this.#liveBytes = 0;
    this.#dirty.clear();
  }

  /** The keys changed since the last drain, in their last state; clears. */
  drain(): DirtySet {
    const puts: KvRecord[] = [];
    const deletes: string[] = [];
    for (const [key, rec] of this.#dirty) {
      if (rec) puts.push(rec);
      else deletes.push(key);
    }
    this.#dirty.clear();
    return { puts, deletes };
  }

  /** True when changes await a drain. */
  get dirty(): boolean {
    return this.#dirty.size > 0;
  }

  #applyPut(index: number, cmd: KvCommand & { type: "put" }): KvResult {
    const cur = this.#map.get(cmd.key) ?? null;
    const ifMatchFails = cmd.ifModIndex !== undefined &&
      cur?.modIndex !== cmd.ifModIndex;
    if (ifMatchFails || (cmd.ifAbsent && cur !== null)) {
      return { type: "preconditionFailed", current: cur };
    }
    const record = this.#put(index, cmd.key, cmd.value, cur);
    return { type: "put", record, prev: cmd.prev ? cur : null };
  }

  #applyTxnOp(index: number, op: TxnOp): TxnOpResult {
    switch (op.op) {
      case "get":
        return this.#map.get(op.key) ?? null;
      case "delete":
        return { deleted: this.#delete(index, op.key) };
      case "put":
        return this.#put(index, op.key, op.value, this.#map.get(op.key) ?? null);
    }
  }

  #put(
    index: number,
    key: string,
    value: string,
    cur: KvRecord | null,
  ): KvRecord {
    const record: KvRecord = {
      key,
      value,
      version: cur ? cur.version + 1 : 1,
      createIndex: cur ? cur.createIndex : index,
      modIndex: index,
    };
    this.#map.set(key, record);
    this.#liveBytes += recordBytes(record) - (cur ? recordBytes(cur) : 0);
    this.#dirty.set(key, record);
    this.onChange?.({ type: "put", record });
    return record;
  }

  #delete(index: number, key: string): 0 | 1 {
    const cur = this.#map.get(key);
    if (!cur || !this.#map.delete(key)) return 0;
    this.#liveBytes -= recordBytes(cur);
    this.#dirty.set(key, null);
    this.onChange?.({ type: "delete", key, modIndex: index });
    return 1;
  }

  #deleteRange(index: number, range: KeyRange): number {
    // Collect first: deleting while scanning would make the scan re-seek
    // after every key.
    const keys: string[] = [];
    for (const [k] of this.#map.scan(range.start, range.end)) keys.push(k);
    for (const k of keys) this.#delete(index, k);
    return keys.length;
  }
}

const recordBytes = (r: KvRecord) => r.key.length + r.value.length;

function isSorted(list: readonly KvRecord[]): boolean {
  for (let i = 1; i < list.length; i++) {
    if (compareKeys(list[i - 1]!.key, list[i]!.key) >= 0) return false;
  }
  return true;
}
