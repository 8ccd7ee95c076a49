/**
 * The leader lease behind `consistency=lease` reads (TiKV's LocalReader).
 * A quorum that acknowledged a heartbeat round sent at time T will not elect
 * another leader before T + election timeout (followers ignore votes while
 * they hear from a leader: check-quorum stickiness), so the leader may serve
 * reads alone until T + electionTimeout - drift, on the monotonic clock.
 * @module
 */
export class LeaderLease {
  #until = -Infinity;

  constructor(readonly durationMs: number) {}

  /** A quorum confirmed a round this leader sent at `issuedAt`. */
  renew(issuedAt: number, term: number): void {
    if (term !== this.#term) {
      this.#term = term;
      this.#until = -Infinity;
    }
    this.#until = Math.max(this.#until, issuedAt + this.durationMs);
  }

  #term = 0;

  /** Valid only for the term it was earned in. */
  valid(now: number, term: number): boolean {
    return term === this.#term && now < this.#until;
  }

  expire(): void {
    this.#until = -Infinity;
  }
}
