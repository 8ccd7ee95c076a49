/**
 * Snapshots on the wire: NDJSON, one header line, record chunks, and an end
 * line with the count, so a cut stream is detected rather than installed.
 * @module
 */
import { z } from "zod";
import type { KvRecord } from "../kv/types.ts";
import type { SnapshotData } from "./transport.ts";

const CHUNK_RECORDS = 512;
/**
 * A line also ends once its records hold this many code units: 512 values
 * of 1 MiB, escaped once more, would pass V8's maximum string length (the
 * send failed forever, and each try held the leader's loop for seconds).
 */
const CHUNK_UNITS = 4 * 1024 * 1024;

const id = z.string().regex(/^[a-z0-9-]{1,32}$/);
// At most 2^52, as on the message wire (`wire.ts` MAX_IDX).
const idx = z.number().int().nonnegative().max(2 ** 52);
const member = z.object({ id, url: z.string().url() }).strict();
const header = z.object({
  region: z.number().int().positive(),
  from: id,
  to: id,
  term: idx,
  meta: z.object({
    index: idx,
    term: idx,
    confState: z.object({ voters: z.array(id), learners: z.array(id) })
      .strict(),
  }).strict(),
  membership: z.object({ voters: z.array(member), learners: z.array(member) })
    .strict(),
}).strict();
const record = z.object({
  key: z.string(),
  value: z.string(),
  version: idx,
  createIndex: idx,
  modIndex: idx,
}).strict();
const line = z.union([
  z.object({ records: z.array(record) }).strict(),
  z.object({ end: idx }).strict(),
]);

export type SnapshotHeader = z.infer<typeof header>;

/** Encodes a snapshot as a stream of NDJSON chunks. */
export function encodeSnapshot(
  head: Omit<SnapshotHeader, "meta" | "membership">,
  snap: SnapshotData,
): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let pos = -1;
  return new ReadableStream({
    pull(ctrl) {
      if (pos < 0) {
        const h = { ...head, meta: snap.meta, membership: snap.membership };
        ctrl.enqueue(enc.encode(JSON.stringify(h) + "\n"));
        pos = 0;
      } else if (pos < snap.records.length) {
        const records: KvRecord[] = [];
        let units = 0;
        while (pos < snap.records.length && records.length < CHUNK_RECORDS && units < CHUNK_UNITS) {
          const r = snap.records[pos++]!;
          records.push(r);
          units += r.key.length + r.value.length;
        }
        ctrl.enqueue(enc.encode(JSON.stringify({ records }) + "\n"));
      } else {
        ctrl.enqueue(enc.encode(JSON.stringify({ end: pos }) + "\n"));
        ctrl.close();
      }
    },
  });
}

/** Reads a whole snapshot stream; throws on a malformed or cut stream. */
export async function decodeSnapshot(
  body: ReadableStream<Uint8Array>,
): Promise<{ header: SnapshotHeader; records: KvRecord[] }> {
  let head: SnapshotHeader | null = null;
  const records: KvRecord[] = [];
  for await (const text of lines(body)) {
    if (!head) {
      head = header.parse(JSON.parse(text));
      checkMembership(head);
      continue;
    }
    const l = line.parse(JSON.parse(text));
    if ("records" in l) records.push(...l.records);
    else if (l.end === records.length) return { header: head, records };
    else {throw new RangeError(
        `Snapshot ended at ${records.length}, expected ${l.end}`,
      );}
  }
  throw new RangeError("Snapshot stream was cut before its end line");
}

/** The members (with URLs) are exactly the snapshot's confState. */
function checkMembership(h: SnapshotHeader): void {
  const ids = (ms: readonly { id: string }[]) => ms.map((m) => m.id).sort().join(",");
  const { voters, learners } = h.meta.confState;
  if (
    ids(h.membership.voters) !== [...voters].sort().join(",") ||
    ids(h.membership.learners) !== [...learners].sort().join(",")
  ) throw new RangeError("Snapshot membership does not match its confState");
}

async function* lines(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of body) {
    buf += dec.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
  if (buf.trim() !== "") yield buf;
}
