import { test } from "node:test";
import assert from "node:assert/strict";
import * as vega from "vega";
import { compile } from "vega-lite";
import {
  defaultBinCount,
  eigenvalueHistogram,
  equalWidthBins,
  lineChart,
  logTicks,
  symexp,
  symlog,
  symlogBins,
  symlogConstant,
  symlogTicks,
} from "../../src/report/figures.ts";
import { InputError } from "../../src/errors.ts";
import { hostRng } from "../../src/engine/host-rng.ts";

/** A bulk of `n` values near zero plus the given outliers (seeded). */
function spectrum(seed: number, n: number, outliers: number[]): number[] {
  const rng = hostRng(seed);
  return [...Array.from({ length: n }, () => 0.01 * rng.normal()), ...outliers];
}

/** Brute-force oracle: how many values fall in [lo, hi) (closed on the right for the last bin). */
function countIn(values: number[], lo: number, hi: number, last: boolean): number {
  return values.filter((v) => v >= lo && (last ? v <= hi : v < hi)).length;
}

type Spec = Record<string, any>;
const dataOf = (s: Spec): Spec[] => s.data.values;

test("equalWidthBins: edges span [min, max] evenly and counts match a brute-force count", () => {
  const values = spectrum(1, 300, [2, 3.5, 7]);
  const bins = equalWidthBins(values, 17);
  assert.equal(bins.length, 17);
  const min = Math.min(...values), max = Math.max(...values);
  assert.equal(bins[0].lo, min);
  assert.equal(bins[16].hi, max);
  const w = (max - min) / 17;
  bins.forEach((b, k) => {
    assert.ok(Math.abs(b.hi - b.lo - w) < 1e-12 * (max - min));
    if (k > 0) assert.equal(b.lo, bins[k - 1].hi);
    assert.equal(b.count, countIn(values, b.lo, b.hi, k === 16), `bin ${k}`);
  });
  assert.equal(bins.reduce((s, b) => s + b.count, 0), values.length);
});

test("equalWidthBins: a constant sample gets one bar of positive width", () => {
  const bins = equalWidthBins([3, 3, 3], 4);
  assert.deepEqual(bins.map((b) => b.count), [0, 0, 3, 0]);
  assert.equal(bins[0].lo, 1.5);
  assert.equal(bins[3].hi, 4.5);
});

test("defaultBinCount: square-root rule clamped to [10, 100]", () => {
  assert.equal(defaultBinCount(5), 10);
  assert.equal(defaultBinCount(505), 23);
  assert.equal(defaultBinCount(5000), 71);
  assert.equal(defaultBinCount(1e6), 100);
});

test("symlog matches Vega's symlog scale and symexp inverts it", () => {
  const c = 0.003, lo = -0.05, hi = 40;
  const scale = (vega.scale("symlog") as any)().constant(c).domain([lo, hi]).range([0, 1]);
  for (const x of [-0.05, -0.001, 0, 0.002, 0.1, 3, 40]) {
    const ours = (symlog(x, c) - symlog(lo, c)) / (symlog(hi, c) - symlog(lo, c));
    assert.ok(Math.abs(ours - scale(x)) < 1e-12, `x = ${x}`);
    assert.ok(Math.abs(symexp(symlog(x, c), c) - x) <= 1e-12 * Math.max(1, Math.abs(x)));
  }
});

test("symlogConstant: median |value|, with fallbacks for zeros", () => {
  assert.equal(symlogConstant([-4, 1, 2, 3, 100]), 3);
  assert.equal(symlogConstant([-4, 1, 2, 100]), 3);
  assert.equal(symlogConstant([0, 0, 0, 5]), 5e-3);
  assert.equal(symlogConstant([0, 0]), 1);
});

test("symlogBins: equal width in symlog units, counts match a brute-force count", () => {
  const values = spectrum(2, 400, [1, 5, 30]);
  const c = symlogConstant(values);
  const bins = symlogBins(values, 25, c);
  const widths = bins.map((b) => symlog(b.hi, c) - symlog(b.lo, c));
  for (const w of widths) assert.ok(Math.abs(w - widths[0]) < 1e-9);
  bins.forEach((b, k) => {
    // Values exactly on an edge may round to either side through the transform; none are here.
    assert.equal(b.count, countIn(values, b.lo, b.hi, k === 24), `bin ${k}`);
  });
});

test("logTicks: powers of ten over many decades, 1-2-5 over few", () => {
  assert.deepEqual(logTicks(1, 10000), [1, 10, 100, 1000, 10000]);
  assert.deepEqual(logTicks(1, 100), [1, 2, 5, 10, 20, 50, 100]);
  assert.deepEqual(logTicks(0.1, 1), [0.1, 0.2, 0.3, 0.5, 1]);
});

test("symlogTicks: sorted, inside the domain, 0 included, spaced at least a tenth of the axis", () => {
  const c = 0.0016, lo = -0.0077, hi = 25.3;
  const ticks = symlogTicks(lo, hi, c);
  assert.ok(ticks.includes(0));
  for (const v of [0.01, 0.1, 1, 10]) assert.ok(ticks.includes(v), `missing ${v}: ${ticks}`);
  const t = ticks.map((v) => symlog(v, c));
  const gap = (symlog(hi, c) - symlog(lo, c)) / 10;
  for (let i = 1; i < ticks.length; i++) {
    assert.ok(ticks[i] > ticks[i - 1]);
    assert.ok(t[i] - t[i - 1] >= gap - 1e-12);
  }
  assert.ok(ticks[0] >= lo && ticks[ticks.length - 1] <= hi);
});

test("eigenvalueHistogram: one bar per non-empty bin, counts add up, log count axis by default", () => {
  const ev = spectrum(3, 500, [2, 3, 5, 8, 13]);
  const spec = eigenvalueHistogram({ eigenvalues: ev, title: "spectrum", bins: 30 }) as Spec;
  const rows = dataOf(spec);
  const expected = equalWidthBins(ev, 30).filter((b) => b.count > 0);
  assert.deepEqual(rows.map((r) => r.count), expected.map((b) => b.count));
  assert.equal(rows.reduce((s, r) => s + r.count, 0), 505);
  assert.equal(spec.encoding.y.scale.type, "log");
  assert.equal(spec.encoding.y2.datum, 0.5); // a count of 1 still draws a bar
  assert.equal(spec.encoding.x.title, "eigenvalue");
  assert.equal(spec.encoding.y.title, "count");
  // The spec is valid Vega-Lite (compiles) and plain JSON.
  assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
  compile(spec as any);

  const linear = eigenvalueHistogram({ eigenvalues: ev, title: "spectrum", bins: 30, logCount: false }) as Spec;
  assert.equal(linear.encoding.y.scale.type, "linear");
  assert.equal(linear.encoding.y2.datum, 0);
});

test("eigenvalueHistogram: default bins follow the square-root rule; 'both' gives two panels sharing y", () => {
  const ev = spectrum(4, 995, [4, 9, 20, 40, 80]);
  const one = eigenvalueHistogram({ eigenvalues: ev, title: "t" }) as Spec;
  assert.match(one.title.subtitle, /n = 1000, 32 equal-width bins/);
  const both = eigenvalueHistogram({ eigenvalues: ev, title: "t", xScale: "both" }) as Spec;
  assert.equal(both.hconcat.length, 2);
  assert.equal(both.resolve.scale.y, "shared");
  assert.equal(both.hconcat[1].encoding.x.scale.type, "symlog");
  for (const p of both.hconcat) assert.equal(dataOf(p).reduce((s: number, r: Spec) => s + r.count, 0), 1000);
  compile(both as any);
  const sym = eigenvalueHistogram({ eigenvalues: ev, title: "t", xScale: "symlog", subtitle: "" }) as Spec;
  assert.equal(sym.encoding.x.scale.type, "symlog");
  assert.equal(sym.title.subtitle, undefined);
});

test("eigenvalueHistogram: bad input throws InputError naming it", () => {
  const bad = (opts: any, input: string) =>
    assert.throws(() => eigenvalueHistogram({ title: "t", ...opts }), (e: unknown) => e instanceof InputError && e.input === input);
  bad({ eigenvalues: [] }, "eigenvalues");
  bad({ eigenvalues: [1, NaN] }, "eigenvalues");
  bad({ eigenvalues: [1, Infinity] }, "eigenvalues");
  bad({ eigenvalues: [1, 2], bins: 0 }, "bins");
  bad({ eigenvalues: [1, 2], bins: 2.5 }, "bins");
  bad({ eigenvalues: [1, 2], xScale: "log" }, "xScale");
});

test("lineChart: long-format rows in series order, non-finite y dropped, log y drops y <= 0", () => {
  const spec = lineChart({
    title: "loss",
    xTitle: "step",
    yTitle: "loss",
    series: [
      { name: "b", x: [0, 1, 2], y: [1, NaN, 0.5] },
      { name: "a", x: [0, 1], y: [2, 0] },
    ],
  }) as Spec;
  assert.deepEqual(dataOf(spec), [
    { series: "b", x: 0, y: 1 },
    { series: "b", x: 2, y: 0.5 },
    { series: "a", x: 0, y: 2 },
    { series: "a", x: 1, y: 0 },
  ]);
  assert.deepEqual(spec.encoding.color.sort, ["b", "a"]);
  assert.equal(spec.encoding.x.title, "step");
  compile(spec as any);

  const log = lineChart({ title: "t", xTitle: "x", yTitle: "y", logY: true, series: [{ name: "a", x: [0, 1, 2], y: [0.5, 0, 0.02] }] }) as Spec;
  assert.deepEqual(dataOf(log).map((r) => r.y), [0.5, 0.02]);
  assert.equal(log.encoding.y.scale.type, "log");
  assert.deepEqual(log.encoding.y.axis.values, [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]);
  assert.equal(log.encoding.color.legend, null); // one series: no legend
});

test("lineChart: bad input throws InputError", () => {
  const isInput = (e: unknown) => e instanceof InputError;
  const base = { title: "t", xTitle: "x", yTitle: "y" };
  assert.throws(() => lineChart({ ...base, series: [] }), isInput);
  assert.throws(() => lineChart({ ...base, series: [{ name: "a", x: [1, 2], y: [1] }] }), isInput);
  assert.throws(() => lineChart({ ...base, series: [{ name: "a", x: [NaN], y: [1] }] }), isInput);
  assert.throws(() => lineChart({ ...base, series: [{ name: "a", x: [1], y: [1] }, { name: "a", x: [1], y: [2] }] }), isInput);
  assert.throws(() => lineChart({ ...base, logY: true, series: [{ name: "a", x: [1], y: [-1] }] }), isInput);
});

test("lineChart: colour groups, dashed reference lines and a log x axis", () => {
  const spec = lineChart({
    title: "t", xTitle: "d", yTitle: "acc", logX: true,
    lineStyles: { solid: "measured", dashed: "target" },
    series: [
      { name: "w1", group: "w1", x: [0, 10, 100], y: [0.5, 0.7, 0.9] },
      { name: "w1 target", group: "w1", dashed: true, x: [10, 100], y: [0.8, 0.8] },
      { name: "w2", group: "w2", x: [10, 100], y: [0.6, 0.95] },
    ],
  }) as Spec;
  // x = 0 cannot sit on a log axis: dropped.
  assert.deepEqual(dataOf(spec)[0], { series: "w1", group: "w1", style: "measured", x: 10, y: 0.7 });
  assert.equal(dataOf(spec).length, 6);
  assert.equal(spec.encoding.color.field, "group");
  assert.deepEqual(spec.encoding.color.sort, ["w1", "w2"]);
  assert.deepEqual(spec.encoding.strokeDash.scale.domain, ["measured", "target"]);
  assert.equal(spec.encoding.detail.field, "series");
  assert.equal(spec.encoding.x.scale.type, "log");
  compile(spec as any);
});
