/** HttpTransport's address book: a member that left is forgotten. */
import assert from "node:assert/strict";
import { HttpTransport } from "../../src/transport/http_transport.ts";
import { createNodeMetrics } from "../../src/telemetry/node_metrics.ts";
import { until } from "../e2e/_cluster.ts";
import { silentPeer } from "./_silent_peer.ts";

const hb = { type: "heartbeat" as const, from: "n1", to: "n2", term: 1, commit: 0, context: "" };

Deno.test("a peer dropped from the membership is not dialled again", async () => {
  const peer = silentPeer();
  const t = new HttpTransport({
    selfId: "n1",
    clusterToken: undefined,
    metrics: createNodeMetrics(),
    snapshotSource: () => {
      throw new Error("no snapshots here");
    },
    onSnapshotFailed: () => {},
  });
  try {
    t.setPeers(new Map([["n1", "http://127.0.0.1:1"], ["n2", `http://127.0.0.1:${peer.port}`]]));
    t.send([hb]);
    await until("n2 dialled", () => peer.conns.length === 1 || undefined);
    // Its stream closes (a close frame, then EOF)...
    const closed = (async () => {
      const buf = new Uint8Array(1024);
      while ((await peer.conns[0]!.read(buf)) !== null) { /* close frame */ }
      return true;
    })();
    t.setPeers(new Map([["n1", "http://127.0.0.1:1"]]));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<false>((r) => timer = setTimeout(() => r(false), 5000));
    assert.equal(await Promise.race([closed, late]), true, "the stream to n2 closed");
    clearTimeout(timer);
    // ...and messages for it go nowhere: no new connection.
    t.send([hb]);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(peer.conns.length, 1);
  } finally {
    t.close();
    await peer.stop();
  }
});
