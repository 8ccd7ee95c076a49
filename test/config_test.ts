import assert from "node:assert/strict";
import { type Config, ConfigError, helpText, parseConfig } from "../src/config.ts";

type Env = Record<string, string | undefined>;

Deno.test("parseConfig() with nothing gives a single-node cluster on 127.0.0.1:8080", () => {
  assert.deepEqual(
    parseConfig([], {}),
    {
      help: false,
      id: "n1",
      listen: { hostname: "127.0.0.1", port: 8080 },
      advertise: "http://127.0.0.1:8080",
      peers: [{ id: "n1", url: "http://127.0.0.1:8080" }],
      dataDir: "./data/n1",
      clusterToken: null,
      tickMs: 100,
      electionTicks: 10,
      heartbeatTicks: 1,
      snapshotEntries: 10000,
      maxKeyBytes: 1024,
      maxValueBytes: 1048576,
      maxTxnOps: 128,
      quotaBytes: 2147483648,
      maxBodyBytes: 1048576 + 65536,
      requestTimeoutMs: 5000,
      leaseDriftMs: 200,
      logLevel: "info",
      enableFailpoints: false,
    } satisfies Config,
  );
});

Deno.test("parseConfig() accepts valid input", async (t) => {
  const cases: [string, string[], Env, Partial<Config>][] = [
    ["--flag value", ["--id", "n2"], {}, { id: "n2", dataDir: "./data/n2" }],
    ["--flag=value", ["--id=n2"], {}, { id: "n2" }],
    ["env var", [], { RAFTKV_ID: "n3" }, { id: "n3" }],
    ["flag wins over env", ["--id", "n2"], { RAFTKV_ID: "n3" }, { id: "n2" }],
    ["empty env is unset", [], { RAFTKV_ID: "" }, { id: "n1" }],
    ["an empty unknown variable is unset too", [], { RAFTKV_BOGUS: "" }, { id: "n1" }],
    ["IPv6 listen", ["--listen", "[::1]:9000"], {}, {
      listen: { hostname: "::1", port: 9000 },
      advertise: "http://[::1]:9000",
    }],
    ["hostname listen", ["--listen", "localhost:81"], {}, {
      listen: { hostname: "localhost", port: 81 },
    }],
    ["0.0.0.0 listen", ["--listen=0.0.0.0:8080"], {}, {
      listen: { hostname: "0.0.0.0", port: 8080 },
    }],
    ["advertise trailing slash dropped", ["--advertise", "http://h1:8080/"], {}, {
      advertise: "http://h1:8080",
      peers: [{ id: "n1", url: "http://h1:8080" }],
    }],
    [
      "peers give the default advertise",
      ["--id", "n2", "--peers", "n1=http://a:1, n2=https://b:2"],
      {},
      {
        advertise: "https://b:2",
        peers: [{ id: "n1", url: "http://a:1" }, { id: "n2", url: "https://b:2" }],
      },
    ],
    ["tuning via env", [], { RAFTKV_TICK_MS: "50", RAFTKV_ELECTION_TICKS: "20" }, {
      tickMs: 50,
      electionTicks: 20,
      leaseDriftMs: 200,
    }],
    ["body limit follows the value limit", ["--max-value-bytes", "1000"], {}, {
      maxValueBytes: 1000,
      maxBodyBytes: 1000 + 65536,
    }],
    ["explicit lease drift", ["--lease-drift-ms", "0"], {}, { leaseDriftMs: 0 }],
    ["failpoints switch", ["--enable-failpoints"], {}, { enableFailpoints: true }],
    ["failpoints =false", ["--enable-failpoints=false"], {}, { enableFailpoints: false }],
    ["failpoints env 1", [], { RAFTKV_ENABLE_FAILPOINTS: "1" }, { enableFailpoints: true }],
    ["cluster token", ["--cluster-token", "s3cr3t"], {}, { clusterToken: "s3cr3t" }],
    ["log level", [], { RAFTKV_LOG_LEVEL: "debug" }, { logLevel: "debug" }],
    ["data dir", ["--data-dir", "/var/lib/raftkv"], {}, { dataDir: "/var/lib/raftkv" }],
  ];
  for (const [name, args, env, want] of cases) {
    await t.step(name, () => {
      const got = parseConfig(args, env);
      for (const [k, v] of Object.entries(want)) {
        assert.deepEqual(got[k as keyof Config], v, k);
      }
    });
  }
});

Deno.test("parseConfig() rejects bad input with a message naming the flag", async (t) => {
  const cases: [string, string[], Env, RegExp][] = [
    ["unknown flag", ["--bogus", "1"], {}, /Unknown flag "--bogus"/],
    [
      "misspelt variable",
      [],
      { RAFTKV_DATADIR: "/d" },
      /RAFTKV_DATADIR; did you mean RAFTKV_DATA_DIR/,
    ],
    ["unknown variable", [], { RAFTKV_BOGUS: "1" }, /Unknown variable RAFTKV_BOGUS \(/],
    ["positional", ["n1"], {}, /Unexpected argument "n1"/],
    ["single dash", ["-id", "n1"], {}, /Unexpected argument/],
    ["missing value", ["--id"], {}, /--id needs a value/],
    ["value looks like a flag", ["--id", "--listen"], {}, /--id needs a value/],
    ["repeated flag", ["--id", "a", "--id", "b"], {}, /given twice/],
    ["bad id", ["--id", "N1"], {}, /--id: must match/],
    ["long id", ["--id", "a".repeat(33)], {}, /--id/],
    ["bad id from env", [], { RAFTKV_ID: "a b" }, /RAFTKV_ID: must match/],
    ["listen without port", ["--listen", "localhost"], {}, /--listen/],
    ["listen port 0", ["--listen", "h:0"], {}, /--listen/],
    ["listen port too big", ["--listen", "h:65536"], {}, /--listen/],
    ["listen bad IPv4", ["--listen", "300.1.1.1:80"], {}, /--listen/],
    ["listen bare IPv6", ["--listen", "::1:80"], {}, /--listen/],
    ["listen with path", ["--listen", "h/x:80"], {}, /--listen/],
    ["advertise with path", ["--advertise", "http://h:1/x"], {}, /--advertise/],
    ["advertise not http", ["--advertise", "ftp://h:1"], {}, /--advertise/],
    ["advertise with query", ["--advertise", "http://h:1?a"], {}, /--advertise/],
    ["advertise with credentials", ["--advertise", "http://u:p@h:1"], {}, /--advertise/],
    [
      "advertise other than the --peers URL",
      ["--advertise", "http://10.1.1.1:8080", "--peers", "n1=http://127.0.0.1:8080"],
      {},
      /--advertise: must be this node's URL in --peers \(http:\/\/127\.0\.0\.1:8080\)/,
    ],
    ["advertise garbage", ["--advertise", "nope"], {}, /--advertise/],
    ["peers without self", ["--peers", "n2=http://a:1"], {}, /must include this node's id "n1"/],
    ["peers duplicate id", ["--peers", "n1=http://a:1,n1=http://b:1"], {}, /id given twice/],
    ["peers duplicate url", ["--peers", "n1=http://a:1,n2=http://a:1"], {}, /URL given twice/],
    ["peers bad entry", ["--peers", "n1"], {}, /expected id=url/],
    ["peers bad id", ["--peers", "N1=http://a:1"], {}, /id must match/],
    ["peers empty", ["--peers", ""], {}, /--peers/],
    ["peers bad url", ["--peers", "n1=http://a:1/p"], {}, /without path/],
    ["not a number", ["--tick-ms", "abc"], {}, /--tick-ms: must be a whole number/],
    ["negative", ["--tick-ms", "-5"], {}, /--tick-ms: must be a whole number/],
    ["fraction", ["--tick-ms", "1.5"], {}, /--tick-ms/],
    ["exponent", ["--tick-ms", "1e3"], {}, /--tick-ms/],
    ["hex", ["--tick-ms", "0x10"], {}, /--tick-ms/],
    ["zero", ["--tick-ms", "0"], {}, /--tick-ms: must be at least 1/],
    ["bad number from env", [], { RAFTKV_MAX_TXN_OPS: "lots" }, /RAFTKV_MAX_TXN_OPS/],
    [
      "heartbeat >= election",
      ["--heartbeat-ticks", "10"],
      {},
      /--heartbeat-ticks: must be less than --election-ticks \(10\)/,
    ],
    [
      "lease drift >= election timeout",
      ["--lease-drift-ms", "1000"],
      {},
      /--lease-drift-ms: must be less than/,
    ],
    [
      "body below value",
      ["--max-body-bytes", "10", "--max-value-bytes", "100"],
      {},
      /--max-body-bytes/,
    ],
    ["key limit over Deno KV", ["--max-key-bytes", "4096"], {}, /--max-key-bytes: must be at most/],
    ["log level", ["--log-level", "loud"], {}, /--log-level: must be debug, info, warn or error/],
    ["failpoints value", [], { RAFTKV_ENABLE_FAILPOINTS: "yes" }, /RAFTKV_ENABLE_FAILPOINTS/],
    ["empty token", ["--cluster-token="], {}, /--cluster-token/],
    ["token with space", ["--cluster-token", "a b"], {}, /--cluster-token/],
    ["empty data dir", ["--data-dir="], {}, /--data-dir/],
  ];
  for (const [name, args, env, want] of cases) {
    await t.step(name, () => {
      assert.throws(() => parseConfig(args, env), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.match(e.message, want);
        return true;
      });
    });
  }
});

Deno.test("parseConfig() reports every bad value at once", () => {
  assert.throws(
    () => parseConfig(["--tick-ms", "x"], { RAFTKV_ELECTION_TICKS: "y" }),
    /--tick-ms.*\n.*RAFTKV_ELECTION_TICKS/,
  );
});

Deno.test("--help and -h win over anything else", async (t) => {
  for (const args of [["--help"], ["-h"], ["--bogus", "--help"], ["--id", "BAD", "-h"]]) {
    await t.step(args.join(" "), () => {
      const c = parseConfig(args, { RAFTKV_TICK_MS: "nope" });
      assert.equal(c.help, true);
      assert.equal(c.id, "n1");
    });
  }
});

Deno.test("helpText() lists every flag with its variable", () => {
  const text = helpText();
  for (
    const flag of [
      "id",
      "listen",
      "advertise",
      "peers",
      "data-dir",
      "cluster-token",
      "tick-ms",
      "election-ticks",
      "heartbeat-ticks",
      "snapshot-entries",
      "max-key-bytes",
      "max-value-bytes",
      "max-txn-ops",
      "max-body-bytes",
      "request-timeout-ms",
      "lease-drift-ms",
      "log-level",
      "enable-failpoints",
    ]
  ) {
    assert.match(text, new RegExp(`--${flag}\\b`));
    assert.match(text, new RegExp(`RAFTKV_${flag.replaceAll("-", "_").toUpperCase()}\\b`));
  }
  assert.match(text, /-h, --help/);
});

Deno.test("main.ts --help prints the flags with no permissions at all", async () => {
  const main = new URL("../main.ts", import.meta.url).pathname;
  for (const flag of ["--help", "-h"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", main, flag],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(text, /^Usage: deno task start/);
  }
});

Deno.test("listening on every address advertises the machine's name", async (t) => {
  const machine = { hostname: () => "box-7" };
  await t.step(":port is every IPv4 address", () => {
    const c = parseConfig(["--listen", ":7653"], {}, machine);
    assert.deepEqual(c.listen, { hostname: "0.0.0.0", port: 7653 });
    assert.equal(c.advertise, "http://box-7:7653");
  });
  await t.step("0.0.0.0 and :: alone: http://<hostname>:<port>", () => {
    for (const listen of ["0.0.0.0:8080", "[::]:8080"]) {
      const c = parseConfig(["--listen", listen], {}, machine);
      assert.equal(c.advertise, "http://box-7:8080");
      assert.deepEqual(c.peers, [{ id: "n1", url: "http://box-7:8080" }]);
    }
  });
  await t.step("a given --advertise or --peers wins; without a name, the address stays", () => {
    const a = parseConfig(["--listen", "0.0.0.0:1", "--advertise", "http://h:1"], {}, machine);
    assert.equal(a.advertise, "http://h:1");
    const p = parseConfig(["--listen", "0.0.0.0:1", "--peers", "n1=http://p:1"], {}, machine);
    assert.equal(p.advertise, "http://p:1");
    assert.equal(parseConfig(["--listen", "0.0.0.0:1"], {}).advertise, "http://0.0.0.0:1");
    assert.equal(
      parseConfig(["--listen", "127.0.0.1:1"], {}, machine).advertise,
      "http://127.0.0.1:1",
    );
  });
});
