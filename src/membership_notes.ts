/**
 * What an operator should hear at start about this node's flags against
 * the membership in force (the data dir's, once it exists): a node
 * restarted at another address is cut off; `--peers` seeds only a new
 * data dir.
 * @module
 */
import type { Logger } from "./telemetry/logger.ts";

type Member = { readonly id: string; readonly url: string };

/** Logs the start-time notes (see the module doc). */
export function logMembershipNotes(
  log: Logger,
  config: { id: string; advertise: string; peers: readonly Member[] },
  members: readonly Member[],
  opts: { newDataDir: boolean },
): void {
  warnIfMoved(log, config, members);
  if (!opts.newDataDir && config.peers.length > 1 && !sameMembers(config.peers, members)) {
    log.info("--peers ignored: the data dir holds the membership in force", {
      members: members.map((m) => `${m.id}=${m.url}`),
    });
  }
}

/**
 * Peers reach a member only at its URL in the membership (--peers seeded a
 * new data dir, later changes go through the log): a node restarted on
 * another address is cut off, so say so at start.
 */
function warnIfMoved(
  log: Logger,
  config: { id: string; advertise: string },
  members: readonly Member[],
): void {
  const self = members.find((m) => m.id === config.id);
  const bare = (url: string) => url.replace(/\/+$/, "");
  if (!self || bare(self.url) === bare(config.advertise)) return;
  log.warn("this node serves at another URL than its member URL: peers cannot reach it", {
    memberUrl: self.url,
    advertise: config.advertise,
    hint: "start it at its member URL (--listen, --advertise), or remove the member " +
      "and add it again with the new URL",
  });
}

function sameMembers(a: readonly Member[], b: readonly Member[]): boolean {
  const key = (ms: readonly Member[]) =>
    ms.map((m) => `${m.id}=${m.url.replace(/\/+$/, "")}`).sort().join(",");
  return key(a) === key(b);
}
