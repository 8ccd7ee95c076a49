/**
 * Three real `main.ts` processes on loopback: replication, forwarding,
 * leader failover, catch-up after restart and through a snapshot, and
 * durability of acknowledged writes through SIGKILL of every node.
 */
import assert from "node:assert/strict";
import { get, put, type TestNode, until, withCluster } from "./_cluster.ts";

/** Three nodes with `extraArgs`. */
const three = (...extraArgs: string[]) => ({ size: 3, extraArgs });

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("three nodes replicate, forward and survive a leader kill", opts, async (t) => {
  await withCluster(three(), async (c) => {
    let leader = await c.waitLeader();
    const followers = c.nodes.filter((n) => n.spec.id !== leader);

    await t.step("a write through the leader is readable from a follower", async () => {
      const w = await put(c.node(leader).url, "a", { n: 1 });
      assert.equal(w.status, 200);
      const r = await get(followers[0]!.url, "a");
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.value, { n: 1 });
      assert.equal(r.headers.get("x-raftkv-leader"), leader);
    });

    await t.step("a write through a follower is forwarded to the leader", async () => {
      const w = await put(followers[1]!.url, "b", "via follower");
      assert.equal(w.status, 200);
      assert.equal(w.headers.get("x-raftkv-leader"), leader);
      const r = await get(c.node(leader).url, "b");
      assert.equal(r.body.value, "via follower");
    });

    await t.step("a txn comparing a deeply nested value applies on every node", async () => {
      // A recursive compare overflowed the stack in the apply step: every
      // node died, and again on each replay of the entry.
      const deep = (d: number) => "[".repeat(d) + "]".repeat(d);
      const raw = (url: string, path: string, method: string, body: string) =>
        fetch(`${url}${path}`, { method, headers: { "content-type": "application/json" }, body });
      assert.equal(
        (await raw(c.node(leader).url, "/v1/kv/deep", "PUT", `{"value":${deep(9000)}}`)).status,
        200,
      );
      const txn = `{"compare":[{"key":"deep","target":"value","op":"==","value":${deep(9000)}}],` +
        `"success":[{"op":"put","key":"after","value":"deep"}]}`;
      const res = await raw(followers[0]!.url, "/v1/txn", "POST", txn);
      assert.equal(res.status, 200);
      assert.equal((await res.json()).succeeded, true);
      // A txn that reads goes to the leader over HTTP (its answer carries values).
      const f1 = followers[1]!.url;
      const ops = '[{"op":"put","key":"r","value":"x"},{"op":"get","key":"after"}]';
      const read = await raw(f1, "/v1/txn", "POST", `{"success":${ops}}`);
      assert.equal(read.status, 200);
      assert.equal((await read.json()).results[1].value, "deep");
      const big = await raw(f1, "/v1/kv/big", "PUT", '{"value":12345678901234567890}');
      assert.equal(big.status, 200);
      for (const n of c.nodes) {
        const r = await fetch(`${n.url}/v1/kv/big`);
        assert.equal(r.status, 200, n.spec.id);
        assert.match(await r.text(), /"value":12345678901234567890,/, n.spec.id);
        assert.equal((await get(n.url, "after")).body.value, "deep", n.spec.id);
      }
    });

    await t.step("SIGKILL of the leader: a new leader, and writes go on", async () => {
      const old = c.node(leader);
      await old.kill();
      const next = await until("a new leader", async () => {
        const l = await c.waitLeader();
        return l !== leader ? l : undefined;
      });
      const w = await until("a write after failover", async () => {
        const res = await put(c.node(next).url, "c", 3);
        return res.status === 200 ? res : undefined;
      });
      assert.equal(w.status, 200);
      leader = next;
      old.start();
      await until("the old leader to catch up", async () => {
        const r = await get(old.url, "c", "stale");
        return r.status === 200 && r.body.value === 3 ? true : undefined;
      });
    });
  });
});

Deno.test("a follower with a wiped data dir catches up through a snapshot", opts, async () => {
  await withCluster(three("--snapshot-entries", "20"), async (c) => {
    const leader = await c.waitLeader();
    const victim = c.nodes.find((n) => n.spec.id !== leader)!;
    for (let i = 0; i < 60; i++) {
      assert.equal((await put(c.node(leader).url, `k${i}`, i)).status, 200);
    }
    await victim.kill();
    await Deno.remove(victim.spec.dataDir, { recursive: true });
    for (let i = 60; i < 120; i++) {
      assert.equal((await put(c.node(leader).url, `k${i}`, i)).status, 200);
    }
    const status = await (await fetch(`${c.node(leader).url}/v1/cluster`)).json();
    assert.ok(status.self.snapshotIndex > 0, "the leader compacted its log");
    victim.start();
    await until("the wiped follower to catch up", async () => {
      const r = await get(victim.url, "k119", "stale");
      return r.status === 200 && r.body.value === 119 ? true : undefined;
    }, 30_000);
    for (const i of [0, 59, 60]) {
      assert.equal((await get(victim.url, `k${i}`, "stale")).body.value, i);
    }
    const metrics = await (await fetch(`${victim.url}/metrics`)).text();
    assert.match(metrics, /raftkv_snapshots_received_total 1/);
  });
});

Deno.test(
  "SIGKILL of every node during a write load loses no acknowledged write",
  opts,
  async () => {
    await withCluster(three(), async (c) => {
      await c.waitLeader();
      const acked = new Map<string, number>();
      let stop = false;
      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const node = c.nodes[(w + i) % c.nodes.length]!;
          const key = `w${w}-${i}`;
          try {
            const res = await put(node.url, key, i);
            if (res.status === 200) acked.set(key, i);
          } catch { /* node killed mid-request */ }
        }
      };
      const writers = Array.from({ length: 8 }, (_, w) => writer(w));
      await until("some acknowledged writes", () => acked.size >= 50 ? true : undefined);
      await Promise.all(c.nodes.map((n) => n.kill()));
      stop = true;
      await Promise.all(writers);
      for (const n of c.nodes) n.start();
      const leader = await c.waitLeader(30_000);
      for (const [key, value] of acked) {
        const r = await get(c.node(leader).url, key);
        assert.equal(r.status, 200, `acknowledged ${key} is missing`);
        assert.equal(r.body.value, value);
      }
    });
  },
);

/** The exit status of `n` after `sig`, failing past `ms` (a hang must not hang the suite). */
async function exitAfter(n: TestNode, sig: Deno.Signal, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${n.spec.id} still running ${ms} ms after ${sig}`)),
      ms,
    );
  });
  const proc = n.proc!;
  try {
    return await Promise.race([n.kill(sig), late]);
  } catch (e) {
    proc.kill("SIGKILL");
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("SIGTERM drains and exits cleanly", opts, async (t) => {
  await t.step("a loaded leader answers its writes, hands off and exits 0", async () => {
    await withCluster(three(), async (c) => {
      const leader = await c.waitLeader();
      const seen = new Map<string, number>();
      let stop = false;
      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          try {
            const res = await fetch(`${c.node(leader).url}/v1/kv/w${w}-${i}`, {
              method: "PUT",
              headers: { "content-type": "application/json" },
              body: '{"value":1}',
              signal: AbortSignal.timeout(10_000),
            });
            const code = res.ok ? "ok" : (await res.json()).error.code;
            seen.set(code, (seen.get(code) ?? 0) + 1);
          } catch (e) {
            if ((e as Error).name === "TimeoutError") seen.set("hung", (seen.get("hung") ?? 0) + 1);
            else break; // the listener is gone
          }
        }
      };
      const writers = Array.from({ length: 8 }, (_, w) => writer(w));
      await until("writes", () => (seen.get("ok") ?? 0) >= 100 ? true : undefined);
      const status = await exitAfter(c.node(leader), "SIGTERM", 15_000);
      stop = true;
      await Promise.all(writers);
      assert.equal(status?.code, 0);
      assert.equal(seen.get("hung"), undefined, "a write got no answer");
      // Writes in flight were answered; a new leader took over at once.
      assert.equal(seen.get("leadership_changed"), undefined, JSON.stringify([...seen]));
      const next = await c.waitLeader();
      assert.notEqual(next, leader);
    });
  });

  await t.step("a leader cut off from its followers still exits", async () => {
    await withCluster(three(), async (c) => {
      const leader = await c.waitLeader();
      assert.equal((await put(c.node(leader).url, "x", 1)).status, 200);
      for (const n of c.nodes) if (n.spec.id !== leader) n.signal("SIGSTOP");
      const pending = fetch(`${c.node(leader).url}/v1/kv/pending`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: '{"value":2}',
        signal: AbortSignal.timeout(10_000),
      });
      await new Promise((r) => setTimeout(r, 100)); // the write is in flight
      const status = await exitAfter(c.node(leader), "SIGTERM", 15_000);
      for (const n of c.nodes) n.signal("SIGCONT");
      assert.equal(status?.code, 0);
      const res = await pending; // answered (outcome unknown), not left hanging
      assert.equal(res.status, 503);
      assert.equal((await res.json()).error.code, "leadership_changed");
    });
  });
});
