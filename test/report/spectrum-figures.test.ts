import { test } from "node:test";
import assert from "node:assert/strict";
import { compile } from "vega-lite";
import { densityChart, rankPlot, spectrumOverlay } from "../../src/report/spectrum-figures.ts";
import { PANEL_HEIGHT, PANEL_WIDTH, symlog, symlogConstant } from "../../src/report/figures.ts";
import { toSvg } from "../../src/report/render.ts";
import { InputError } from "../../src/errors.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { logPos, markItems, near, pathPoints, svgTexts } from "./svg-marks.ts";

type Spec = Record<string, any>;

/** A bulk of `n` values of scale `s` near zero plus the given outliers (seeded). */
function spectrum(seed: number, n: number, s: number, outliers: number[]): number[] {
  const rng = hostRng(seed);
  return [...Array.from({ length: n }, () => s * rng.normal()), ...outliers];
}

/** Brute-force oracle: how many values fall in [lo, hi) (closed on the right for the last bin). */
const countIn = (values: number[], lo: number, hi: number, last: boolean) =>
  values.filter((v) => v >= lo && (last ? v <= hi : v < hi)).length;

/** [lo, hi] holds [min, max], ends on 1-2-5 values, and is the tightest such bracket. */
function assertNiceBracket(lo: number, hi: number, min: number, max: number): void {
  const mantissa = (v: number) => Number((v / 10 ** Math.floor(Math.log10(v) + 1e-9)).toPrecision(6));
  assert.ok([1, 2, 5].includes(mantissa(lo)) && [1, 2, 5].includes(mantissa(hi)), `not 1-2-5: ${lo}, ${hi}`);
  assert.ok(lo <= min && max <= hi, `[${lo}, ${hi}] does not hold [${min}, ${max}]`);
  // The next 1-2-5 value inward would cut the data: each step is at most x2.5.
  assert.ok(lo * 2.5 > min && hi / 2.5 < max, `[${lo}, ${hi}] is not tight around [${min}, ${max}]`);
}

const A = spectrum(1, 300, 0.01, [2, 3, 5]);
const B = spectrum(2, 600, 0.02, [2.2, 3.3]);

test("spectrumOverlay: shared bins, counts match a brute-force count, outline closes at the floor", async () => {
  const spec = spectrumOverlay({ spectra: [{ name: "a", eigenvalues: A }, { name: "b", eigenvalues: B }], title: "t", bins: 20, xScale: "linear" }) as Spec;
  compile(spec as any);
  assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
  const rows: Spec[] = spec.data.values;
  for (const [name, values] of [["a", A], ["b", B]] as const) {
    const own = rows.filter((r) => r.series === name).sort((p, q) => p.i - q.i);
    assert.equal(own.length, 20 + 3);
    assert.equal(own[0].y, 0.5);
    assert.equal(own.at(-1)!.y, 0.5);
    const bins = own.slice(1, 21);
    const lo = Math.min(...A, ...B), hi = Math.max(...A, ...B);
    bins.forEach((b, k) => {
      near(b.lo, lo + ((hi - lo) * k) / 20, 1e-12, `edge ${k}`);
      assert.equal(b.count, countIn(values, b.lo, b.hi, k === 19), `${name} bin ${k}`);
      assert.equal(b.y, Math.max(b.count, 0.5));
    });
    assert.equal(bins.reduce((s, b) => s + b.count, 0), values.length);
  }
  // Both series use the same edges.
  const edges = (n: string) => rows.filter((r) => r.series === n).map((r) => r.x);
  assert.deepEqual(edges("a"), edges("b"));
  assert.equal(spec.encoding.y.scale.type, "log");
  assert.equal(spec.encoding.y.title, "count per bin");

  // Drawn: one outline per spectrum; the tallest step of B (the bulk) sits where the log scale puts it.
  const svg = await toSvg(spec as any);
  const lines = markItems(svg, "line");
  assert.equal(lines.length, 2);
  const top = spec.encoding.y.scale.domain[1];
  const maxB = Math.max(...rows.filter((r) => r.series === "b").map((r) => r.count));
  const yB = Math.min(...pathPoints(lines[1].d!).map((p) => p.y));
  near(yB, PANEL_HEIGHT - logPos(maxB, 0.5, top, PANEL_HEIGHT), 0.01, "top of b's bulk");
  const texts = svgTexts(svg);
  for (const t of ["a", "b", "count per bin", "eigenvalue", "t"]) assert.ok(texts.includes(t), `missing text ${t}`);
});

test("spectrumOverlay: symlog bins are equal in symlog units; fractions sum to 1 per spectrum", () => {
  const spec = spectrumOverlay({ spectra: [{ name: "a", eigenvalues: A }, { name: "b", eigenvalues: B }], title: "t", bins: 25, normalize: "fraction" }) as Spec;
  compile(spec as any);
  const c = symlogConstant([...A, ...B]);
  assert.equal(spec.encoding.x.scale.type, "symlog");
  assert.equal(spec.encoding.x.scale.constant, c);
  const rows: Spec[] = spec.data.values;
  const a = rows.filter((r) => r.series === "a").slice(1, 26);
  const widths = a.map((b) => symlog(b.hi, c) - symlog(b.lo, c));
  for (const w of widths) near(w, widths[0], 1e-9, "symlog bin width");
  a.forEach((b, k) => assert.equal(b.count, countIn(A, b.lo, b.hi, k === 24), `bin ${k}`));
  for (const [name, n] of [["a", A.length], ["b", B.length]] as const) {
    const bins = rows.filter((r) => r.series === name).slice(1, 26);
    near(bins.reduce((s, r) => s + r.count / n, 0), 1, 1e-12, name);
    for (const r of bins) if (r.count > 0) near(r.y, r.count / n, 1e-15, "fraction");
  }
  assert.equal(spec.encoding.y.scale.domain[0], 0.5 / B.length); // half the smallest possible fraction
  assert.ok(spec.encoding.y.scale.domain[1] <= 1, "fractions top out at 1");
});

test("spectrumOverlay: bad input throws InputError naming it", () => {
  const bad = (opts: any, input: string) =>
    assert.throws(() => spectrumOverlay({ title: "t", ...opts }), (e: unknown) => e instanceof InputError && e.input.startsWith(input));
  bad({ spectra: [] }, "spectra");
  bad({ spectra: [{ name: "a", eigenvalues: [] }] }, "spectra");
  bad({ spectra: [{ name: "a", eigenvalues: [1, NaN] }] }, "spectra");
  bad({ spectra: [{ name: "a", eigenvalues: [1] }, { name: "a", eigenvalues: [2] }] }, "spectra");
  bad({ spectra: [{ name: "a", eigenvalues: [1] }], bins: 0 }, "bins");
  bad({ spectra: [{ name: "a", eigenvalues: [1] }], xScale: "log" }, "xScale");
  bad({ spectra: [{ name: "a", eigenvalues: [1] }], normalize: "density" }, "normalize");
});

test("rankPlot: the top-m of each series in decreasing order, drawn where the log scale puts them", async () => {
  const spec = rankPlot({ series: [{ name: "H", eigenvalues: A }, { name: "G", eigenvalues: B }], title: "top", top: 8 }) as Spec;
  compile(spec as any);
  const rows: Spec[] = spec.data.values;
  for (const [name, values] of [["H", A], ["G", B]] as const) {
    const expected = [...values].sort((p, q) => q - p).slice(0, 8);
    assert.deepEqual(rows.filter((r) => r.series === name).map((r) => r.eigenvalue), expected);
    assert.deepEqual(rows.filter((r) => r.series === name).map((r) => r.rank), [1, 2, 3, 4, 5, 6, 7, 8]);
  }
  const svg = await toSvg(spec as any);
  const pts = markItems(svg, "symbol");
  assert.equal(pts.length, 16);
  const [lo, hi] = spec.encoding.y.scale.domain;
  // Oracle: x linear over [0, top + 1], y log over the 1-2-5 rounded domain.
  const all = rows.map((r) => r.eigenvalue);
  assertNiceBracket(lo, hi, Math.min(...all), Math.max(...all));
  rows.forEach((r, i) => {
    near(pts[i].x, (r.rank / 9) * PANEL_WIDTH, 0.01, `x of ${r.series} rank ${r.rank}`);
    near(pts[i].y, PANEL_HEIGHT - logPos(r.eigenvalue, lo, hi, PANEL_HEIGHT), 0.01, `y of ${r.series} rank ${r.rank}`);
  });
  assert.ok(svgTexts(svg).includes("rank (1 = largest)"), "x-axis title");
});

test("rankPlot: non-positive eigenvalues are left out on a log axis (and said so); kept on a linear one", () => {
  const ev = [3, 1, 0, -0.5, -2];
  const log = rankPlot({ series: [{ name: "x", eigenvalues: ev }], title: "t", top: 5 }) as Spec;
  assert.deepEqual(log.data.values.map((r: Spec) => r.eigenvalue), [3, 1]);
  assert.match(log.title.subtitle, /3 non-positive ones left out/);
  const lin = rankPlot({ series: [{ name: "x", eigenvalues: ev }], title: "t", top: 5, logY: false }) as Spec;
  assert.deepEqual(lin.data.values.map((r: Spec) => r.eigenvalue), [3, 1, 0, -0.5, -2]);
  compile(lin as any);
  assert.throws(() => rankPlot({ series: [{ name: "x", eigenvalues: [-1] }], title: "t" }), InputError);
  assert.throws(() => rankPlot({ series: [{ name: "x", eigenvalues: [1] }], title: "t", top: 0 }), InputError);
});

/** Gaussian-broadened density of `ev` on `grid` (what SLQ returns, up to quadrature error). */
function broadened(ev: number[], grid: number[], sigma: number): number[] {
  return grid.map((x) => ev.reduce((s, l) => s + Math.exp(-((x - l) ** 2) / (2 * sigma * sigma)), 0) / (ev.length * sigma * Math.sqrt(2 * Math.PI)));
}

test("densityChart: log y with the floor documented, rug of exact eigenvalues at their x", async () => {
  const ev = spectrum(3, 200, 0.01, [1, 2.5]);
  const grid = Array.from({ length: 200 }, (_, i) => -0.1 + (2.8 * i) / 199);
  const density = broadened(ev, grid, 0.03);
  const spec = densityChart({ grid, density, title: "density", eigenvalues: ev }) as Spec;
  compile(spec as any);
  const max = Math.max(...density);
  const rows: Spec[] = spec.layer[1].data.values;
  const clipped = density.filter((d) => d < 1e-6 * max).length;
  assert.ok(clipped > 10, `the test needs clipped points, got ${clipped}`);
  rows.forEach((r, i) => {
    assert.equal(r.value, density[i]);
    assert.equal(r.density, Math.max(density[i], 1e-6 * max));
  });
  assert.match(spec.title.subtitle, new RegExp(`clipped below 1e−6 × max \\(${clipped} of 200 grid points\\)`));
  assert.match(spec.title.subtitle, /the 202 exact eigenvalues/);

  const svg = await toSvg(spec as any);
  const rug = markItems(svg, "rule");
  assert.equal(rug.length, ev.length);
  const lo = Math.min(grid[0], ...ev), hi = Math.max(grid.at(-1)!, ...ev);
  ev.forEach((v, i) => near(rug[i].x, ((v - lo) / (hi - lo)) * PANEL_WIDTH, 0.01, `rug tick ${i}`));
  const [line] = markItems(svg, "line");
  const [dLo, dHi] = spec.layer[0].encoding.y.scale.domain;
  const topY = Math.min(...pathPoints(line.d!).map((p) => p.y));
  near(topY, PANEL_HEIGHT - logPos(max, dLo, dHi, PANEL_HEIGHT), 0.01, "peak of the density");
  assert.equal(markItems(svg, "area").length, 1);
  assert.ok(svgTexts(svg).includes("density"), "y-axis title");
});

test("densityChart: symlog axis and linear y; bad input throws InputError naming it", () => {
  const grid = [-1, 0, 1, 2], density = [0.1, 1, 0.5, 0];
  const sym = densityChart({ grid, density, title: "t", xScale: "symlog", logY: false }) as Spec;
  compile(sym as any);
  assert.equal(sym.layer[0].encoding.x.scale.type, "symlog");
  assert.deepEqual(sym.layer[1].data.values.map((r: Spec) => r.density), density);
  assert.equal(sym.title.subtitle, undefined);
  const bad = (opts: any, input: string) =>
    assert.throws(() => densityChart({ grid, density, title: "t", ...opts }), (e: unknown) => e instanceof InputError && e.input === input);
  bad({ grid: [0] , density: [1] }, "grid");
  bad({ density: [1, 2] }, "density");
  bad({ grid: [0, 1, 1, 2] }, "grid");
  bad({ density: [0, 1, NaN, 0] }, "density");
  bad({ density: [0, 0, 0, 0] }, "density");
  bad({ floor: 0 }, "floor");
  bad({ eigenvalues: [Infinity] }, "eigenvalues");
});
