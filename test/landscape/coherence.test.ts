// Gradient coherence (Chatterjee & Zielinski 2022) against its closed forms (identical gradients:
// alpha = 1; orthogonal equal-norm gradients: alpha = 1/m), against per-example gradients from
// dense jax-js autodiff (each example's gradient by plain reverse mode, one at a time,
// independently of the module's vmap), and real vs random labels over a short training run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { grad, jit, numpy as np, type Array } from "../../src/engine/jax.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { gather } from "../../src/data/batches.ts";
import { withRandomLabels } from "../../src/data/random-labels.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { nn } from "../../src/engine/jax.ts";
import {
  coherenceOverTraining,
  gradientCoherence,
  matrixPerExampleGradients,
  modelPerExampleGradients,
  sampleRows,
} from "../../src/landscape/coherence.ts";

await startEngine({ device: "wasm" });

/** alpha from host rows, straight from the definition. */
function hostAlpha(rows: ArrayLike<number>, m: number): number {
  const P = rows.length / m;
  const mean = new Float64Array(P);
  let sq = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < P; j++) mean[j] += rows[i * P + j] / m, (sq += rows[i * P + j] ** 2);
  let mm = 0;
  for (let j = 0; j < P; j++) mm += mean[j] ** 2;
  return mm / (sq / m);
}

test("identical per-example gradients give alpha = 1 (normalized m); orthogonal equal-norm ones give 1/m", async () => {
  const m = 6, P = 9;
  const v = Float64Array.from({ length: P }, (_, j) => Math.sin(j + 1) * 3);
  const same = new Float64Array(m * P);
  for (let i = 0; i < m; i++) same.set(v, i * P);
  const a = await gradientCoherence(matrixPerExampleGradients(same, m), []);
  assert.ok(Math.abs(a.alpha - 1) < 1e-14, `alpha ${a.alpha}`);
  assert.ok(Math.abs(a.normalized - m) < 1e-12);
  assert.equal(a.alphaPerp, 1 / m);
  // Orthogonal, norm 2.5 each (scaled unit vectors, then a random rotation would not change it:
  // use distinct coordinates with random signs).
  const orth = new Float64Array(m * P);
  for (let i = 0; i < m; i++) orth[i * P + ((i * 4) % P)] = i % 2 ? -2.5 : 2.5;
  const b = await gradientCoherence(matrixPerExampleGradients(orth, m), []);
  assert.ok(Math.abs(b.alpha - 1 / m) < 1e-15, `alpha ${b.alpha}`);
  assert.ok(Math.abs(b.normalized - 1) < 1e-14);
  // Opposite pairs cancel: alpha = 0.
  const opp = Float64Array.from([1, 2, 3, -1, -2, -3]);
  const c = await gradientCoherence(matrixPerExampleGradients(opp, 2), []);
  assert.equal(c.alpha, 0);
  // A general matrix equals the definition evaluated on the host.
  const rng = hostRng(3);
  const r = Float64Array.from({ length: 7 * 5 }, () => rng.normal() + 0.5);
  const d = await gradientCoherence(matrixPerExampleGradients(r, 7), []);
  assert.ok(Math.abs(d.alpha - hostAlpha(r, 7)) < 1e-14 * hostAlpha(r, 7) * 10, `${d.alpha} vs ${hostAlpha(r, 7)}`);
});

test("model per-example gradients (vmap, in chunks) equal dense autodiff per example; alpha matches", async () => {
  const model = parseModel("mlp:4-6-3:tanh");
  const data = loadData("gmm:k=3,d=4,n=10,sep=2,seed=1");
  const m = data.y.length;
  for (const seed of [0, 1, 2]) {
    const theta = model.init(seed);
    // Independent reference: one example at a time, the gradient of its own loss by plain
    // reverse-mode autodiff (no vmap), stacked into an m x P matrix.
    const g = gather(data, Int32Array.from({ length: m }, (_, i) => i), { dtype: "float64" });
    const one = jit(grad((th: Array, x: Array, t: Array): Array => nn.logSoftmax(model.apply(th, x), -1).mul(t).sum().neg()));
    const rows = new Float64Array(m * model.size);
    for (let i = 0; i < m; i++) {
      const x = np.array(g.x.slice(i * 4, i * 4 + 4), { dtype: np.float64 }).reshape([1, 4]);
      const t = nn.oneHot(np.array([g.y[i]], { dtype: np.int32 }), 3).astype(np.float64);
      rows.set(await one(np.array(theta, { dtype: np.float64 }), x, t).data(), i * model.size);
    }
    one.dispose();
    assert.equal(rows.length, m * model.size);
    // chunk 7: 30 examples = four chunks of 7 and one of 2 (two traces).
    const src = modelPerExampleGradients(model, data, { chunk: 7 });
    try {
      const got: number[] = [];
      for (const G of src.chunks(theta)) got.push(...(await G.data()));
      let maxDiff = 0, maxAbs = 0;
      for (let i = 0; i < rows.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - rows[i])), (maxAbs = Math.max(maxAbs, Math.abs(rows[i])));
      // Same float64 arithmetic by two autodiff routes: equal to rounding.
      assert.ok(maxDiff <= 1e-12 * maxAbs, `per-example gradients differ by ${maxDiff} (max ${maxAbs})`);
      const c = await gradientCoherence(src, theta);
      const ref = hostAlpha(rows, m);
      assert.equal(c.examples, m);
      assert.equal(c.cost.chunks, 5);
      assert.ok(Math.abs(c.alpha - ref) <= 1e-12 * ref, `alpha ${c.alpha} vs ${ref}`);
      assert.ok(Math.abs(c.normalized - m * ref) <= 1e-11 * m * ref);
      assert.ok(c.alpha > 0 && c.alpha <= 1);
    } finally {
      src.dispose();
    }
  }
});

test("sampleRows: distinct, ascending, seeded", () => {
  const a = sampleRows(100, 20, 5), b = sampleRows(100, 20, 5), c = sampleRows(100, 20, 6);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(new Set(a).size, 20);
  for (let i = 1; i < a.length; i++) assert.ok(a[i] > a[i - 1]);
  assert.equal(sampleRows(10, 50, 0).length, 10);
});

test("coherence is higher with real labels than with random labels early in training (seeded)", async () => {
  const model = parseModel("mlp:10-32-4:tanh");
  const real = loadData("gmm:k=4,d=10,n=40,sep=3,seed=2");
  const random = withRandomLabels(real, 7);
  const config = { model, batchSize: 16, steps: 60, seed: 0, optimizer: { name: "momentum" as const, lr: 0.05, momentum: 0.9 } };
  const a = await coherenceOverTraining({ ...config, train: real }, { every: 10, sampleSize: 64 });
  const b = await coherenceOverTraining({ ...config, train: random }, { every: 10, sampleSize: 64 });
  assert.deepEqual(a.points.map((p) => p.step), [0, 10, 20, 30, 40, 50, 60]);
  const ra = a.points.map((p) => p.normalized), rb = b.points.map((p) => p.normalized);
  console.log(`# alpha/alpha_perp real ${ra.map((v) => v.toFixed(2)).join(" ")}; random ${rb.map((v) => v.toFixed(2)).join(" ")}`);
  // Same network, same sample rows, only the labels differ: at every recorded step the real-label
  // gradients are the more coherent ones (4 balanced classes vs uniform random labels).
  for (let i = 0; i < ra.length; i++) assert.ok(ra[i] > rb[i], `step ${a.points[i].step}: ${ra[i]} <= ${rb[i]}`);
  for (const p of [...a.points, ...b.points]) assert.ok(p.normalized >= 0 && p.normalized <= 64 + 1e-9);
  assert.equal(a.settings.sampleSize, 64);
  assert.ok(a.training.final.trainAccuracy > 0.8, `real-label accuracy ${a.training.final.trainAccuracy}`);
  assert.ok(a.cost.perExampleGradients === 7 * 64);
  assert.equal((a as { theta: Float32Array }).theta.length, model.size);
  assert.ok(!("theta" in JSON.parse(JSON.stringify(a))));
});
