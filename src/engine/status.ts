/**
 * `GET /v1/cluster` as the engine sees it (API.md §6).
 * @module
 */
import type { ClusterStatus } from "./types.ts";
import type { Region } from "./region.ts";
import type { Message } from "../raft/messages.ts";

function selfState(role: string): "leader" | "follower" | "candidate" {
  if (role === "leader") return "leader";
  return role === "follower" ? "follower" : "candidate";
}

export function clusterStatus(r: Region, clusterId: string): ClusterStatus {
  const st = r.status();
  // lastContact is stamped with the region's clock (RegionOptions.now), so it
  // is read with that clock too (performance.now() here mixed two clocks).
  const now = r.opts.now?.() ?? performance.now();
  const member = (role: "voter" | "learner") => (m: { id: string; url: string }) => {
    const pr = st.progress[m.id];
    if (!pr) return { id: m.id, url: m.url, role };
    // The leader itself: its match is its own durable log, its contact now.
    const seen = m.id === r.id ? now : r.lastContact.get(m.id);
    return {
      id: m.id,
      url: m.url,
      role,
      matchIndex: pr.match,
      // null: never heard from (not started yet, or down since this leader began).
      lastContactMs: seen === undefined ? null : Math.round(now - seen),
    };
  };
  return {
    clusterId,
    leader: st.lead || null,
    term: st.term,
    members: [
      ...r.members.voters.map(member("voter")),
      ...r.members.learners.map(member("learner")),
    ],
    self: {
      id: r.id,
      state: selfState(st.role),
      commitIndex: st.commit,
      appliedIndex: r.appliedIndex,
      lastIndex: st.lastIndex,
      snapshotIndex: st.snapshotIndex,
    },
  };
}

/**
 * Messages that show the sender and this node talk both ways: answers to
 * what this node sent, and a leader's own. Not a candidate's requests: a
 * node restarted at another address reaches its peers, but they cannot
 * reach it (`lastContactMs` and the reconfiguration check read this).
 */
export function isContact(m: Message): boolean {
  return m.type.endsWith("Resp") || m.type === "app" || m.type === "heartbeat" ||
    m.type === "snap" || m.type === "timeoutNow";
}
