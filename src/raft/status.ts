/**
 * A snapshot of a peer's state for observers (metrics, /v1/status, tests).
 * @module
 */
import type { Raft } from "./raft.ts";
import type { ProgressState } from "./progress.ts";
import type { ConfState, NodeId, StateRole } from "./types.ts";

/** The leader's view of one peer. */
export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  recentActive: boolean;
}

/** See {@link RawNode.status}. */
export interface Status {
  id: NodeId;
  term: number;
  vote: NodeId;
  commit: number;
  applied: number;
  lead: NodeId;
  role: StateRole;
  lastIndex: number;
  /** Index of the latest snapshot (the log starts after it). */
  snapshotIndex: number;
  leadTransferee: NodeId;
  confState: ConfState;
  /** Leader has committed an entry of its own term (reads/conf changes OK). */
  committedInTerm: boolean;
  /** Leader only; `{}` otherwise. */
  progress: Record<NodeId, ProgressStatus>;
}

/** The few fields hot paths read (per request), without the progress map. */
export type BasicStatus = Pick<Status, "term" | "commit" | "committedInTerm" | "leadTransferee">;

/** Builds the BasicStatus of `r`. */
export function getBasicStatus(r: Raft): BasicStatus {
  return {
    term: r.term,
    commit: r.raftLog.committed,
    committedInTerm: r.role === "leader" && r.committedInTerm(),
    leadTransferee: r.leadTransferee,
  };
}

/** Builds the Status of `r`. */
export function getStatus(r: Raft): Status {
  const progress: Record<NodeId, ProgressStatus> = {};
  if (r.role === "leader") {
    for (const [id, pr] of r.trk.progress) {
      progress[id] = {
        match: pr.match,
        next: pr.next,
        state: pr.state,
        recentActive: pr.recentActive,
      };
    }
  }
  return {
    id: r.id,
    term: r.term,
    vote: r.vote,
    commit: r.raftLog.committed,
    applied: r.raftLog.applied,
    lead: r.lead,
    role: r.role,
    lastIndex: r.raftLog.lastIndex(),
    snapshotIndex: r.raftLog.firstIndex() - 1,
    leadTransferee: r.leadTransferee,
    confState: r.trk.confState(),
    committedInTerm: r.role === "leader" && r.committedInTerm(),
    progress,
  };
}
