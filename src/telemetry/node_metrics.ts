/**
 * Every metric a node exports (API.md §6 `/metrics`), created once by
 * `main.ts` and passed to the engine, transport and routes.
 * @module
 */
import { LATENCY_BUCKETS, Registry, SIZE_BUCKETS } from "./metrics.ts";

export function createNodeMetrics(registry = new Registry()) {
  const m = defineMetrics(registry);
  // Series that exist before their first event, so rates and alerts see 0.
  m.leaderChanges.init();
  m.snapshotsSent.init();
  m.snapshotsReceived.init();
  m.watchers.set(0);
  for (const outcome of PROPOSAL_OUTCOMES) m.proposals.init({ outcome });
  for (const engine of ["raft", "data"]) m.kvCommits.init({ engine });
  m.readIndex.init({ outcome: "ok" });
  return m;
}

/** Outcomes of `raftkv_proposals_total` (ProposalQueue's ProposalOutcome). */
export const PROPOSAL_OUTCOMES = [
  "applied",
  "leadership_changed",
  "timeout",
  "shutdown",
] as const;

function defineMetrics(r: Registry) {
  return {
    registry: r,
    httpRequests: r.counter(
      "raftkv_http_requests_total",
      "HTTP requests by route, method and status code",
    ),
    httpLatency: r.histogram(
      "raftkv_http_request_duration_seconds",
      "HTTP request latency by route and code",
      LATENCY_BUCKETS,
    ),
    term: r.gauge("raftkv_raft_term", "Current Raft term"),
    isLeader: r.gauge(
      "raftkv_raft_is_leader",
      "1 when this node is the leader",
    ),
    state: r.gauge(
      "raftkv_raft_state",
      "Raft role: 0 follower, 1 candidate, 2 leader",
    ),
    leaderChanges: r.counter(
      "raftkv_raft_leader_changes_total",
      "Times the known leader changed",
    ),
    commitIndex: r.gauge("raftkv_raft_commit_index", "Commit index"),
    appliedIndex: r.gauge("raftkv_raft_applied_index", "Applied index"),
    lastIndex: r.gauge("raftkv_raft_last_index", "Last log index"),
    snapshotIndex: r.gauge(
      "raftkv_raft_snapshot_index",
      "Index of the last compaction/snapshot",
    ),
    proposals: r.counter(
      "raftkv_proposals_total",
      "Proposals by outcome (applied, leadership_changed, timeout, shutdown)",
    ),
    batchSize: r.histogram(
      "raftkv_batch_size",
      "Entries per raft-engine write (one group commit of queued Readies)",
      SIZE_BUCKETS,
    ),
    applyBatchSize: r.histogram(
      "raftkv_apply_batch_size",
      "Entries applied per apply batch",
      SIZE_BUCKETS,
    ),
    persistLatency: r.histogram(
      "raftkv_persist_duration_seconds",
      "Raft engine commit latency",
      LATENCY_BUCKETS,
    ),
    replicateLatency: r.histogram(
      "raftkv_replicate_duration_seconds",
      "Leader only: an append with entries sent until the follower acknowledged it durable",
      LATENCY_BUCKETS,
    ),
    applyLatency: r.histogram(
      "raftkv_apply_duration_seconds",
      "Kv engine commit latency per apply batch",
      LATENCY_BUCKETS,
    ),
    peerMessagesSent: r.counter(
      "raftkv_peer_messages_sent_total",
      "Raft messages sent on the peer streams by peer",
    ),
    peerSendErrors: r.counter(
      "raftkv_peer_send_errors_total",
      "Failed peer sends by peer",
    ),
    snapshotsSent: r.counter(
      "raftkv_snapshots_sent_total",
      "Snapshots streamed to followers",
    ),
    snapshotsReceived: r.counter(
      "raftkv_snapshots_received_total",
      "Snapshots received from the leader (staged for install)",
    ),
    forwarded: r.counter(
      "raftkv_forwarded_requests_total",
      "Client requests forwarded to the leader",
    ),
    kvCommits: r.counter(
      "raftkv_denokv_commits_total",
      "Engine writes by engine (raft, data); a write past Deno KV limits spans several commits",
    ),
    readIndex: r.counter(
      "raftkv_read_index_total",
      "Linearizable reads by outcome",
    ),
    watchers: r.gauge("raftkv_watchers", "Open watch streams (GET /v1/watch)"),
    liveBytes: r.gauge(
      "raftkv_live_bytes",
      "Code units of the live keys and values (what --quota-bytes bounds)",
    ),
  };
}

export type NodeMetrics = ReturnType<typeof defineMetrics>;

/** The gauges of a node's Raft status (every tick and role change). */
export function observeStatus(
  m: NodeMetrics,
  st: { term: number; role: string; commit: number; lastIndex: number; snapshotIndex: number },
  appliedIndex: number,
): void {
  m.term.set(st.term);
  m.isLeader.set(st.role === "leader" ? 1 : 0);
  m.state.set(st.role === "leader" ? 2 : st.role === "follower" ? 0 : 1);
  m.commitIndex.set(st.commit);
  m.appliedIndex.set(appliedIndex);
  m.lastIndex.set(st.lastIndex);
  m.snapshotIndex.set(st.snapshotIndex);
}
