/**
 * A membership as a stream opener presents it: its member ids, sorted and
 * comma-separated (ids are `[a-z0-9-]{1,32}`). A node that has applied
 * nothing yet joins another cluster only when that cluster's members are
 * the ones its `--peers` name (etcd likewise refuses a joiner whose
 * `--initial-cluster` differs from the members), so founders started with
 * different `--peers` stay apart instead of merging into one cluster whose
 * nodes count different voters; and a refusal can say what differs. URLs
 * are left out: the same node may be spelled differently from different
 * places (a container advertises its hostname, an operator writes a
 * service name), and quorums are counted by id.
 * @module
 */
export function memberIds(ids: Iterable<string>): string {
  return [...ids].sort().join(",");
}
