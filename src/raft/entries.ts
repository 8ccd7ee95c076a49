/**
 * Small helpers over entry slices shared by the log and storage.
 * @module
 */
import type { Entry } from "./types.ts";

/** Size of an entry as counted against `maxSizePerMsg`: its data length. */
export function entrySize(e: Entry): number {
  return e.data.length;
}

/**
 * The longest prefix of `ents` whose total size is <= `maxSize`, but never
 * fewer than one entry (a message always makes progress).
 */
export function limitSize(ents: Entry[], maxSize: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = 0;
  for (let i = 0; i < ents.length; i++) {
    size += entrySize(ents[i]!);
    if (i > 0 && size > maxSize) return ents.slice(0, i);
  }
  return ents;
}

/**
 * True when `ents` are contiguous from `first` with non-decreasing terms
 * within `[minTerm, maxTerm]` (Log Matching needs this of any MsgApp).
 */
export function isContiguous(
  ents: readonly Entry[],
  first: number,
  terms: { min: number; max: number },
): boolean {
  let prevTerm = terms.min;
  for (let i = 0; i < ents.length; i++) {
    const e = ents[i]!;
    if (e.index !== first + i || e.term < prevTerm || e.term > terms.max) {
      return false;
    }
    prevTerm = e.term;
  }
  return true;
}
