/**
 * The Hessian study's claims, checked on the quick preset's base (5 clusters of 1,000 points in
 * 20 dimensions, separation 4, hidden width 32, squared error, its training), with narrowed
 * sweeps. Each test runs one part of the study through the library and asserts the property the
 * part claims, read with the bulk/outlier split's default rule (gap ratio >= 2.5), with bounds
 * justified inline; one test shows a configuration where the claim must fail (cross-entropy),
 * and the held-out configurations (CURVLAB_HEAVY=1) check the verdicts away from the defaults.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { memoryJournal } from "../../src/linalg/journal.ts";
import { PRESETS, withOverrides, type HessianStudySettings } from "../../src/studies/hessian/settings.ts";
import type { StudyContext } from "../../src/studies/hessian/context.ts";
import { partA } from "../../src/studies/hessian/part-a-spectrum.ts";
import { partB } from "../../src/studies/hessian/part-b-width.ts";
import { partC } from "../../src/studies/hessian/part-c-data.ts";
import { partD } from "../../src/studies/hessian/part-d-decomposition.ts";

await startEngine({ device: "wasm" });
const heavy = process.env.CURVLAB_HEAVY === "1";

const SETTINGS: HessianStudySettings = {
  ...PRESETS.quick,
  widths: [10, 40],
  clusters: [3, 5],
  separations: [4],
};

// Shared by the tests on the base settings: part c's k = 5 model is part d's base model.
const shared = memoryJournal();
function context(settings: HessianStudySettings = SETTINGS): StudyContext {
  return { settings, journal: settings === SETTINGS ? shared : memoryJournal(), log: () => {} };
}

test("squared error: the outlier counts are whole groups of k (k^2 = k groups of k at k = 3 and 5), above gaps of at least 2.5", async () => {
  const r = await partC.run(context());
  const counts = r.data.clusters.map((p) => [p.k, p.reading.outlierCount, p.reading.gapRatio]);
  console.log(`# (k, outliers, gap ratio): ${JSON.stringify(counts)}; groups ${JSON.stringify(r.data.relation.groups)}`);
  assert.equal(r.data.relation.name, "k");
  for (const p of r.data.clusters) {
    // The default split: a gap of at least 2.5 (null when there is none).
    assert.ok(p.reading.gapRatio !== null && p.reading.gapRatio >= 2.5, `k = ${p.k}: gap ${p.reading.gapRatio}`);
    assert.equal(p.reading.outlierCount % p.k, 0, `k = ${p.k}: ${p.reading.outlierCount} outliers`);
  }
  assert.equal(r.data.relation.matches, r.data.relation.total);
  assert.equal(r.verdicts[0].holds, true);
  // The top group (k equal eigenvalues, the features' mean direction once per output) moves
  // with k: its mean at k = 5 is well above that at k = 3.
  assert.ok(r.data.clusterOutlierFactor > 1.2, `top group's mean moved only x${r.data.clusterOutlierFactor}`);
});

test("widening the hidden layer 4x: the bulk grows with the parameters, the outliers stay", async () => {
  const r = await partB.run(context());
  const [narrow, wide] = r.data.points;
  console.log(
    `# parameters ${narrow.parameters} -> ${wide.parameters}; outliers ${narrow.reading.outlierCount} -> ${wide.reading.outlierCount} ` +
      `(gaps ${narrow.reading.gapRatio}, ${wide.reading.gapRatio}); top-${r.data.m} mean x${r.data.outlierFactor.toFixed(3)}; bulk count x${r.data.bulkCountFactor.toFixed(3)}, ` +
      `bulk scale ${narrow.reading.bulkScale} -> ${wide.reading.bulkScale}, bulk top ${narrow.reading.bulkMax} -> ${wide.reading.bulkMax}`,
  );
  const pf = wide.parameters / narrow.parameters;
  // The outliers stay: the same count above a gap of at least 2.5, and their mean moves by less
  // than the square root of the parameter ratio (x1.99 here), i.e. less than half as much as the
  // parameters on a log scale (a quantity proportional to the parameter count moves x3.9).
  assert.ok(narrow.reading.outlierCount > 0 && narrow.reading.gapRatio !== null && narrow.reading.gapRatio >= 2.5);
  assert.equal(narrow.reading.outlierCount, wide.reading.outlierCount);
  assert.ok(r.data.outlierFactor < Math.sqrt(pf), `outliers moved x${r.data.outlierFactor} (bound x${Math.sqrt(pf)})`);
  // The bulk takes every added parameter (the outlier count being the same)...
  assert.equal(wide.reading.bulkCount - narrow.reading.bulkCount, wide.parameters - narrow.parameters);
  assert.equal(r.verdicts[1].holds, true, r.verdicts[1].text);
  // ...and concentrates near zero: its width (1.48 MAD) shrinks, by more than 1.2. (An
  // unchanged bulk distribution would give x1.)
  const shrink = narrow.reading.bulkScale / wide.reading.bulkScale;
  assert.ok(shrink > 1.2, `bulk width shrank x${shrink}`);
});

test("cross-entropy (the same data and model): no gap of 2.5 above the bulk, and part a says the claim does not hold", async () => {
  const r = await partA.run(context(withOverrides(SETTINGS, { loss: "cross-entropy" })));
  const s = r.data.reading;
  console.log(`# cross-entropy: outliers ${s.outlierCount}, strongest gap ${s.strongestGapRatio}, train loss ${r.data.trainLoss}`);
  // The softmax output Hessian shrinks unevenly as the fit sharpens: the top falls smoothly into
  // the bulk (strongest consecutive gap about 1.5), so the default split finds nothing.
  assert.equal(s.outlierCount, 0);
  assert.ok(s.strongestGapRatio !== null && s.strongestGapRatio < 2.5);
  assert.equal(r.verdicts[0].holds, false);
  assert.match(r.verdicts[0].text, /^0 outliers/);
});

/** Held-out configurations: settings the presets do not use, each with its verdicts of parts a and c. */
const HELD_OUT: readonly [string, Parameters<typeof withOverrides>[1], number][] = [
  ["relu, seed 1", { activation: "relu" }, 1],
  ["two hidden layers of 16, seed 2", { depth: 2, hidden: 16 }, 2],
  ["k = 4 clusters, width 24, seed 1", { k: 4, hidden: 24, clusters: "3,4" }, 1],
];
for (const [name, over, seed] of HELD_OUT) {
  test(`held out (${name}): a bulk plus outliers above a 2.5 gap, counts in whole groups of k`, { skip: !heavy }, async () => {
    const settings = { ...withOverrides(SETTINGS, over), seed };
    const ctx = context(settings);
    const a = await partA.run(ctx);
    const c = await partC.run(ctx);
    console.log(`# ${name}: part a ${a.data.reading.outlierCount} outliers, gap ${a.data.reading.gapRatio}; part c ${JSON.stringify(c.data.relation)}`);
    assert.equal(a.verdicts[0].holds, true, a.verdicts[0].text);
    assert.equal(a.verdicts[1].holds, true, a.verdicts[1].text);
    assert.equal(c.verdicts[0].holds, true, c.verdicts[0].text);
  });
}

test("H = G + R: the top eigenvalues of H and G agree and their top eigenspaces overlap", async () => {
  const r = await partD.run(context());
  const hg = r.data.comparisons[0];
  console.log(`# m = ${r.data.m}; H vs G max rel diff ${hg.maxRelDiff}, overlap ${hg.overlap}; ||R|| ${r.data.residualNorm}, min G ${r.data.minG}`);
  assert.ok(r.data.m >= 2);
  // Sagun et al.: the outliers come from G. Bound: 10% on the eigenvalues (the residual's norm
  // is about a sixth of the smallest outlier here, so first-order perturbation moves each
  // outlier by at most that much, and by far less along G's top directions).
  assert.ok(hg.maxRelDiff !== null && hg.maxRelDiff < 0.1, `max rel diff ${hg.maxRelDiff}`);
  // Overlap >= 0.9 of the top-m eigenspaces (chance: m / n ~ 0.015).
  assert.ok(hg.overlap >= 0.9, `overlap ${hg.overlap}`);
  // The squared error's G is exactly twice the output-gradient covariance J^T J / N (H_L = 2 I / N):
  // the two spectra agree to rounding, and their top eigenspaces coincide.
  const G = r.data.spectra[1].eigenvalues, O = r.data.spectra[4].eigenvalues;
  assert.equal(r.data.spectra[4].operator, "outcov-uncentered");
  const scale = G[G.length - 1];
  assert.ok(G.every((g, i) => Math.abs(g - 2 * O[i]) <= 1e-9 * scale), "G = 2 J^T J / N");
  assert.ok(r.data.comparisons[4].overlap > 0.999, `G vs output-gradient covariance overlap ${r.data.comparisons[4].overlap}`);
  // G is positive semidefinite, so its smallest eigenvalue is zero up to rounding.
  assert.ok(r.data.minG > -1e-10 * r.data.spectra[1].reading.lambdaMax, `min eig G ${r.data.minG}`);
});
