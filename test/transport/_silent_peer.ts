/**
 * A peer that completes the WebSocket handshake and never reads again, as
 * a SIGSTOPped process would look from the sender.
 * @module
 */
export function silentPeer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of listener) {
      conns.push(c);
      const buf = new Uint8Array(4096);
      const n = (await c.read(buf)) ?? 0;
      const req = new TextDecoder().decode(buf.subarray(0, n));
      const key = /sec-websocket-key: *(\S+)/i.exec(req)?.[1] ?? "";
      const digest = await crypto.subtle.digest(
        "SHA-1",
        new TextEncoder().encode(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
      );
      const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
      await c.write(new TextEncoder().encode(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
      ));
      // ...and never read again.
    }
  })();
  return {
    port: listener.addr.port,
    conns,
    async stop() {
      listener.close();
      for (const c of conns) c.close();
      await accepting.catch(() => {});
    },
  };
}
