// The landscape objective against the problem it wraps (loss, gradient) and dense autodiff
// (curvature), and the quadratic objective against its closed form.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { makeProblem, evaluate } from "../../src/curvature/problem.ts";
import { materialize } from "../../src/curvature/dense.ts";
import { modelObjective, quadraticObjective } from "../../src/landscape/objective.ts";
import { denseOracle } from "../curvature/oracle.ts";

await startEngine({ device: "wasm" });

const model = parseModel("mlp:4-6-3:tanh");
const data = loadData("gmm:k=3,d=4,n=10,sep=2,seed=1");

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) num = Math.max(num, Math.abs(a[i] - b[i])), den = Math.max(den, Math.abs(b[i]));
  return num / den;
}

test("modelObjective: loss, gradient and Hessian at any theta equal the problem's, in float64", async () => {
  const obj = modelObjective(model, data, { batchSize: 7 });
  try {
    for (const seed of [0, 1]) {
      const theta = model.init(seed);
      const p = makeProblem(model, data, theta, { dtype: "float64", batchSize: 7 });
      const direct = await evaluate(p);
      const viaObjective = await obj.evaluate(theta);
      assert.equal(viaObjective.loss, direct.loss);
      assert.equal(viaObjective.accuracy, direct.accuracy);
      const oracle = await denseOracle(p);
      // Gradient by central differences of the loss, on a few coordinates. Wasm transcendentals
      // are float32-precise even in float64, so the loss carries ~1e-7 relative noise: h = 1e-3
      // keeps both that noise and the O(h^2) truncation near 1e-4.
      const g = await obj.gradient(theta);
      for (const i of [0, 5, model.size - 1]) {
        const h = 1e-3, plus = Float64Array.from(theta), minus = Float64Array.from(theta);
        plus[i] += h, minus[i] -= h;
        const fd = ((await obj.evaluate(plus)).loss - (await obj.evaluate(minus)).loss) / (2 * h);
        assert.ok(Math.abs(fd - g[i]) < 2e-4, `gradient ${i}: ${g[i]} vs ${fd}`);
      }
      const op = obj.curvature(theta);
      const H = (await materialize(op)).data;
      op.dispose();
      assert.ok(maxRel(H, oracle.H) < 1e-10, `Hessian rel ${maxRel(H, oracle.H)}`);
      p.dispose();
    }
    assert.ok(obj.evaluations >= 2 && obj.gradients === 2);
  } finally {
    obj.dispose();
  }
});

test("quadraticObjective: value, gradient and Hessian are the closed form", async () => {
  const A = [2, 1, 0, 1, 3, 0.5, 0, 0.5, 1];
  const b = [1, -1, 0.5];
  const q = quadraticObjective(A, b, 0.25);
  const x = [0.3, -0.7, 2];
  const Ax = [2 * 0.3 + 1 * -0.7, 1 * 0.3 + 3 * -0.7 + 0.5 * 2, 0.5 * -0.7 + 2];
  const expected = 0.5 * (x[0] * Ax[0] + x[1] * Ax[1] + x[2] * Ax[2]) - (x[0] - x[1] + 0.5 * x[2]) + 0.25;
  assert.ok(Math.abs((await q.evaluate(x)).loss - expected) < 1e-14);
  assert.deepEqual(Array.from(await q.gradient(x)).map((v) => +v.toFixed(12)), Ax.map((v, i) => +(v - b[i]).toFixed(12)));
  const op = q.curvature(x);
  const H = (await materialize(op)).data;
  op.dispose();
  assert.deepEqual(Array.from(H), A);
  assert.throws(() => quadraticObjective([1, 2, 3]), /not a square/);
});
