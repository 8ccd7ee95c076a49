/**
 * §5.4.1 Election restriction: "the voter denies its vote if its own log is
 * more up-to-date than that of the candidate", comparing the last entries'
 * terms, then lengths.
 */
import assert from "node:assert/strict";
import { Peer } from "../_util/peer.ts";
import { Network } from "../_util/network.ts";
import { log, ofType, vote } from "../_util/entries.ts";

Deno.test("§5.4.1 a voter grants only to candidates at least as up-to-date", async (t) => {
  // Voter log: terms 1 1 (last entry 1/2).
  const cases: { name: string; index: number; logTerm: number; grant: boolean }[] = [
    { name: "same last entry", index: 2, logTerm: 1, grant: true },
    { name: "same term, longer", index: 3, logTerm: 1, grant: true },
    { name: "same term, shorter", index: 1, logTerm: 1, grant: false },
    { name: "higher last term, shorter", index: 1, logTerm: 2, grant: true },
    { name: "higher last term, longer", index: 3, logTerm: 2, grant: true },
    { name: "lower last term, longer", index: 9, logTerm: 0, grant: false },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const p = new Peer("a", ["a", "b", "c"], {
        entries: log(1, 1),
        hardState: { term: 2, vote: "", commit: 0 },
      });
      p.step(vote({ from: "b", to: "a", term: 3, index: c.index, logTerm: c.logTerm }));
      const [resp] = ofType(p.drain(), "voteResp");
      assert.equal(resp?.reject, !c.grant);
      assert.equal(p.status().term, 3, "the term is adopted either way");
    });
  }
});

Deno.test("§5.4.1 a node missing committed entries cannot become leader", () => {
  const net = new Network(["a", "b", "c"]);
  net.elect("a");
  net.cut("a", "c");
  net.cut("b", "c");
  net.propose("a", "x"); // committed by a and b only
  net.recover();
  net.isolate("a");
  net.elect("c");
  assert.notEqual(net.raw("c").status().role, "leader", "b refuses: c lacks x");
  net.elect("b");
  assert.equal(net.leader(), "b");
  net.recover();
  net.stabilize();
  assert.deepEqual(net.appliedData("c"), ["x"]);
});
