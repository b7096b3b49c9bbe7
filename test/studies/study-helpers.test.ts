// The small functions the Hessian study's verdicts rest on, against cases with known answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../../src/errors.ts";
import { barrierOf, interpolate } from "../../src/landscape/interpolation.ts";
import { outlierRelation } from "../../src/studies/hessian/part-c-data.ts";
import { proxySpectrum } from "../../src/studies/hessian/part-f-mnist.ts";
import { mode, spreadFactor, topMean } from "../../src/studies/hessian/part-b-width.ts";
import { parseParts, PRESETS } from "../../src/studies/hessian/settings.ts";
import { readStudySpectrum, readingSummary } from "../../src/studies/hessian/part.ts";

test("barrierOf: the excess over the straight line between the endpoint losses, inside [0, 1] only", () => {
  const alphas = [-0.5, 0, 0.25, 0.5, 0.75, 1, 1.5];
  // Ends 1 and 0.5; the line at 0.5 is 0.75, the loss there 1.0: barrier 0.25 at 0.5. The
  // value 9 outside [0, 1] does not count.
  assert.deepEqual(barrierOf(alphas, [9, 1, 0.875, 1.0, 0.625, 0.5, 9]), { barrier: 0.25, alpha: 0.5 });
  // A bump below the higher end still counts (0.8 at 0.75 where the line is 0.625).
  const r = barrierOf(alphas, [9, 1, 0.875, 0.75, 0.8, 0.5, 9]);
  assert.ok(Math.abs(r.barrier - 0.175) < 1e-12 && r.alpha === 0.75, JSON.stringify(r));
  // Convex paths have none.
  assert.deepEqual(barrierOf(alphas, [3, 1, 0.6, 0.5, 0.6, 1, 3]), { barrier: 0, alpha: 0 });
  assert.throws(() => barrierOf([0.2, 0.5], [1, 2]), /include 0 and 1/);
});

test("interpolate: theta(alpha) = (1 - alpha) a + alpha b", () => {
  const a = [1, 2, 3], b = [3, 2, -1];
  assert.deepEqual(Array.from(interpolate(a, b, 0)), a);
  assert.deepEqual(Array.from(interpolate(a, b, 1)), b);
  assert.deepEqual(Array.from(interpolate(a, b, 0.5)), [2, 2, 1]);
  assert.deepEqual(Array.from(interpolate(a, b, -0.5)), [0, 2, 5]);
});

test("outlierRelation: counts that are 1..k whole groups of k (squared error) or k - 1 (cross-entropy)", () => {
  // Squared error: 3 = one group at k = 3, 25 = five groups at k = 5; 6 is not a multiple of 7.
  assert.deepEqual(outlierRelation([{ k: 3, count: 3 }, { k: 5, count: 25 }, { k: 7, count: 6 }], 0), {
    name: "k", offset: 0, matches: 2, total: 3, groups: [1, 5, null],
  });
  // Cross-entropy: 2 = one group of 2 at k = 3, 20 = five groups of 4 at k = 5; 25 is no multiple of 4.
  assert.deepEqual(outlierRelation([{ k: 3, count: 2 }, { k: 5, count: 20 }, { k: 5, count: 25 }], 1), {
    name: "k-1", offset: 1, matches: 2, total: 3, groups: [1, 5, null],
  });
  // No outliers, or more than k groups (12 = 4 groups of 3 at k = 3), do not follow.
  assert.equal(outlierRelation([{ k: 3, count: 0 }, { k: 3, count: 12 }], 0).matches, 0);
});

test("proxySpectrum: the top values exactly, the rest at quantiles of the quadrature measure", () => {
  // A measure with mass 0.5 at 0 and 0.5 at 1, n = 10, one exact top value 5: the top's mass
  // 1/10 comes off the upper atom, leaving 0.5 at 0 and 0.4 at 1 for 9 quantiles: 5 zeros, 4 ones.
  const q = [{ nodes: [0, 1], weights: [0.5, 0.5], steps: 2, residual: 0, breakdown: true }];
  assert.deepEqual(Array.from(proxySpectrum([5], q, 10)), [0, 0, 0, 0, 0, 1, 1, 1, 1, 5]);
  // Two probes average their weights.
  const q2 = [q[0], { nodes: [0, 1], weights: [1, 0], steps: 2, residual: 0, breakdown: true }];
  const p = Array.from(proxySpectrum([], q2, 8));
  assert.equal(p.filter((x) => x === 0).length, 6);
  assert.equal(p.filter((x) => x === 1).length, 2);
});

test("sweep summaries: mode, spread factor, top mean", () => {
  assert.equal(mode([4, 4, 3, 4, 2]), 4);
  assert.equal(mode([2, 3]), 2);
  assert.equal(spreadFactor([2, 8, 4]), 4);
  assert.equal(spreadFactor([3]), 1);
  assert.equal(topMean([1, 2, 3, 10, 20], 2), 15);
});

test("parseParts and the presets", () => {
  assert.deepEqual(parseParts("all"), ["a", "b", "c", "d", "e", "f"]);
  assert.deepEqual(parseParts("d, A"), ["a", "d"]);
  assert.throws(() => parseParts("a,q"), (e: unknown) => e instanceof InputError && /unknown part "q"/.test(e.message));
  assert.throws(() => parseParts(","), InputError);
  for (const p of Object.values(PRESETS)) {
    // The shape of each sweep: at least 4 widths over at least 10x; k from 2..10.
    assert.ok(p.widths.length >= 4 && Math.max(...p.widths) / Math.min(...p.widths) >= 10, `${p.preset} widths`);
    assert.ok(p.clusters.every((k) => k >= 2 && k <= 10), `${p.preset} clusters`);
    assert.ok(p.batches.alphas[0] === -0.5 && Math.abs(p.batches.alphas.at(-1)! - 1.5) < 1e-9, `${p.preset} alphas`);
    assert.ok(p.batches.alphas.some((a) => a === 0) && p.batches.alphas.some((a) => Math.abs(a - 1) < 1e-9));
    // MNIST MLP of at least 100k parameters.
    assert.ok(784 * p.mnist.hidden + p.mnist.hidden + 10 * p.mnist.hidden + 10 >= 100_000, `${p.preset} mnist size`);
  }
  assert.deepEqual(PRESETS.full.clusters, [2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

/** An ascending spectrum: n - m bulk values within +-scale (piled at zero), then the outliers. */
function spectrum(n: number, scale: number, outliers: readonly number[]): number[] {
  const m = outliers.length;
  const bulk = Array.from({ length: n - m }, (_, i) => scale * (2 * (i + 0.5) / (n - m) - 1) ** 3);
  return [...bulk, ...[...outliers].sort((a, b) => a - b)];
}

/** A sweep point of a synthetic spectrum, read as the study reads its spectra. */
function point(eigenvalues: number[]) {
  return {
    label: "", model: "", data: "", parameters: eigenvalues.length, trainLoss: 0, trainAccuracy: 1,
    eigenvalues, reading: readingSummary(readStudySpectrum(eigenvalues)),
  };
}

/** A bulk of n values within +-scale, piled at zero. */
const bulkOf = (n: number, scale: number) => spectrum(n, scale, []);

test("part b's verdicts come from the spectra: each fails on a sweep that contradicts it", async () => {
  const { widthVerdicts } = await import("../../src/studies/hessian/part-b-width.ts");
  const top = [5, 4.8, 4.6, 4.4, 4.2];
  const holds = (pts: ReturnType<typeof point>[]) => widthVerdicts([8, 80], pts).map((v) => v.holds);
  // Same outliers, a bulk 10x larger and narrower: both hold.
  assert.deepEqual(holds([point(spectrum(200, 0.1, top)), point(spectrum(2000, 0.05, top))]), [true, true]);
  // The outliers sink into the bulk at the wide end: verdict 1 fails.
  assert.equal(holds([point(spectrum(200, 0.1, top)), point(spectrum(2000, 0.05, []))])[0], false);
  // The outliers move x10 for x10 the parameters (bound: sqrt(10)): verdict 1 fails.
  assert.equal(holds([point(spectrum(200, 0.1, top)), point(spectrum(2000, 0.05, top.map((x) => 10 * x)))])[0], false);
  // A bulk that widens with the parameters: verdict 2 fails.
  assert.equal(holds([point(spectrum(200, 0.1, top)), point(spectrum(2000, 0.4, top))])[1], false);
});

test("part c's verdicts come from the spectra: each fails on a sweep that contradicts it", async () => {
  const { dataSweepVerdicts } = await import("../../src/studies/hessian/part-c-data.ts");
  /** count outliers spread over [lo, 1.5 lo]. */
  const outliers = (count: number, lo: number) => Array.from({ length: count }, (_, i) => lo * (1 + (0.5 * i) / count));
  const cluster = (k: number, count: number, lo: number, bulk = 0.1) => ({ k, ...point(spectrum(100 + 40 * k, bulk, outliers(count, lo))) });
  const sep = (s: number, lo: number) => ({ sep: s, ...point(spectrum(300, 0.1, outliers(25, lo))) });
  const holds = (c: ReturnType<typeof cluster>[], s: ReturnType<typeof sep>[]) => dataSweepVerdicts(c, s, 5, "mse").verdicts.map((v) => v.holds);
  const seps = [sep(2, 2), sep(4, 3)];
  // k^2 outliers (k groups of k) that move up with k over a bulk that stays; separation moves them x1.5: all hold.
  assert.deepEqual(holds([cluster(3, 9, 2), cluster(5, 25, 4)], seps), [true, true, true]);
  // Counts that are no whole groups of k (7 at k = 3, 11 at k = 5): verdict 1 fails.
  assert.equal(holds([cluster(3, 7, 2), cluster(5, 11, 4)], seps)[0], false);
  // Outliers that stay put over the separations: verdict 2 fails.
  assert.equal(holds([cluster(3, 9, 2), cluster(5, 25, 4)], [sep(2, 3), sep(4, 3)])[1], false);
  // A bulk that widens x10 with k while the top group moves x2: verdict 3 fails.
  assert.equal(holds([cluster(3, 9, 2, 0.02), cluster(5, 25, 4, 0.2)], seps)[2], false);
});

test("part d's verdicts come from the numbers: each fails on numbers that contradict it", async () => {
  const { decompositionVerdicts } = await import("../../src/studies/hessian/part-d-decomposition.ts");
  type Data = Parameters<typeof decompositionVerdicts>[0];
  const cmp = (maxRelDiff: number, overlap: number) => ({ a: "", b: "", m: 5, maxRelDiff, overlap, chance: 0.01 });
  const data = (hg: ReturnType<typeof cmp>, go: ReturnType<typeof cmp>, residualNorm: number) => ({
    m: 5, comparisons: [hg, cmp(0.9, 0.6), cmp(0.9, 0.6), cmp(1, 0.1), go, go], residualNorm, smallestOutlier: 2,
    spectra: [{ reading: { bulkMax: 0.4 } }], minH: -0.3, minR: -0.3, minG: 0,
  }) as unknown as Data;
  const holds = (d: Data) => decompositionVerdicts(d, "mse").map((v) => v.holds);
  assert.deepEqual(holds(data(cmp(0.01, 0.99), cmp(0, 1), 0.3)), [true, true, true]);
  // H's top differs from G's by 30%, or its eigenspace overlaps only 0.5: verdict 1 fails.
  assert.equal(holds(data(cmp(0.3, 0.99), cmp(0, 1), 0.3))[0], false);
  assert.equal(holds(data(cmp(0.01, 0.5), cmp(0, 1), 0.3))[0], false);
  // G's top not that of the output-gradient covariance: verdict 2 fails.
  assert.equal(holds(data(cmp(0.01, 0.99), cmp(0.5, 0.4), 0.3))[1], false);
  // A residual reaching above the smallest outlier: verdict 3 fails.
  assert.equal(holds(data(cmp(0.01, 0.99), cmp(0, 1), 2.5))[2], false);
});

test("part e's verdicts come from the numbers: each fails on paths that contradict it", async () => {
  const { pathVerdicts } = await import("../../src/studies/hessian/part-e-batch.ts");
  type Data = Parameters<typeof pathVerdicts>[0];
  const alphas = [-0.5, 0, 0.5, 1, 1.5];
  const curvatureAt = (alpha: number, lambdaMax: number) => ({ alpha, lambdaMax, trace: 10 * lambdaMax, traceStandardError: null });
  const data = (barrierFraction: number, continuedFraction: number, lSmall: number, lLarge: number) => ({
    model: "", data: "", alphas, loss: [1, 0.1, 0.1 + barrierFraction, 0.1, 1], accuracy: alphas.map(() => 1), initLoss: 1.1,
    barrier: barrierFraction, barrierAlpha: 0.5, depth: 1, barrierFraction, distance: 3,
    curvature: [curvatureAt(0, lSmall), curvatureAt(1, lLarge)],
    continued: { trainLoss: 0.1, trainAccuracy: 1, loss: [1, 0.1, 0.1, 0.1, 1], barrier: continuedFraction, barrierAlpha: 0.5, barrierFraction: continuedFraction, distance: 2, curvature: [curvatureAt(0, lLarge), curvatureAt(1, lSmall)] },
  }) as unknown as Data;
  const b = { small: 32, large: 1000, smallEpochs: 10 };
  const holds = (d: Data) => pathVerdicts(d, b).map((v) => v.holds);
  assert.deepEqual(holds(data(0, 0, 5, 8)), [true, true, true]);
  // A barrier of 20% of the basin's depth on either line, or a flatter large-batch end: each fails.
  assert.deepEqual(holds(data(0.2, 0.2, 8, 5)), [false, false, false]);
});

test("part a's verdicts come from the spectrum: each fails on a spectrum that contradicts it", async () => {
  const { spectrumVerdicts } = await import("../../src/studies/hessian/part-a-spectrum.ts");
  const holds = (e: number[]) => spectrumVerdicts(point(e.sort((a, b) => a - b)), 5).verdicts.map((v) => v.holds);
  assert.deepEqual(holds([...bulkOf(495, 0.1), 5, 4.9, 4.8, 4.7, 4.6]), [true, true]);
  // A smooth spectrum (no gap of 2.5), spread out rather than piled at zero: both fail.
  assert.deepEqual(holds(Array.from({ length: 500 }, (_, i) => 1 + i / 100)), [false, false]);
  // 100 "outliers" in a 500-value spectrum are not a few: verdict 1 fails.
  assert.equal(holds([...bulkOf(400, 0.1), ...Array.from({ length: 100 }, (_, i) => 5 + i / 100)])[0], false);
});

test("part f's verdicts come from the numbers: each fails on numbers that contradict it", async () => {
  const { mnistVerdicts } = await import("../../src/studies/hessian/part-f-mnist.ts");
  type Data = Parameters<typeof mnistVerdicts>[0];
  const data = (outlierCount: number, nearZeroMass: number, maxRelDiff: number, overlap: number) => ({
    topH: [50], m: Math.max(1, outlierCount), maxRelDiff, overlap, chance: 1e-4, nearZeroMass,
    reading: { outlierCount, outliers: Array.from({ length: outlierCount }, () => 40), gapRatio: outlierCount ? 3 : null, strongestGapRatio: 1.8 },
  }) as unknown as Data;
  const holds = (d: Data) => mnistVerdicts(d, "mse", 24).map((v) => v.holds);
  assert.deepEqual(holds(data(10, 0.99, 0.01, 0.99)), [true, true]);
  // No outliers, 7 (no whole group of 10), or mass spread away from zero: verdict 1 fails.
  assert.equal(holds(data(0, 0.99, 0.01, 0.99))[0], false);
  assert.equal(holds(data(7, 0.99, 0.01, 0.99))[0], false);
  assert.equal(holds(data(10, 0.3, 0.01, 0.99))[0], false);
  assert.match(mnistVerdicts(data(0, 0.99, 0.01, 0.99), "mse", 24)[0].text, /^No gap of 2\.5 or more \(strongest 1\.8x\)/);
  // H's top far from G's: verdict 2 fails.
  assert.equal(holds(data(10, 0.99, 0.5, 0.99))[1], false);
  assert.equal(holds(data(10, 0.99, 0.01, 0.3))[1], false);
});
