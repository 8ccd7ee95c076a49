import assert from "node:assert/strict";
import { committedIndex, hasQuorum, majority, voteResult } from "../../src/raft/quorum.ts";
import { SeededRand } from "../../src/raft/mod.ts";

/** The obvious definition: sort descending, take the majority-th value. */
function naiveCommittedIndex(voters: string[], acked: Map<string, number>): number {
  if (voters.length === 0) return 0;
  const xs = voters.map((id) => acked.get(id) ?? 0).sort((a, b) => b - a);
  return xs[majority(voters.length) - 1]!;
}

Deno.test("committedIndex() agrees with a naive sort on 20,000 seeded cases", () => {
  const rand = new SeededRand(20240611);
  for (let c = 0; c < 20_000; c++) {
    const n = rand.intn(9); // 0..8 voters
    const voters = Array.from({ length: n }, (_, i) => `n${i}`);
    const acked = new Map<string, number>();
    const spread = 1 + rand.intn(c % 2 === 0 ? 4 : 1000); // many ties, or few
    for (const id of voters) if (rand.intn(5) > 0) acked.set(id, rand.intn(spread));
    assert.equal(
      committedIndex(voters, (id) => acked.get(id)),
      naiveCommittedIndex(voters, acked),
      `case ${c}: ${JSON.stringify([...acked])} of ${n}`,
    );
  }
});

Deno.test("committedIndex() table", () => {
  const cases: [number[], number][] = [
    [[], 0],
    [[5], 5],
    [[5, 3], 3],
    [[5, 3, 1], 3],
    [[1, 3, 5, 7], 3],
    [[2, 2, 2, 9, 9], 2],
    [[9, 9, 9, 2, 2], 9],
  ];
  for (const [acks, want] of cases) {
    const voters = acks.map((_, i) => `n${i}`);
    assert.equal(committedIndex(voters, (id) => acks[Number(id.slice(1))]), want);
  }
});

Deno.test("voteResult() wins with a majority and loses when out of reach", () => {
  const v = (entries: [string, boolean][]) => new Map(entries);
  const three = ["a", "b", "c"];
  assert.equal(voteResult([], v([])), "won");
  assert.equal(voteResult(three, v([])), "pending");
  assert.equal(voteResult(three, v([["a", true]])), "pending");
  assert.equal(voteResult(three, v([["a", true], ["b", true]])), "won");
  assert.equal(voteResult(three, v([["a", true], ["b", false]])), "pending");
  assert.equal(voteResult(three, v([["a", false], ["b", false]])), "lost");
  assert.equal(voteResult(three, v([["x", true], ["y", true]])), "pending", "non-voters ignored");
  assert.equal(voteResult(["a", "b", "c", "d"], v([["a", true], ["b", true]])), "pending");
});

Deno.test("hasQuorum() counts only voters", () => {
  assert.equal(hasQuorum(["a", "b", "c"], new Set(["a", "b"])), true);
  assert.equal(hasQuorum(["a", "b", "c"], new Set(["a", "x"])), false);
  assert.equal(hasQuorum(["a"], new Set(["a"])), true);
});
