// The batch-size study (Granziol et al. 2020): the mini-batch draws, the fits, the verdicts on
// inputs where each must fail, the Lanczos extremes against the dense spectrum of one batch's
// Hessian, and a small run of both parts (resumed from its journal to the same numbers).
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { memoryJournal } from "../../src/linalg/journal.ts";
import { loadData } from "../../src/data/spec.ts";
import { miniBatches } from "../../src/data/minibatch.ts";
import { InputError } from "../../src/errors.ts";
import { powerLawFit, spearman } from "../../src/spectrum/fit.ts";
import { makeProblem } from "../../src/curvature/problem.ts";
import { curvatureOperator } from "../../src/curvature/make.ts";
import { materialize } from "../../src/curvature/dense.ts";
import { eigh } from "../../src/linalg/dense/eigh.ts";
import { PRESETS, parseSizes, type BatchSizeStudySettings } from "../../src/studies/batch-size/settings.ts";
import { batchSizeVerdicts, runBatchSizeStudy, type Extremes, type SizePoint } from "../../src/studies/batch-size/run.ts";

await startEngine({ device: "wasm" });

test("miniBatches: distinct rows of the dataset, the same batch j at every size, the whole set at B = n; bad sizes name their option", () => {
  const ds = loadData("gmm:k=3,d=4,n=20,sep=2,seed=1");
  const small = miniBatches(ds, { size: 5, count: 3, seed: 7 });
  const large = miniBatches(ds, { size: 30, count: 3, seed: 7 });
  assert.equal(small.length, 3);
  for (const b of small) assert.equal(b.y.length, 5);
  // Rows come from one permutation per draw: batch j of size 5 is the first 5 rows of batch j's
  // permutation, so every row of a small batch is in the large batch of the same draw.
  const rowsOf = (b: typeof ds) => Array.from({ length: b.y.length }, (_, i) => Array.from(b.x.subarray(i * 4, i * 4 + 4)).join(","));
  for (let j = 0; j < 3; j++) {
    const big = new Set(rowsOf(large[j]));
    for (const r of rowsOf(small[j])) assert.ok(big.has(r));
    assert.equal(new Set(rowsOf(large[j])).size, 30, "drawn without replacement");
  }
  assert.notDeepEqual(rowsOf(small[0]), rowsOf(small[1]), "independent draws");
  assert.equal(miniBatches(ds, { size: 60 })[0], ds);
  assert.throws(() => miniBatches(ds, { size: 61 }), (e: unknown) => e instanceof InputError && e.input === "batchSize" && /1 to the 60 rows/.test(e.message));
  assert.throws(() => miniBatches(ds, { size: 4, count: 0 }), (e: unknown) => e instanceof InputError && e.input === "batches");
  assert.deepEqual(parseSizes("64, 16,16"), [16, 64]);
  assert.throws(() => parseSizes("16,x"), (e: unknown) => e instanceof InputError && e.input === "sizes");
});

test("powerLawFit recovers c x^s; spearman is +-1 on monotone data and handles ties", () => {
  const x = [1e-3, 3e-3, 1e-2, 3e-2, 0.1];
  const f = powerLawFit(x, x.map((v) => 2.5 * v ** 0.75));
  assert.ok(Math.abs(f.slope - 0.75) < 1e-12 && Math.abs(f.coefficient - 2.5) < 1e-12 && Math.abs(f.r2 - 1) < 1e-12);
  const noisy = powerLawFit(x, x.map((v, i) => v ** 0.5 * (i % 2 ? 1.3 : 0.7)));
  assert.ok(noisy.r2 < 0.99 && noisy.r2 > 0);
  assert.throws(() => powerLawFit([1, 2], [1, -1]), InputError);
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 25, 100]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // Ties: ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): 4.5 / sqrt(4.5 x 5) = 0.9487.
  assert.ok(Math.abs(spearman([1, 2, 2, 3], [1, 2, 3, 4]) - 4.5 / Math.sqrt(4.5 * 5)) < 1e-12);
  assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])));
});

/** Points with the given mean extremes (one draw each). */
function points(sizes: number[], max: (b: number) => number, min: (b: number) => number): SizePoint[] {
  return sizes.map((size) => {
    const e: Extremes = { max: max(size), min: min(size), matvecs: 0 };
    return { size, draws: [e], meanMax: e.max, meanMin: e.min, lrMax: 2 / e.max };
  });
}

test("the verdicts come from the numbers: each fails on an input that contradicts it", () => {
  const n = 1000, sizes = [16, 64, 256];
  const full: Extremes = { max: 1, min: -0.01, matvecs: 0 };
  const verdictsOf = (pts: SizePoint[]) => {
    const excess = pts.map((p) => p.meanMax - full.max);
    const pos = pts.filter((_, i) => excess[i] > 0);
    const fit = pos.length >= 3 ? powerLawFit(pos.map((p) => 1 / p.size - 1 / n), pos.map((p) => p.meanMax - full.max)) : null;
    return batchSizeVerdicts("hessian", { points: pts, full, fit, rankCorrelation: spearman(pts.map((p) => p.size), excess), n }).map((v) => v.holds);
  };
  const x = (b: number) => 1 / b - 1 / n;
  // The prediction itself: excess 3 x^0.75, lambda_min below the full one.
  assert.deepEqual(verdictsOf(points(sizes, (b) => 1 + 3 * x(b) ** 0.75, (b) => -0.01 - x(b))), [true, true, true]);
  // Mini-batch lambda_max below the full one at one size: verdict 1 fails.
  assert.equal(verdictsOf(points(sizes, (b) => (b === 256 ? 0.9 : 1 + x(b)), (b) => -0.01 - x(b)))[0], false);
  // lambda_min not below the full one: verdict 1 fails too.
  assert.equal(verdictsOf(points(sizes, (b) => 1 + x(b), () => -0.005))[0], false);
  // An excess growing with B: verdicts 2 and 3 fail.
  const growing = verdictsOf(points(sizes, (b) => 1 + 0.001 * b, (b) => -0.01 - x(b)));
  assert.equal(growing[1], false);
  assert.equal(growing[2], false);
  // An excess falling as x^2 (faster than the prediction allows): verdict 3 fails.
  assert.equal(verdictsOf(points(sizes, (b) => 1 + 50 * x(b) ** 2, (b) => -0.01 - x(b)))[2], false);
});

const SMALL: BatchSizeStudySettings = {
  ...PRESETS.quick,
  data: "gmm:k=3,d=8,n=100,sep=3",
  model: "mlp:8-12-3:tanh",
  training: { epochs: 10, batchSize: 32, lr: 0.1, momentum: 0.9 },
  sizes: [8, 16, 32, 64, 128],
  draws: 8,
  densitySizes: [16],
  slq: { probes: 2, steps: 30 },
};

test("a small run of both parts: Lanczos extremes equal the dense spectrum of the batch's Hessian; the verdicts hold; a resumed run gives the same numbers", async () => {
  const journal = memoryJournal();
  const t0 = performance.now();
  const first = await runBatchSizeStudy(SMALL, { journal });
  const seconds = (performance.now() - t0) / 1000;
  const [h, g] = first.results;
  console.log(
    `# ${SMALL.model}: H full ${h.data.full.max} / ${h.data.full.min}, B = 16 ${h.data.points[0].meanMax}; fit s ${h.data.fit?.slope} R2 ${h.data.fit?.r2}; ` +
      `G fit s ${g.data.fit?.slope}; ${seconds.toFixed(1)} s`,
  );
  // The first batch of 8, densely: its extreme eigenvalues are the Lanczos ones.
  const data = loadData(`${SMALL.data},seed=${SMALL.seed}`);
  const batch = miniBatches(data, { size: 8, count: 1, seed: SMALL.seed })[0];
  const theta = await journal.getArray([...journal.keys()].find((k) => k.startsWith("theta-"))!);
  const { parseModel } = await import("../../src/nn/spec.ts");
  const model = parseModel(SMALL.model);
  for (const [part, r] of [["hessian", h], ["ggn", g]] as const) {
    const problem = makeProblem(model, batch, theta!, { dtype: "float64", loss: SMALL.loss });
    const op = curvatureOperator(problem, { operator: part });
    const A = await materialize(op);
    op.dispose();
    problem.dispose();
    const ev = eigh({ n: A.n, data: A.data }).values;
    const e = r.data.points[0].draws[0];
    const top = ev[ev.length - 1];
    assert.ok(Math.abs(e.max - top) <= 1e-6 * Math.abs(top), `${part}: Lanczos ${e.max} vs dense ${top}`);
    if (part === "hessian") assert.ok(Math.abs(e.min! - ev[0]) <= 1e-6 * Math.abs(top), `lambda_min: Lanczos ${e.min} vs dense ${ev[0]}`);
  }
  for (const r of first.results) {
    for (const v of r.verdicts) assert.equal(v.holds, true, `${r.id}: ${v.claim}: ${v.text}`);
    assert.equal(r.data.points.length, 5);
    assert.equal(r.data.n, 300);
    assert.equal(r.data.densities.length, 2);
  }
  const again = await runBatchSizeStudy(SMALL, { journal });
  assert.deepEqual(again.resumed, ["hessian", "ggn"]);
  assert.deepEqual(again.results.map((r) => r.data), first.results.map((r) => r.data));
});
