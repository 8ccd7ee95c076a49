# RaftKV node. Configure with RAFTKV_* variables (see README); data lives in
# the /data volume. SIGTERM drains the node and closes its databases.
FROM denoland/deno:2.9.6

WORKDIR /app
RUN chown deno:deno /app && mkdir -p /data && chown deno:deno /data
USER deno

# Dependencies first, so they are cached in their own layer.
COPY --chown=deno:deno deno.json deno.lock ./
COPY --chown=deno:deno main.ts ./
COPY --chown=deno:deno src ./src
COPY --chown=deno:deno routes ./routes
RUN deno cache main.ts

ENV RAFTKV_LISTEN=0.0.0.0:8080
ENV RAFTKV_DATA_DIR=/data
VOLUME /data
EXPOSE 8080

# Checks the address RAFTKV_LISTEN gives (a wildcard host: loopback), so moving the port works.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["deno", "eval", "const l = Deno.env.get('RAFTKV_LISTEN') ?? ':8080'; const i = l.lastIndexOf(':'); const h = ({ '': '127.0.0.1', '0.0.0.0': '127.0.0.1', '[::]': '[::1]' })[l.slice(0, i)] ?? l.slice(0, i); const r = await fetch(`http://${h}:${l.slice(i + 1)}/healthz`); Deno.exit(r.ok ? 0 : 1)"]

STOPSIGNAL SIGTERM
# The young generation starts at its full 16 MB: a fresh node reaches full speed at once
# instead of after ~3 s of small, frequent scavenges (see BENCHMARKS.md, item 26).
ENTRYPOINT ["deno", "run", "--unstable-kv", "--v8-flags=--min-semi-space-size=16", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys=hostname", "main.ts"]
