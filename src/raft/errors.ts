/**
 * Errors of the consensus core. Consensus errors (a proposal was dropped)
 * and storage errors (an index is compacted or not yet available) are
 * distinct, as in raft-rs `Error` / `StorageError`.
 * @module
 */

/** Base class of every error the core throws on purpose. */
export class RaftError extends Error {
  override name = "RaftError";
}

/**
 * A proposal was not appended: this node is not the leader, a leader
 * transfer is in progress, or a conf change is not allowed right now. The
 * caller may retry elsewhere; nothing was written.
 */
export class ProposalDroppedError extends RaftError {
  override name = "ProposalDroppedError";
}

/** Storage: the requested index precedes the first available entry (§7). */
export class CompactedError extends RaftError {
  override name = "CompactedError";
  constructor(message = "Cannot read compacted log index") {
    super(message);
  }
}

/** Storage: the requested index is beyond the last entry. */
export class UnavailableError extends RaftError {
  override name = "UnavailableError";
  constructor(message = "Cannot read log index: entry not available") {
    super(message);
  }
}

/** Storage: no snapshot can be produced right now; the leader keeps probing. */
export class SnapshotTemporarilyUnavailableError extends RaftError {
  override name = "SnapshotTemporarilyUnavailableError";
  constructor(message = "Cannot read snapshot: temporarily unavailable") {
    super(message);
  }
}

/** Storage: a snapshot older than the current one was offered. */
export class SnapshotOutOfDateError extends RaftError {
  override name = "SnapshotOutOfDateError";
  constructor(message = "Cannot install snapshot: older than the current one") {
    super(message);
  }
}

/** True for the storage errors the log treats as "index out of range". */
export function isLogRangeError(e: unknown): boolean {
  return e instanceof CompactedError || e instanceof UnavailableError;
}
