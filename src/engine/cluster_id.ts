/**
 * The cluster id reported by `GET /v1/cluster`. Founders derive it from the
 * initial `--peers` (a hash, the same on every founder) and keep it in
 * `<data-dir>/cluster-id`. A node that joins later was started with other
 * `--peers` (the members and itself), so until it has applied anything it
 * adopts the id a leader presents (with its first append or heartbeat on a
 * stream, or its snapshot), provided the leader's member ids are the ones
 * its `--peers` name, and keeps that id from then on.
 * @module
 */

import { writeDurably } from "../storage/data_dir.ts";
import { memberIds } from "../transport/member_ids.ts";

const ID_RE = /^[0-9a-f]{16}$/;

/** The founders' id: a hash of the initial membership. */
export async function clusterIdOf(peers: readonly { id: string; url: string }[]): Promise<string> {
  const text = peers.map((p) => `${p.id}=${p.url}`).sort().join(",");
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(hash).slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class ClusterIdentity {
  /** True while this node has applied nothing (it may still be joining). */
  fresh: () => boolean = () => false;

  private constructor(
    readonly file: string,
    public id: string,
    /** The ids this node's `--peers` name: the members it may join (`member_ids.ts`). */
    readonly seedMembers: string,
    /** Whether the data dir had the id (else it came from `--peers`). */
    readonly stored: boolean,
  ) {}

  /** The stored id, or the one `peers` give (stored by `save`). */
  static async load(
    dataDir: string,
    peers: readonly { id: string; url: string }[],
  ): Promise<ClusterIdentity> {
    const file = `${dataDir}/cluster-id`;
    let stored: string | null = null;
    try {
      stored = (await Deno.readTextFile(file)).trim();
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const valid = stored !== null && ID_RE.test(stored);
    return new ClusterIdentity(
      file,
      valid ? stored! : await clusterIdOf(peers),
      memberIds(peers.map((p) => p.id)),
      valid,
    );
  }

  /** Durably: a joiner that adopted the cluster's id must keep it through a crash. */
  save(): void {
    writeDurably(this.file, `${this.id}\n`);
  }

  /** Peers already refused, by sender and id (each is logged once). */
  readonly #refused = new Set<string>();

  /**
   * Whether a stream (or snapshot) presenting cluster `id` and member ids
   * `members` may come in. A node that has applied entries talks to its own
   * cluster only (etcd refuses another cluster id too): another cluster's
   * node at a reused address. A node that has applied nothing may join
   * another cluster, but only one whose members its `--peers` name:
   * founders started with different `--peers` stay apart. A node started
   * with no `--peers` (itself alone) may join any (it waits for a leader
   * rather than lead alone: `campaignIfAlone`). `refused` is told once per
   * sender, id and reason.
   */
  accepts(
    id: string | undefined,
    from: string | undefined,
    refused: (peer: string | undefined, id: string, reason: "cluster" | "members") => void,
    members?: string,
  ): boolean {
    if (id === undefined || id === this.id) return true;
    const fresh = this.fresh();
    const alone = !this.seedMembers.includes(",");
    if (fresh && (members === undefined || members === this.seedMembers || alone)) return true;
    const reason = fresh ? "members" : "cluster";
    const key = `${from}/${id}/${reason}`;
    if (!this.#refused.has(key)) {
      this.#refused.add(key);
      refused(from, id, reason);
    }
    return false;
  }

  /**
   * A leader presented `id` (see `clusterSeen` in `peer_routes.ts`): a node
   * that has applied nothing takes it, the latest leader's if several, so
   * it ends up with the id of the leader whose entries it applies first.
   * Only leaders count: two founders whose `--peers` spell a URL
   * differently start with different ids, and taking the id of whichever
   * peer opened a stream first could swap them, each refusing the other
   * once it has applied. Returns true when the id changed. Synchronous:
   * the id is durable before the leader's first messages are stepped, so
   * no crash leaves applied data without it (a few ms, once per joiner).
   */
  adopt(id: string | undefined): boolean {
    if (!this.fresh() || id === undefined || id === this.id || !ID_RE.test(id)) return false;
    this.id = id;
    this.save();
    return true;
  }
}
