// The bulk / outlier split against spectra built with known answers: bulks of seven shapes
// (Hessian-like spikes with long or one-sided tails, exact-zero spikes, Gaussian, uniform,
// Marchenko-Pastur, rank-deficient Wishart), with outliers planted at known values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../../src/errors.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { splitBulkOutliers } from "../../src/spectrum/bulk-outliers.ts";
import { bulk, extent, plant, SHAPES } from "./synthetic.ts";

const SEEDS = 30;
// Sizes per seed: the dense Hessians of the study have ~400-2000 eigenvalues. Wishart bulks are
// eigendecompositions of their own, kept <= 300 for time. Below ~100 values away from the
// center a long-tailed bulk forms a >= 2.5 gap by itself in a few % of draws (module comment).
const sizeOf = (shape: string, seed: number) => (shape.startsWith("mp") ? [100, 200, 300] : [300, 600, 1000])[seed % 3];

test("recovers the planted outliers exactly (count and values, both sides), 7 bulk shapes x 30 seeds", () => {
  let cases = 0;
  for (const shape of SHAPES) {
    for (let seed = 0; seed < SEEDS; seed++) {
      const n = sizeOf(shape, seed);
      const rng = hostRng(1000 * seed + shape.length);
      const q = rng.int(11); // 0 .. 10 above
      // 0 .. 3 below; none for the rank-deficient Wishart: it is positive semidefinite (a
      // Gauss-Newton-like spectrum), its lower side a wall of zeros whose padding, measured with
      // the outliers included, moves too much at n = 100 for a planted value to keep its margin.
      const drawn = rng.int(4);
      const qNeg = shape === "mp-rank-deficient" ? 0 : drawn;
      // Planted at 5x to 100x the bulk's reach R = max(own extent E, robust scale s) from its
      // median: the smallest outlier's padded ratio is then >= (5R + s) / (E + s) >= 3, which
      // leaves room for the shift of the median and scale that the outliers themselves cause
      // (up to 13 of 100-1000 values); the threshold itself is tested exactly below.
      const { spectrum, above, below } = plant(bulk(shape, n, seed), q, qNeg, seed, 5, 100);
      const r = splitBulkOutliers(spectrum);
      const where = `${shape}, n=${n}, seed ${seed}, planted ${q} / ${qNeg}`;
      assert.equal(r.outlierCount, q, `${where}: found ${r.outlierCount} above (ratios ${r.ratios.slice(0, 12).map((x) => x.toFixed(2))})`);
      assert.equal(r.negativeOutlierCount, qNeg, `${where}: found ${r.negativeOutlierCount} below`);
      assert.deepEqual(r.outliers, above, where);
      assert.deepEqual(r.negativeOutliers, below, where);
      assert.equal(r.bulk.count, spectrum.length - q - qNeg);
      if (q > 0) {
        assert.equal(r.gap!.outer, above[q - 1]);
        assert.equal(r.gap!.inner, r.bulk.max);
        assert.ok(r.gap!.ratio >= 2.5);
      } else assert.equal(r.gap, null);
      cases++;
    }
  }
  assert.equal(cases, SHAPES.length * SEEDS);
});

test("finds nothing in a bulk without outliers, 7 shapes x 30 seeds", () => {
  for (const shape of SHAPES) {
    for (let seed = 0; seed < SEEDS; seed++) {
      const n = sizeOf(shape, seed);
      const values = bulk(shape, n, 100 + seed);
      const r = splitBulkOutliers(values);
      assert.equal(r.outlierCount + r.negativeOutlierCount, 0, `${shape}, n=${n}, seed ${100 + seed}: max ratio ${Math.max(...r.ratios)}`);
      assert.equal(r.bulk.count, n);
      assert.equal(r.bulk.min, Math.min(...values));
      assert.equal(r.bulk.max, Math.max(...values));
      assert.ok(r.strongestGap!.ratio < 2.5);
    }
  }
});

test("the threshold means what it says: an outlier just above 2.5x the bulk's padded top distance is found, just below is not", () => {
  for (let seed = 0; seed < 10; seed++) {
    const values = bulk("laplace-asym", 500, seed);
    const { center, scale } = splitBulkOutliers(values).reference;
    const top = Math.max(...values);
    for (const [factor, expected] of [[2.52, 1], [2.48, 0]] as const) {
      // A candidate c with (c - center + s) / (top - center + s) = factor. Adding it moves the
      // median and MAD by about one spacing near the center (~1e-3 of the top): far below 0.02.
      const c = center + factor * (top - center + scale) - scale;
      const r = splitBulkOutliers([...values, c]);
      const { center: c2, scale: s2 } = r.reference;
      const ratio = (c - c2 + s2) / (top - c2 + s2);
      assert.ok(Math.abs(ratio - r.ratios[0]) < 1e-12 && Math.abs(ratio - factor) < 0.005, `seed ${seed}: ratio ${ratio}`);
      assert.equal(r.outlierCount, expected, `seed ${seed}, factor ${factor}: ratio ${r.ratios[0]}`);
    }
  }
});

test("invariant to order, positive scaling and shifts; widening the bulk 4x scales its width 4x and keeps the outliers", () => {
  for (let seed = 0; seed < 10; seed++) {
    const { spectrum, above } = plant(bulk("spike-laplace", 1000, seed), 5, 0, seed, 4, 100);
    const r = splitBulkOutliers(spectrum);
    assert.equal(r.outlierCount, 5);
    const shuffled = splitBulkOutliers([...spectrum].reverse());
    assert.deepEqual(shuffled.outliers, r.outliers);
    const scaled = splitBulkOutliers(spectrum.map((v) => 7.5 * v));
    assert.equal(scaled.outlierCount, 5);
    const shifted = splitBulkOutliers(spectrum.map((v) => v + 3));
    assert.equal(shifted.outlierCount, 5);
    // The bulk alone widened 4x under the same outliers, planted at >= 16x the narrow bulk's
    // reach so that they stay >= 4x the wide one's.
    const b = bulk("laplace-asym", 400, seed);
    const far = plant(b, 5, 0, seed, 16, 100);
    const wide = [...b.map((v) => 4 * v), ...far.above];
    const narrow = splitBulkOutliers([...b, ...far.above]);
    const widened = splitBulkOutliers(wide);
    assert.deepEqual(widened.outliers, far.above);
    assert.deepEqual(narrow.outliers, far.above);
    assert.ok(Math.abs(widened.bulk.width / narrow.bulk.width - 4) < 1e-12);
    assert.ok(Math.abs(widened.bulk.scale / narrow.bulk.scale - 4) < 1e-12);
    const iq = (r: typeof narrow) => r.bulk.quantiles.p99 - r.bulk.quantiles.p01;
    assert.ok(Math.abs(iq(widened) / iq(narrow) - 4) < 1e-12);
    assert.deepEqual(r.outliers, above);
  }
});

test("rule: lowest takes every group above the bulk, strongest stops at the clearest gap", () => {
  const rng = hostRng(5);
  const b = Array.from({ length: 300 }, () => rng.normal() * 0.1);
  const spectrum = [...b, 1000, 900, 5, 4.5];
  const lowest = splitBulkOutliers(spectrum);
  assert.deepEqual(lowest.outliers, [1000, 900, 5, 4.5]);
  const strongest = splitBulkOutliers(spectrum, { rule: "strongest" });
  assert.deepEqual(strongest.outliers, [1000, 900]);
  assert.equal(strongest.gap!.outer, 900);
  assert.equal(strongest.gap!.inner, 5);
  assert.equal(lowest.strongestGap!.index, 2);
  // Both agree when there is one clear gap.
  const one = [...b, 3, 2.5, 2];
  assert.equal(splitBulkOutliers(one).outlierCount, 3);
  assert.equal(splitBulkOutliers(one, { rule: "strongest" }).outlierCount, 3);
});

test("degenerate spectra: all zero, constant, rank-deficient with exact or rounding-noise zeros", () => {
  const zeros = splitBulkOutliers(new Array(50).fill(0));
  assert.equal(zeros.outlierCount, 0);
  assert.equal(zeros.negativeOutlierCount, 0);
  assert.equal(zeros.bulk.width, 0);
  assert.equal(zeros.gap, null);
  assert.deepEqual(JSON.parse(JSON.stringify(zeros)), zeros);
  assert.equal(splitBulkOutliers(new Array(20).fill(3.25)).outlierCount, 0);
  // Exact zeros with a few non-zero values: those are the outliers (scale from zeroTol).
  assert.deepEqual(splitBulkOutliers([100, 0, 0, 0]).outliers, [100]);
  assert.deepEqual(splitBulkOutliers([5, 4, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]).outliers, [5, 4, 3]);
  // At most a quarter of the spectrum: with 10 values only 2 may be outliers, and 5 / 4, 4 / 3 are no gaps.
  assert.equal(splitBulkOutliers([5, 4, 3, 0, 0, 0, 0, 0, 0, 0]).outlierCount, 0);
  // A Gauss-Newton-like spectrum: rank 4, the rest rounding noise ~1e-16 of the top.
  const rng = hostRng(2);
  const noise = Array.from({ length: 200 }, () => 1e-16 * rng.normal());
  const g = splitBulkOutliers([...noise, 2.5, 1.2, 0.4, 0.01]);
  assert.deepEqual(g.outliers, [2.5, 1.2, 0.4, 0.01]);
  assert.equal(g.negativeOutlierCount, 0);
  // 60% exact zeros and 40% spread values: the spread part is a bulk (scale from the non-zeros).
  const spike = bulk("spike-laplace", 1000, 3);
  const r = splitBulkOutliers(spike);
  assert.equal(r.reference.scaleFrom, "mad-nonzero");
  assert.equal(r.outlierCount + r.negativeOutlierCount, 0);
});

test("tiny spectra", () => {
  const one = splitBulkOutliers([4]);
  assert.equal(one.outlierCount, 0);
  const q4 = { p01: 4, p05: 4, p25: 4, p75: 4, p95: 4, p99: 4 };
  assert.deepEqual(one.bulk, { count: 1, min: 4, max: 4, width: 0, edge: 4, lowerEdge: 4, median: 4, mean: 4, scale: 0, quantiles: q4 });
  assert.equal(one.strongestGap, null);
  assert.deepEqual(one.ratios, []);
  assert.equal(splitBulkOutliers([0, 10]).outlierCount, 0); // K = floor(n / 4) = 0
  assert.deepEqual(splitBulkOutliers([0, 0, 0, 10]).outliers, [10]);
  assert.equal(splitBulkOutliers([1, 2, 3]).outlierCount, 0);
  assert.deepEqual(splitBulkOutliers([1e3, 0.1, 0.2, 0.15, 0.12]).outliers, [1e3]);
  assert.deepEqual(splitBulkOutliers([-1e3, 0.1, 0.2, 0.15, 0.12]).negativeOutliers, [-1e3]);
  assert.equal(splitBulkOutliers([-1e3, 0.1, 0.2, 0.15, 0.12], { negative: false }).negativeOutlierCount, 0);
  assert.equal(splitBulkOutliers(Float64Array.from([9, 0, 0, 0, 0])).outlierCount, 1);
});

test("maxOutliers caps the count per side; settings are written out; the result is plain JSON", () => {
  const rng = hostRng(9);
  const b = Array.from({ length: 200 }, () => rng.normal());
  const spectrum = [...b, 100, 90, 80, 70, -60, -50];
  const r = splitBulkOutliers(spectrum);
  assert.equal(r.outlierCount, 4);
  assert.deepEqual(r.negativeOutliers, [-60, -50]);
  assert.deepEqual(r.settings, { maxOutliers: 50, minGapRatio: 2.5, zeroTol: 206 * 2 ** -52 * 100, negative: true, rule: "lowest" });
  assert.ok(r.method.includes("median"));
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
  // With at most 2 per side, the gaps among the first two decide: 100/90 and 90/80 are < 2.5.
  const capped = splitBulkOutliers(spectrum, { maxOutliers: 2 });
  assert.equal(capped.outlierCount, 0);
  assert.equal(capped.ratios.length, 2);
  assert.equal(splitBulkOutliers(spectrum, { minGapRatio: 100 }).outlierCount, 0);
});

test("bad input: InputError naming the input", () => {
  const bad: [unknown, object | undefined, RegExp][] = [
    [[1, NaN, 2], undefined, /eigenvalues: expected finite numbers, got NaN at index 1/],
    [[1, Infinity], undefined, /eigenvalues: expected finite numbers/],
    [[], undefined, /eigenvalues: expected at least one/],
    ["1,2", undefined, /eigenvalues: expected an array/],
    [[1, "2"], undefined, /eigenvalues: expected finite numbers/],
    [[1, 2, 3], { minGapRatio: 1 }, /minGapRatio/],
    [[1, 2, 3], { maxOutliers: 1.5 }, /maxOutliers/],
    [[1, 2, 3], { zeroTol: -1 }, /zeroTol/],
    [[1, 2, 3], { rule: "max" }, /rule/],
  ];
  for (const [values, opts, msg] of bad) {
    assert.throws(() => splitBulkOutliers(values as number[], opts), (e: unknown) => e instanceof InputError && msg.test(e.message));
  }
});

test("synthetic helper sanity: extent is the bulk's reach from its median", () => {
  assert.deepEqual(extent([0, 1, 2, 10]), { median: 1.5, up: 8.5, down: 1.5 });
});
