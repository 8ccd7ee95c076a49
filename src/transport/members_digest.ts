/**
 * A short digest of a membership: its member ids, in any order. A node
 * presents its own when it opens a stream or sends a snapshot, and a node
 * that has applied nothing yet joins another cluster only when that
 * cluster's members are the ones its `--peers` name (etcd likewise refuses
 * a joiner whose `--initial-cluster` differs from the members). Founders
 * started with different `--peers` then stay apart instead of merging into
 * one cluster whose nodes count different voters. URLs are left out: the
 * same node may be spelled differently from different places (a container
 * advertises its hostname; an operator writes a service name), and
 * quorums are counted by id. A configuration check, not a security one
 * (FNV-1a, two lanes).
 * @module
 */
export function membersDigest(ids: Iterable<string>): string {
  const text = [...ids].sort().join(",");
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
  return hex(a) + hex(b);
}
