/**
 * `deno task cluster`: three local nodes on 127.0.0.1:8081-8083 with data
 * in ./data/n1..n3, their logs prefixed by node id. Ctrl-C stops them all.
 * @module
 */
import { NODE_RUN_FLAGS } from "./node_flags.ts";

const PORTS = [8081, 8082, 8083];
const ids = PORTS.map((_, i) => `n${i + 1}`);
const peers = ids.map((id, i) => `${id}=http://127.0.0.1:${PORTS[i]}`).join(",");
const mainTs = new URL("../main.ts", import.meta.url).pathname;

const children = ids.map((id, i) => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...NODE_RUN_FLAGS,
      mainTs,
      "--id",
      id,
      "--listen",
      `127.0.0.1:${PORTS[i]}`,
      "--peers",
      peers,
      ...Deno.args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  void prefix(id, child.stdout);
  void prefix(id, child.stderr);
  return child;
});

async function prefix(id: string, stream: ReadableStream<Uint8Array>): Promise<void> {
  const enc = new TextEncoder();
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    const lines = buf.split("\n");
    buf = lines.pop() ?? "";
    for (const l of lines) await Deno.stdout.write(enc.encode(`[${id}] ${l}\n`));
  }
}

console.log(
  `Cluster: ${peers}\nTry: curl -X PUT localhost:8081/v1/kv/hello -d '{"value":"world"}' -H 'content-type: application/json'`,
);
const stop = () => {
  for (const c of children) {
    try {
      c.kill("SIGTERM");
    } catch { /* already gone */ }
  }
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
const codes = await Promise.all(children.map((c) => c.status));
Deno.exit(codes.every((s) => s.success) ? 0 : 1);
