/**
 * Duplicated, reordered and dropped messages, plus restarts, are harmless:
 * a small seeded fuzz over the harness network checking Election Safety and
 * State Machine Safety (Figure 3), then liveness once the network heals.
 * The thorough randomized simulator lives in test/sim/.
 */
import assert from "node:assert/strict";
import { type Entry, ProposalDroppedError, SeededRand } from "../../src/raft/mod.ts";
import { Network } from "./_util/network.ts";

const IDS = ["a", "b", "c", "d", "e"];

function checkSafety(net: Network, leaders: Map<number, string>): void {
  for (const n of net.nodes.values()) {
    const st = n.raw.status();
    if (st.role !== "leader") continue;
    const prev = leaders.get(st.term);
    assert.ok(
      prev === undefined || prev === n.id,
      `two leaders in term ${st.term}: ${prev}, ${n.id}`,
    );
    leaders.set(st.term, n.id);
  }
  const byIndex = new Map<number, Entry>();
  for (const n of net.nodes.values()) {
    for (const e of n.applied) {
      const other = byIndex.get(e.index);
      if (other) assert.deepEqual(e, other, `nodes applied different entries at ${e.index}`);
      else byIndex.set(e.index, e);
    }
  }
}

function runSeed(seed: number, opts: { preVote: boolean; checkQuorum: boolean }): void {
  const rand = new SeededRand(seed);
  const net = new Network(IDS, { ...opts, seed });
  const leaders = new Map<number, string>();
  let proposed = 0;
  for (let step = 0; step < 600; step++) {
    const roll = rand.intn(100);
    const id = IDS[rand.intn(IDS.length)]!;
    if (roll < 25) net.raw(id).tick();
    else if (roll < 45) net.processReady(id);
    else if (roll < 70 && net.queue.length > 0) {
      const i = rand.intn(net.queue.length); // reorder
      const [m] = net.queue.splice(i, 1);
      if (rand.intn(10) === 0) net.queue.push(m!); // duplicate
      if (rand.intn(8) !== 0) net.deliver(m!); // else drop
    } else if (roll < 80) {
      const leader = net.leader();
      if (leader === null) continue;
      try {
        net.raw(leader).propose(`p${proposed++}`);
      } catch (e) {
        if (!(e instanceof ProposalDroppedError)) throw e;
      }
    } else if (roll < 82) {
      net.queue = net.queue.filter((m) => m.to !== id && m.from !== id);
      net.restart(id);
    } else if (roll < 84) net.raw(id).readIndex(`r${step}`);
    checkSafety(net, leaders);
  }
  // Heal: everything delivered, time passes; the cluster converges.
  for (let i = 0; i < 200; i++) {
    net.tickAll(1);
    checkSafety(net, leaders);
  }
  const leader = net.leader();
  assert.ok(leader, "a leader after healing");
  const commit = net.raw(leader).status().commit;
  for (const n of net.nodes.values()) {
    assert.equal(n.raw.status().commit, commit, `${n.id} caught up`);
    assert.equal(n.applied.at(-1)?.index, commit, `${n.id} applied everything`);
  }
}

Deno.test("duplicated, reordered and dropped messages and restarts keep Raft safe and live", async (t) => {
  for (
    const opts of [{ preVote: true, checkQuorum: true }, { preVote: false, checkQuorum: false }]
  ) {
    await t.step(`preVote=${opts.preVote} checkQuorum=${opts.checkQuorum}: 40 seeds`, () => {
      for (let seed = 1; seed <= 40; seed++) {
        try {
          runSeed(seed, opts);
        } catch (e) {
          throw new Error(`seed ${seed}: ${(e as Error).message}`, { cause: e });
        }
      }
    });
  }
});
