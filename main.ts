/**
 * The composition root: config -> engines -> RaftKv -> transport -> app ->
 * Deno.serve -> ticker -> graceful shutdown on SIGTERM/SIGINT.
 * @module
 */
import { ConfigError, helpText, parseConfig } from "./src/config.ts";
import { DenoRaftEngine } from "./src/storage/deno_raft_engine.ts";
import { DenoKvDataEngine } from "./src/storage/deno_kv_data_engine.ts";
import { campaignIfAlone, createNode } from "./src/engine/node.ts";
import { IntervalTicker } from "./src/engine/ticker.ts";
import { HttpTransport } from "./src/transport/http_transport.ts";
import { createPeerApp } from "./src/transport/peer_routes.ts";
import { CLUSTER_TOKEN_HINT } from "./src/transport/peer_stream.ts";
import { createNodeMetrics } from "./src/telemetry/node_metrics.ts";
import { Logger, LogThrottle } from "./src/telemetry/logger.ts";
import { failpoints } from "./src/failpoints/registry.ts";
import { createHandler } from "./routes/app.ts";
import { ClusterIdentity } from "./src/engine/cluster_id.ts";
import { claimDataDir, DataDirError } from "./src/storage/data_dir.ts";
import { within } from "./src/within.ts";
import { StorageMismatchError } from "./src/storage/load.ts";
import { logMembershipNotes } from "./src/membership_notes.ts";

/** How long shutdown waits for connections still sending a request. */
const SERVER_CLOSE_MS = 2000;

/** A start that cannot go on: one clear line, exit 1 (2 is for bad flags). */
function cannotStart(message: string): never {
  console.error(`raftkv: ${message}`);
  Deno.exit(1);
}

/** Fails early, before the data dir is touched, when the address cannot be bound. */
function probeListen({ hostname, port }: { hostname: string; port: number }): void {
  try {
    Deno.listen({ hostname, port }).close();
  } catch (e) {
    cannotStart(`Cannot listen on ${hostname}:${port}: ${(e as Error).message}`);
  }
}

/** The machine's name (--allow-sys=hostname), or undefined without it. */
function machineName(): string | undefined {
  try {
    return Deno.hostname() || undefined;
  } catch {
    return undefined;
  }
}

function loadConfig() {
  try {
    // Help needs no environment (and so no --allow-env).
    const help = Deno.args.includes("--help") || Deno.args.includes("-h");
    return parseConfig(Deno.args, help ? {} : Deno.env.toObject(), { hostname: machineName });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`raftkv: ${e.message}\nRun with --help for the flags.`);
    Deno.exit(2);
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.help) {
    console.log(helpText());
    return;
  }
  if (config.enableFailpoints) failpoints.enable();
  const log = new Logger(config.id, config.logLevel);
  probeListen(config.listen);
  await claimDataDir(config.dataDir, config.id).catch((e) => {
    if (e instanceof DataDirError) cannotStart(e.message);
    throw e;
  });
  const metrics = createNodeMetrics();
  const [identity, raft, data] = await Promise.all([
    ClusterIdentity.load(config.dataDir, config.peers),
    DenoRaftEngine.open(`${config.dataDir}/raft.kv`),
    DenoKvDataEngine.open(`${config.dataDir}/data.kv`),
  ]).catch((e) => cannotStart(`Cannot open data dir ${config.dataDir}: ${e.message}`));
  const electionMs = config.electionTicks * config.tickMs;
  let transport: HttpTransport | undefined;
  let onRemoved = () => {};
  const node = createNode(
    {
      id: config.id,
      tickMs: config.tickMs,
      electionTicks: config.electionTicks,
      heartbeatTicks: config.heartbeatTicks,
      requestTimeoutMs: config.requestTimeoutMs,
      leaseMs: electionMs - config.leaseDriftMs,
      snapshotEntries: config.snapshotEntries,
      applyFlushMs: 50,
      forwardWrites: true,
      peers: new Map(config.peers.map((p) => [p.id, p.url])),
      clusterId: identity.id,
    },
    { raft, data },
    {
      metrics,
      log,
      transport: (snapshotSource, onSnapshotFailed) =>
        transport = new HttpTransport({
          selfId: config.id,
          clusterToken: config.clusterToken ?? undefined,
          clusterId: () => identity.id,
          metrics,
          snapshotSource,
          onSnapshotFailed,
          log,
          onRemoved: () => onRemoved(),
        }),
    },
  );
  const { engine, router, region } = await node.catch((e) => {
    // A refused or unreadable data dir, or a full disk while loading (a
    // rewrite of old segments): one line, as for every refusal to start.
    const why = e instanceof StorageMismatchError ? "" : "Cannot load: ";
    cannotStart(`Data dir ${config.dataDir}: ${why}${e instanceof Error ? e.message : e}`);
  });
  engine.quotaBytes = config.quotaBytes;
  if (!identity.stored && region.appliedIndex > 0) {
    // A founder saves the id before it applies anything (below); a joiner
    // adopted its cluster's id, which --peers cannot give back.
    cannotStart(
      `Data dir ${config.dataDir} holds applied data but no cluster-id file: write the ` +
        `clusterId of GET /v1/cluster on another member into ${identity.file}, or remove this ` +
        `member and add it again with an empty data dir`,
    );
  }
  log.term = () => region.term;
  logMembershipNotes(log, config, [...region.members.voters, ...region.members.learners], {
    newDataDir: !identity.stored,
  });
  onRemoved = () => {
    if (region.view.toldRemoved()) {
      log.error("this node was removed from the cluster; it serves no more requests");
    }
  };
  identity.fresh = () => region.appliedIndex === 0;
  // Written once: rewriting it on every start failed a restart on a full disk.
  if (!identity.stored) identity.save();
  const tokenRefusals = new LogThrottle();
  const peerApp = createPeerApp(router, {
    selfId: config.id,
    isRemoved: (id) => region.view.isRemovedPeer(id),
    clusterToken: config.clusterToken ?? undefined,
    heard: (from) => transport?.heardFrom(from),
    unauthorized: (from) => {
      if (!tokenRefusals.allow("token")) return;
      log.warn("refused a peer: missing or wrong cluster token", {
        peer: from ?? null,
        hint: CLUSTER_TOKEN_HINT,
      });
    },
    acceptsCluster: (id, from, members) =>
      identity.accepts(
        id,
        from,
        (peer, clusterId, reason) =>
          reason === "cluster"
            ? log.warn("refused a peer of another cluster", { peer, clusterId, ours: identity.id })
            : log.error(
              "refused to join a cluster whose members differ from --peers: start a node " +
                "with --peers naming exactly the cluster's members and itself",
              { peer, clusterId, theirs: members, ours: identity.seedMembers },
            ),
        members,
      ),
    clusterSeen: (id) => {
      try {
        if (!identity.adopt(id)) return;
        engine.clusterId = identity.id;
        log.info("joined cluster", { clusterId: identity.id });
      } catch (error) {
        log.warn("cannot store the cluster id", { error });
      }
    },
  });
  const handler = createHandler({ engine, config, metrics, failpoints, peerApp });
  const serve = () =>
    Deno.serve({
      hostname: config.listen.hostname,
      port: config.listen.port,
      onListen: ({ hostname, port }) =>
        log.info("listening", {
          hostname,
          port,
          dataDir: config.dataDir,
          // The membership in force (--peers only seeded a new data dir).
          members: [...region.members.voters, ...region.members.learners].map((m) => m.id),
          appliedIndex: region.appliedIndex,
        }),
    }, handler);
  let server: Deno.HttpServer;
  try {
    server = serve();
  } catch (e) { // taken since the probe
    cannotStart(`Cannot listen on ${config.listen.hostname}:${config.listen.port}: ${e}`);
  }
  let stoppingSince: number | null = null;
  // The accept loop ends on an error (out of file descriptors under a
  // connection flood): the node listens again once it can, instead of
  // ending on an uncaught rejection or staying up deaf.
  const keepServing = (s: Deno.HttpServer) =>
    void s.finished.catch((error) => {
      if (stoppingSince !== null) return;
      log.error("the server stopped accepting; listening again", { error: String(error) });
      const retry = () => {
        if (stoppingSince !== null) return;
        try {
          keepServing(server = serve());
        } catch (e) {
          log.warn("cannot listen yet", { error: String(e) });
          setTimeout(retry, 1000);
        }
      };
      setTimeout(retry, 200);
    });
  keepServing(server);
  const ticker = new IntervalTicker(config.tickMs);
  ticker.start(() => router.tick());
  campaignIfAlone(region);

  const shutdown = async (signal: string) => {
    if (stoppingSince !== null) {
      // Ctrl-C reaches `deno task` and this process both, and the task
      // forwards it too: a copy within a second is the same signal.
      if (performance.now() - stoppingSince < 1000) return;
      log.warn("second signal: stopping at once", { signal });
      Deno.exit(1);
    }
    stoppingSince = performance.now();
    log.info("shutting down", { signal });
    // Whatever hangs (a stuck disk), the process still ends.
    const limitMs = config.requestTimeoutMs + 4 * electionMs + 2000;
    setTimeout(() => {
      log.warn("shutdown did not finish in time; exiting", { limitMs });
      Deno.exit(1);
    }, limitMs);
    engine.close();
    // The ticker and the peer streams run until the writes in flight have
    // their outcome (committed, or timed out as without the signal); then a
    // leader hands off, and only then does the server (peer streams too) close.
    if (!await engine.drainWrites(config.requestTimeoutMs + 1000)) {
      log.warn("writes still in flight at shutdown; their outcome is unknown to clients");
    }
    const leader = await engine.handOffLeadership();
    if (leader) log.info("leadership handed off", { leader });
    // Every answer is out; a client still sending a request (stalled
    // mid-body) is not waited for beyond a moment.
    await within(server.shutdown(), SERVER_CLOSE_MS, () => {});
    ticker.stop();
    await router.stop();
    region.transport.close();
    raft.close();
    data.close();
    log.info("stopped");
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));
}

if (import.meta.main) await main();
