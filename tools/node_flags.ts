/**
 * The flags `deno task start` runs `main.ts` with (deno.json; the
 * Dockerfile's ENTRYPOINT says the same, checked by
 * `test/e2e/dockerfile_test.ts`). Every script that starts a node (the local
 * cluster, the benchmark, the end-to-end and jepsen tests) uses these, so a
 * node runs the same everywhere.
 * @module
 */
export const NODE_RUN_FLAGS: readonly string[] = [
  "--unstable-kv",
  // The young generation starts at its full 16 MB: a fresh node is at full
  // speed at once, not after ~3 s of small scavenges (BENCHMARKS.md, item 26).
  "--v8-flags=--min-semi-space-size=16",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  // The advertised URL of a node listening on 0.0.0.0 (a container) is
  // http://<hostname>:<port>.
  "--allow-sys=hostname",
];
