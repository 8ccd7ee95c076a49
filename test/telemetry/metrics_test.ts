/** The Prometheus registry in `src/telemetry/metrics.ts`. */
import assert from "node:assert/strict";
import { formatValue, Histogram, Registry } from "../../src/telemetry/metrics.ts";

Deno.test("Counter: counts per label set, whatever the key order", () => {
  const c = new Registry().counter("c_total", "help");
  c.inc({ a: "1", b: "2" });
  c.inc({ b: "2", a: "1" }, 2);
  c.inc();
  assert.equal(c.value({ a: "1", b: "2" }), 3);
  assert.equal(c.value(), 1);
  assert.equal(c.value({ a: "other" }), 0);
});

Deno.test("Counter: never shrinks: negative or NaN increments are dropped", () => {
  const c = new Registry().counter("c_total", "help");
  c.inc({}, 5);
  c.inc({}, -1);
  c.inc({}, NaN);
  assert.equal(c.value(), 5);
});

Deno.test("Counter: init makes a series at zero; it renders", () => {
  const r = new Registry();
  const c = r.counter("c_total", "help");
  assert.equal(r.render(), "# HELP c_total help\n# TYPE c_total counter\n");
  c.init({ k: "v" });
  assert.match(r.render(), /^c_total\{k="v"\} 0$/m);
});

Deno.test("bound series add to the same series as labelled calls", () => {
  const r = new Registry();
  const c = r.counter("c_total", "help");
  const inc = c.bind({ b: "2", a: "1" });
  inc();
  inc(2);
  inc(-1); // dropped, as inc() drops it
  c.inc({ a: "1", b: "2" });
  assert.equal(c.value({ a: "1", b: "2" }), 4);
  const h = r.histogram("h", "sizes", [1, 2]);
  const observe = h.bind({ k: "v" });
  observe(1.5);
  h.observe(3, { k: "v" });
  assert.equal(h.count({ k: "v" }), 2);
  assert.equal(h.sum({ k: "v" }), 4.5);
  assert.match(r.render(), /^h_bucket\{k="v",le="2"\} 1$/m);
});

Deno.test("Gauge: set overwrites, labels separate series", () => {
  const r = new Registry();
  const g = r.gauge("g", "a gauge");
  g.set(3);
  g.set(-2);
  g.set(7, { peer: "n2" });
  assert.equal(g.value(), -2);
  assert.equal(g.value({ peer: "n2" }), 7);
  assert.equal(
    r.render(),
    '# HELP g a gauge\n# TYPE g gauge\ng -2\ng{peer="n2"} 7\n',
  );
});

Deno.test("Histogram: cumulative buckets, +Inf, sum and count", () => {
  const r = new Registry();
  const h = r.histogram("h", "sizes", [1, 2, 4]);
  for (const v of [0, 1, 1.5, 2, 3, 4, 100]) h.observe(v);
  assert.equal(h.count(), 7);
  assert.equal(h.sum(), 111.5);
  assert.equal(
    r.render(),
    [
      "# HELP h sizes",
      "# TYPE h histogram",
      'h_bucket{le="1"} 2',
      'h_bucket{le="2"} 4',
      'h_bucket{le="4"} 6',
      'h_bucket{le="+Inf"} 7',
      "h_sum 111.5",
      "h_count 7",
      "",
    ].join("\n"),
  );
});

Deno.test("Histogram: labels come before le", () => {
  const r = new Registry();
  r.histogram("h", "x", [1]).observe(0.5, { peer: "n3" });
  assert.match(r.render(), /^h_bucket\{peer="n3",le="1"\} 1$/m);
  assert.match(r.render(), /^h_count\{peer="n3"\} 1$/m);
});

Deno.test("Histogram: a value on a bound falls in that bucket (le is inclusive)", () => {
  const h = new Histogram("h", "x", [0.5, 1]);
  h.observe(0.5);
  assert.match(h.render().join("\n"), /h_bucket\{le="0.5"\} 1/);
});

Deno.test("Histogram: bounds must be finite and increasing", () => {
  assert.throws(() => new Histogram("h", "x", [1, 1]), RangeError);
  assert.throws(() => new Histogram("h", "x", [2, 1]), RangeError);
  assert.throws(() => new Histogram("h", "x", [1, Infinity]), RangeError);
});

Deno.test("Registry: refuses bad and duplicate names", () => {
  const r = new Registry();
  assert.throws(() => r.counter("1bad", "x"), RangeError);
  assert.throws(() => r.gauge("has-dash", "x"), RangeError);
  r.counter("ok_total", "x");
  assert.throws(() => r.gauge("ok_total", "x"), RangeError);
});

Deno.test("Registry: escapes label values and help text", () => {
  const r = new Registry();
  r.counter("c", 'line\nbreak \\ "quoted"').inc({ v: 'a"b\\c\nd' });
  const text = r.render();
  assert.match(text, /^# HELP c line\\nbreak \\\\ "quoted"$/m);
  assert.ok(text.includes('c{v="a\\"b\\\\c\\nd"} 1'));
});

Deno.test("Registry: renders metrics in registration order, one trailing newline", () => {
  const r = new Registry();
  r.gauge("b", "x").set(1);
  r.gauge("a", "x").set(2);
  const text = r.render();
  assert.ok(text.indexOf("# TYPE b") < text.indexOf("# TYPE a"));
  assert.ok(text.endsWith("a 2\n"));
});

Deno.test("formatValue spells infinities and NaN the Prometheus way", () => {
  assert.equal(formatValue(Infinity), "+Inf");
  assert.equal(formatValue(-Infinity), "-Inf");
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue(0.25), "0.25");
  assert.equal(formatValue(1e-7), "1e-7");
});
