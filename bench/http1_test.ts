import assert from "node:assert/strict";
import { Http1Client } from "./http1.ts";

Deno.test("Http1Client: length and chunked answers, reuse, timeout, refused", async (t) => {
  const ports = new Set<number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req, info) => {
      ports.add(info.remoteAddr.port);
      const path = new URL(req.url).pathname;
      if (path === "/echo") return new Response(await req.text(), { status: 201 });
      if (path === "/slow") await new Promise((r) => setTimeout(r, 300));
      if (path === "/chunked") {
        const body = ReadableStream.from(
          ["ab", "cd", "e".repeat(100_000)].map((s) => new TextEncoder().encode(s)),
        );
        return new Response(body);
      }
      return new Response("", { status: 404 });
    },
  );
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const refused = `http://127.0.0.1:${listener.addr.port}`;
  listener.close();
  const url = `http://127.0.0.1:${server.addr.port}`;
  const client = new Http1Client();
  try {
    await t.step("a body and a content-length answer, over one connection", async () => {
      for (let i = 0; i < 3; i++) {
        const a = await client.send(`${url}/echo?x=${i}`, "PUT", { "x-a": "1" }, `hi ${i}`, 5000);
        assert.equal(a.status, 201);
        assert.equal(new TextDecoder().decode(a.body), `hi ${i}`);
      }
      const b = await client.send(`${url}/nope`, "GET", {}, null, 5000);
      assert.equal(b.status, 404);
      assert.equal(b.body.length, 0);
      assert.equal(ports.size, 1, "one keep-alive connection");
    });
    await t.step("a chunked answer", async () => {
      const a = await client.send(`${url}/chunked`, "GET", {}, null, 5000);
      assert.equal(new TextDecoder().decode(a.body), "abcd" + "e".repeat(100_000));
    });
    await t.step("a timeout is a TimeoutError and the next request works", async () => {
      await assert.rejects(client.send(`${url}/slow`, "GET", {}, null, 50), {
        name: "TimeoutError",
      });
      const a = await client.send(`${url}/echo`, "POST", {}, "after", 5000);
      assert.equal(new TextDecoder().decode(a.body), "after");
    });
    await t.step("a refused connection rejects", async () => {
      await assert.rejects(client.send(refused, "GET", {}, null, 1000));
    });
  } finally {
    client.close();
    await server.shutdown();
  }
});
