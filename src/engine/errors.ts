/**
 * Consensus-level failures the engine reports to its callers. Mapped to HTTP
 * once, in `routes/errors.ts`.
 * @module
 */

/** This node is not the leader; `leaderId`/`leaderUrl` name it if known. */
export class NotLeaderError extends Error {
  override name = "NotLeaderError";
  constructor(
    readonly leaderId: string | null,
    readonly leaderUrl: string | null,
  ) {
    super(
      leaderId ? `Not the leader; leader is "${leaderId}"` : "No leader known",
    );
  }
}

/** Leadership changed before the proposal committed: outcome unknown (503). */
export class LeadershipChangedError extends Error {
  override name = "LeadershipChangedError";
  constructor() {
    super("Leadership changed before the write committed; outcome unknown");
  }
}

/** The deadline passed before commit or read: outcome unknown (504). */
export class TimeoutError extends Error {
  override name = "TimeoutError";
  constructor(what = "Request") {
    // A read that timed out changed nothing; anything else may have written.
    const unknown = what === "Read" ? "" : "; a write may or may not have happened";
    super(`${what} did not complete in time${unknown}`);
  }
}

/** The node is shutting down or not caught up (503). */
export class UnavailableError extends Error {
  override name = "UnavailableError";
}

/**
 * A write would take the live data past `--quota-bytes` (etcd's "database
 * space exceeded"; 507 at the API). Deletes still go through.
 */
export class NoSpaceError extends Error {
  override name = "NoSpaceError";
  constructor(readonly quota: number, readonly live: number, readonly adding: number) {
    super(
      `Space quota exceeded: ${live} bytes of keys and values live, this write adds up to ` +
        `${adding}, the quota is ${quota}; delete keys or raise --quota-bytes`,
    );
  }
}

/** A membership request that cannot be done as asked (400/409 at the API). */
export class MembershipError extends Error {
  override name = "MembershipError";
}

/** A membership request names an id that is not a member (404 at the API). */
export class NotMemberError extends MembershipError {
  override name = "NotMemberError";
  constructor(id: string) {
    super(`"${id}" is not a member`);
  }
}

/**
 * A watch asked for history this node no longer holds (410 at the API);
 * `oldestIndex` is the smallest `fromIndex` it can still replay.
 */
export class CompactedError extends Error {
  override name = "CompactedError";
  constructor(readonly oldestIndex: number) {
    super(
      `Changes before index ${oldestIndex} are no longer held; watch from ${oldestIndex} or later`,
    );
  }
}

/**
 * Stops the process after an engine error that leaves memory and disk out
 * of step (TiKV panics): exit code 70 (EX_SOFTWARE), with the stack, since
 * such a failure is rare and the log line is all that is left of it.
 */
export function fatalExit(what: string, e: unknown): never {
  const msg = `${what} failed: ${e}`;
  const stack = e instanceof Error && e.stack ? e.stack : undefined;
  console.error(JSON.stringify({ level: "fatal", msg, stack }));
  Deno.exit(70);
}
