// The workloads, identical for RaftKV and etcd: only --target and --urls
// differ between the two runs of a scenario.

export interface Scenario {
  name: string;
  title: string;
  nodes: number;
  /** bench/load.ts flags, without --target and --urls. */
  load: string[];
  /** Hard limit for the load process, prefill included. */
  timeoutS: number;
  /** Report RSS per node before and after. */
  memory?: boolean;
}

export interface ScenarioConfig {
  durationS: number;
  /**
   * Load before the measured window, on every system alike. A fresh Deno
   * process spends its first seconds compiling on V8's worker threads (on
   * two shared cores, ~15 µs of CPU per put for ~4 s, then ~3), so a short
   * warm-up measures the JIT, not the steady state a server lives in.
   */
  warmupS: number;
  writes: number;
}

/** Just under RaftKV's 1 MiB serialized-value limit once JSON quotes are added. */
export const LARGE_VALUE = 1_048_000;

/** Longest a memory run may write for before it is cut short. */
const MEMORY_CAP_S = 900;

const words = (s: string) => s.split(/\s+/).filter((w) => w !== "");

function scenario(
  name: string,
  title: string,
  nodes: number,
  load: string,
  timeoutS: number,
): Scenario {
  return { name, title, nodes, load: words(load), timeoutS };
}

/** (a)-(d): the small-value workloads on three nodes. */
function smallValueScenarios(c: ScenarioConfig): Scenario[] {
  const timed = `--duration ${c.durationS}s --warmup ${c.warmupS}s`;
  const puts = `--mix 0 --value-size 100 --keys 10000 ${timed}`;
  const reads = `--mix 1 --value-size 100 --keys 1000 --prefill ${timed}`;
  const t = c.durationS + c.warmupS + 60;
  return [
    scenario(
      "put",
      "(a) 3 nodes, 100 B puts to the leader, 64 clients",
      3,
      `${puts} --concurrency 64 --to leader`,
      t,
    ),
    scenario(
      "get",
      "(b) 3 nodes, linearizable GETs on the leader, 64 clients",
      3,
      `${reads} --concurrency 64 --to leader --consistency linearizable`,
      t,
    ),
    scenario(
      "seq",
      "(c) 3 nodes, 1 client, sequential 100 B puts (latency)",
      3,
      `${puts} --concurrency 1 --to leader`,
      t,
    ),
    scenario(
      "follower",
      "(d) 3 nodes, 100 B puts sent to the followers, 64 clients",
      3,
      `${puts} --concurrency 64 --to followers`,
      t,
    ),
  ];
}

export function allScenarios(c: ScenarioConfig): Scenario[] {
  const large =
    `--mix 0 --value-size ${LARGE_VALUE} --keys 20 --ops 20 --duration 120s --warmup 0s --concurrency 1 --to leader`;
  const single =
    `--mix 0 --value-size 100 --keys 10000 --duration ${c.durationS}s --warmup ${c.warmupS}s --concurrency 64 --to leader`;
  return [
    ...smallValueScenarios(c),
    scenario("large", `(e) 3 nodes, 20 puts of a ${LARGE_VALUE} B value, 1 client`, 3, large, 180),
    scenario(
      "single",
      "(f) 1 node, 100 B puts, 64 clients",
      1,
      single,
      c.durationS + c.warmupS + 60,
    ),
    memoryScenario(c.writes),
    churnScenario(c.writes),
  ];
}

/**
 * The same writes over 10,000 keys: the state stays small, so RSS must stay
 * flat while the log is compacted again and again (the bounded-memory check).
 */
function churnScenario(writes: number): Scenario {
  const load = `--mix 0 --value-size 100 --keys 10000 --ops ${writes} ` +
    `--duration ${MEMORY_CAP_S}s --warmup 0s --concurrency 64 --to leader`;
  const title = `(h) 3 nodes, ${writes} 100 B puts over 10000 keys, 64 clients: RSS per node`;
  return { ...scenario("churn", title, 3, load, MEMORY_CAP_S + 60), memory: true };
}

/** Distinct keys, so the state really grows by `writes` records. */
function memoryScenario(writes: number): Scenario {
  const load = `--mix 0 --value-size 100 --keys ${writes} --sequential --ops ${writes} ` +
    `--duration ${MEMORY_CAP_S}s --warmup 0s --concurrency 64 --to leader`;
  const title = `(g) 3 nodes, ${writes} distinct 100 B puts, 64 clients: RSS per node`;
  return { ...scenario("memory", title, 3, load, MEMORY_CAP_S + 60), memory: true };
}

export function pickScenarios(all: Scenario[], names: string): Scenario[] {
  if (names === "all") return all;
  return names.split(",").map((n) => {
    const s = all.find((x) => x.name === n.trim());
    if (!s) throw new Error(`unknown scenario ${n}; known: ${all.map((x) => x.name).join(",")}`);
    return s;
  });
}
