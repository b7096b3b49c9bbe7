/**
 * The Hessian study's claims, checked on the quick preset's base (5 clusters of 200 points in 20
 * dimensions, hidden width 32, its training), with narrowed sweeps. Each test runs one part of
 * the study through the library and asserts the property the part claims, with bounds justified
 * inline.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { memoryJournal } from "../../src/linalg/journal.ts";
import { PRESETS, type HessianStudySettings } from "../../src/studies/hessian/settings.ts";
import type { StudyContext } from "../../src/studies/hessian/context.ts";
import { partB } from "../../src/studies/hessian/part-b-width.ts";
import { partC } from "../../src/studies/hessian/part-c-data.ts";
import { partD } from "../../src/studies/hessian/part-d-decomposition.ts";

await startEngine({ device: "wasm" });

const SETTINGS: HessianStudySettings = {
  ...PRESETS.quick,
  widths: [16, 64],
  clusters: [3, 5, 7],
  separations: [3],
};

function context(settings: HessianStudySettings = SETTINGS): StudyContext {
  return { settings, journal: memoryJournal(), log: () => {} };
}

test("the outlier count follows k - 1 for k = 3, 5, 7 clusters (cross-entropy), as the study reports", async () => {
  const r = await partC.run(context());
  const counts = r.data.clusters.map((p) => [p.k, p.reading.outlierCount, p.reading.gapRatio]);
  console.log(`# (k, outliers, gap ratio): ${JSON.stringify(counts)}`);
  assert.equal(r.data.relation.name, "k-1");
  for (const p of r.data.clusters) assert.equal(p.reading.outlierCount, p.k - 1, `k = ${p.k}`);
  assert.equal(r.verdicts[0].holds, true);
  // Adding clusters moves the outliers (their count goes 2 -> 6, x3) and leaves the bulk within a
  // bound: its robust width changes by less than the cluster ratio 7/3 (it does change some: the
  // output layer, and with it the parameter count, grows with k).
  const kFactor = 7 / 3;
  assert.ok(r.data.clusterBulkScaleFactor < kFactor, `bulk width x${r.data.clusterBulkScaleFactor} over k = 3..7`);
  assert.ok(r.data.clusterOutlierFactor > 1.1, `outliers' mean moved only x${r.data.clusterOutlierFactor}`);
});

test("widening the hidden layer 4x: the bulk grows with the parameters, the outliers stay", async () => {
  const r = await partB.run(context());
  const [narrow, wide] = r.data.points;
  console.log(
    `# parameters ${narrow.parameters} -> ${wide.parameters}; outliers ${narrow.reading.outlierCount} -> ${wide.reading.outlierCount}; ` +
      `top-${r.data.m} mean x${r.data.outlierFactor.toFixed(3)}; bulk count x${r.data.bulkCountFactor.toFixed(3)}, ` +
      `bulk scale ${narrow.reading.bulkScale} -> ${wide.reading.bulkScale}, bulk top ${narrow.reading.bulkMax} -> ${wide.reading.bulkMax}`,
  );
  const pf = wide.parameters / narrow.parameters;
  // The outliers stay: the same count, and their mean moves by less than the square root of the
  // parameter ratio (x1.98 here), i.e. less than half as much as the parameters on a log scale
  // (a quantity proportional to the parameter count, like the bulk's size, moves x3.9).
  assert.equal(narrow.reading.outlierCount, wide.reading.outlierCount);
  assert.ok(r.data.outlierFactor < Math.sqrt(pf), `outliers moved x${r.data.outlierFactor} (bound x${Math.sqrt(pf)})`);
  // The bulk takes the added parameters: its eigenvalue count grows with the parameter count
  // (within 5%: only the few outliers are not in it)...
  assert.ok(Math.abs(r.data.bulkCountFactor / pf - 1) < 0.05, `bulk count x${r.data.bulkCountFactor} vs parameters x${pf}`);
  // ...and concentrates near zero: its width (1.48 MAD) shrinks by a factor between 1.2 and the
  // parameter ratio. The two ends are the alternatives: an unchanged bulk distribution (x1) and a
  // fixed total bulk mass spread over pf times as many eigenvalues (x pf). Measured: about
  // sqrt(pf), the new directions being flatter than the old ones on average.
  const shrink = narrow.reading.bulkScale / wide.reading.bulkScale;
  assert.ok(shrink > 1.2 && shrink < pf, `bulk width shrank x${shrink} (bounds 1.2 .. ${pf})`);
});

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
  // G is positive semidefinite, so its smallest eigenvalue is zero up to rounding.
  assert.ok(r.data.minG > -1e-10 * r.data.spectra[1].reading.lambdaMax, `min eig G ${r.data.minG}`);
});
