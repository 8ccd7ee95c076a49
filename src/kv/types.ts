/**
 * The key-value state machine's command and result shapes (API.md §3).
 * Values are kept as their JSON text: the state machine never parses them,
 * and responses splice them in without a re-encode.
 * @module
 */

/** A stored record. `value` is the JSON text of the user's value. */
export interface KvRecord {
  readonly key: string;
  readonly value: string;
  /** Writes since the key was (re)created, starting at 1. */
  readonly version: number;
  /** Log index of the entry that created the key. */
  readonly createIndex: number;
  /** Log index of the entry that last changed the key. */
  readonly modIndex: number;
}

/** What a txn compare reads from the key's record. */
export type CompareTarget =
  | "value"
  | "version"
  | "modIndex"
  | "createIndex"
  | "exists";
/** A compare operator; `<` / `>` order numbers, and strings by code point. */
export type CompareOp = "==" | "!=" | "<" | ">";

/** `value` is JSON text for target "value", else a number or boolean. */
export interface Compare {
  readonly key: string;
  readonly target: CompareTarget;
  readonly op: CompareOp;
  readonly value: string | number | boolean;
}

/** One operation of a txn branch, applied in order. */
export type TxnOp =
  | { readonly op: "put"; readonly key: string; readonly value: string }
  | { readonly op: "delete"; readonly key: string }
  | { readonly op: "get"; readonly key: string };

/**
 * A key range: `[start, end)` in UTF-8 byte order (= code point order);
 * `end` null = unbounded. A prefix is the range `[p, prefixEnd(p))`.
 */
export interface KeyRange {
  readonly start: string;
  readonly end: string | null;
}

/** Commands proposed through the log. One command per log entry. */
export type KvCommand =
  | {
    readonly type: "put";
    readonly key: string;
    readonly value: string;
    /** `If-Match`: write only if the current modIndex equals this. */
    readonly ifModIndex?: number;
    /** `If-None-Match: *`: write only if the key does not exist. */
    readonly ifAbsent?: boolean;
    readonly prev?: boolean;
  }
  | {
    readonly type: "delete";
    readonly key: string;
    readonly ifModIndex?: number;
  }
  | { readonly type: "deleteRange"; readonly range: KeyRange }
  | {
    readonly type: "txn";
    readonly compare: readonly Compare[];
    readonly success: readonly TxnOp[];
    readonly failure: readonly TxnOp[];
  };

/** Per op of the branch taken: get -> record or null, put -> record, delete -> count. */
export type TxnOpResult = KvRecord | null | { readonly deleted: 0 | 1 };

/** What applying a command produced. A failed precondition is a result. */
export type KvResult =
  | {
    readonly type: "put";
    readonly record: KvRecord;
    readonly prev: KvRecord | null;
  }
  | { readonly type: "delete"; readonly deleted: 0 | 1 }
  | { readonly type: "deleteRange"; readonly deleted: number }
  | {
    readonly type: "txn";
    readonly succeeded: boolean;
    readonly results: readonly TxnOpResult[];
  }
  | { readonly type: "preconditionFailed"; readonly current: KvRecord | null };

/**
 * One change to one key, as a watcher sees it (API.md §5). A put carries the
 * new record; a delete the key and the index of the entry that deleted it.
 */
export type KvChange =
  | { readonly type: "put"; readonly record: KvRecord }
  | { readonly type: "delete"; readonly key: string; readonly modIndex: number };
