// Loss slices: the origin of a slice is the model's loss bit for bit; every grid value is the
// objective at theta + a d1 + b d2; on a quadratic the slice is the closed form; along the top
// Hessian eigenvector of a model the slice follows the quadratic model within a cubic-remainder
// bound measured from the curvature itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { modelObjective, quadraticObjective, displace, hostDot } from "../../src/landscape/objective.ts";
import { eigenDirections, randomDirection } from "../../src/landscape/directions.ts";
import { axisGrid, slice1d, slice2d } from "../../src/landscape/slices.ts";
import { dot, fromHost } from "../../src/tree/vector.ts";
import { InputError } from "../../src/errors.ts";

await startEngine({ device: "wasm" });

const model = parseModel("mlp:4-6-3:tanh");
const data = loadData("gmm:k=3,d=4,n=10,sep=2,seed=1");

test("axisGrid: inclusive ends, 0 exactly on a symmetric odd grid", () => {
  const g = axisGrid({ from: -1, to: 1, points: 25 });
  assert.equal(g.length, 25);
  assert.equal(g[0], -1);
  assert.equal(g[24], 1);
  assert.equal(g[12], 0);
  assert.ok(axisGrid({ from: -0.3, to: 0.3, points: 7 }).includes(0));
});

test("slice2d at the origin is the model's loss exactly; every grid value is the objective at its point", async () => {
  const obj = modelObjective(model, data);
  try {
    const theta = model.init(0);
    const d1 = randomDirection(model.layout, theta, { seed: 1 });
    const d2 = randomDirection(model.layout, theta, { seed: 2 });
    const seen: [number, number][] = [];
    const s = await slice2d(obj, theta, [d1, d2], { axes: { from: -1, to: 1, points: 5 }, onProgress: (d, t) => seen.push([d, t]) });
    const direct = await obj.evaluate(theta);
    assert.equal(s.originLoss, direct.loss);
    assert.equal(s.originAccuracy, direct.accuracy);
    assert.equal(s.loss[2][2], direct.loss); // the grid's centre is (0, 0)
    assert.equal(s.evaluations, 25);
    assert.deepEqual(seen.at(-1), [25, 25]);
    assert.equal(seen.length, 25);
    assert.equal(s.loss.length, 5);
    assert.ok(s.accuracy && s.accuracy.every((row) => row.every((a) => a >= 0 && a <= 1)));
    for (const [i, j] of [[0, 0], [4, 1], [3, 4]]) {
      const r = await obj.evaluate(displace(theta, [d1, d2], [s.xs[i], s.ys[j]]));
      assert.equal(s.loss[j][i], r.loss, `(${i}, ${j})`);
      assert.equal(s.accuracy![j][i], r.accuracy);
    }
    assert.ok(Math.abs(s.settings.cosine - hostDot(d1, d2) / Math.sqrt(hostDot(d1, d1) * hostDot(d2, d2))) < 1e-12);
    // The slice is not flat: the loss changes across the grid.
    assert.ok(Math.max(...s.loss.flat()) - Math.min(...s.loss.flat()) > 1e-3);
    // JSON-serializable with its settings and cost.
    const j = JSON.parse(JSON.stringify(s));
    assert.deepEqual(j.settings.x, { from: -1, to: 1, points: 5 });
    assert.equal(j.kind, "slice-2d");

    // A grid without 0: the origin is evaluated once more, still exactly the model's loss.
    const off = await slice2d(obj, theta, [d1, d2], { axes: [{ from: -1, to: 1, points: 4 }, { from: 0.5, to: 1, points: 2 }] });
    assert.equal(off.evaluations, 4 * 2 + 1);
    assert.equal(off.originLoss, direct.loss);
    assert.deepEqual(off.ys, [0.5, 1]);
  } finally {
    obj.dispose();
  }
});

test("slices of a quadratic are the closed form; bad input throws InputError", async () => {
  const n = 6;
  const rng = hostRng(3);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) A[i * n + j] = A[j * n + i] = rng.normal();
  const b = Array.from({ length: n }, () => rng.normal());
  const q = quadraticObjective(A, b, 0.5);
  const theta = Array.from({ length: n }, () => rng.normal());
  const d1 = Array.from({ length: n }, () => rng.normal());
  const d2 = Array.from({ length: n }, () => rng.normal());
  const f = (x: ArrayLike<number>) => {
    let v = 0.5;
    for (let i = 0; i < n; i++) {
      let ax = 0;
      for (let j = 0; j < n; j++) ax += A[i * n + j] * x[j];
      v += 0.5 * x[i] * ax - b[i] * x[i];
    }
    return v;
  };
  const s = await slice2d(q, theta, [d1, d2], { axes: [{ from: -2, to: 1, points: 7 }, { from: -0.5, to: 0.5, points: 3 }] });
  assert.equal(s.accuracy, null);
  assert.equal(s.originAccuracy, null);
  s.ys.forEach((y, j) => s.xs.forEach((x, i) => {
    const expected = f(theta.map((t, k) => t + x * d1[k] + y * d2[k]));
    assert.ok(Math.abs(s.loss[j][i] - expected) <= 1e-12 * Math.max(1, Math.abs(expected)), `(${x}, ${y})`);
  }));
  const l = await slice1d(q, theta, d1, { from: -1, to: 1, points: 9 });
  assert.equal(l.alphas.length, 9);
  l.alphas.forEach((a, i) => assert.ok(Math.abs(l.loss[i] - f(theta.map((t, k) => t + a * d1[k]))) < 1e-12));
  assert.equal(l.originLoss, f(theta));
  const bad = (p: Promise<unknown>, re: RegExp) => assert.rejects(p, (e: unknown) => e instanceof InputError && re.test(e.message));
  await bad(slice1d(q, theta, [1, 2], {}), /direction.*6 entries/);
  await bad(slice1d(q, theta, d1, { from: 1, to: -1 }), /range/);
  await bad(slice1d(q, theta, d1, { points: 1 }), /at least 2 points/);
  await bad(slice1d(q, theta, d1.map((v, i) => (i === 2 ? NaN : v))), /finite/);
  await bad(slice2d(q, theta, [d1, d2], { axes: [{}, { points: 1.5 }] }), /range \(y\)/);
});

test("slice along the top Hessian eigenvector of a model follows L0 + (g.v) a + 0.5 lambda a^2 within the cubic bound", async () => {
  const obj = modelObjective(model, data);
  try {
    const theta = model.init(0);
    const e = await eigenDirections(obj, theta, 1, { seed: 0 });
    const v = e.directions[0], lambda = e.eigenvalues[0];
    assert.ok(lambda > 0);
    const g = await obj.gradient(theta);
    const gv = hostDot(g, v);
    // a from -0.1 to 0.1 in steps of 0.01.
    const s = await slice1d(obj, theta, v, { from: -0.1, to: 0.1, points: 21 });
    const L0 = s.originLoss;
    assert.equal(L0, (await obj.evaluate(theta)).loss);

    // The bound. Taylor: L(a) = L0 + (g.v) a + lambda a^2 / 2 + R(a), |R(a)| <= K |a|^3 / 6 with
    // K = max |d^3 L / da^3| over [-0.1, 0.1]. The third derivative is the slope of the
    // directional curvature c(s) = v^T H(theta + s v) v; by the mean value theorem a finite
    // difference of c between neighbours equals it somewhere between them, so K is estimated by
    // the largest such difference over a grid of step 0.05, times 2 for what the grid misses
    // between its points (the third derivative itself changes by a few % over 0.1, measured).
    // Noise: Wasm's exp/log/tanh are float32-precise in float64 arrays, so each loss carries
    // about 1e-7 relative error (objective.test.ts); 1e-6 |L0| per value bounds L(a) - L0 twice over.
    const curv = async (sv: number) => {
      const op = obj.curvature(displace(theta, [v], [sv]));
      const dv = fromHost(v, obj.dtype);
      const hv = op.matvec(dv);
      const c = await dot(dv, hv);
      dv.dispose(), hv.dispose(), op.dispose();
      return c;
    };
    const grid = [-0.1, -0.05, 0, 0.05, 0.1];
    const cs = await Promise.all(grid.map(curv));
    assert.ok(Math.abs(cs[2] - lambda) < 1e-8 * Math.abs(lambda), `v^T H v ${cs[2]} vs lambda ${lambda}`);
    let K = 0;
    for (let i = 0; i + 1 < grid.length; i++) K = Math.max(K, Math.abs((cs[i + 1] - cs[i]) / (grid[i + 1] - grid[i])));
    K *= 2;
    const noise = 1e-6 * Math.abs(L0);
    let worst = 0;
    s.alphas.forEach((a, i) => {
      const quad = L0 + gv * a + 0.5 * lambda * a * a;
      const bound = (K * Math.abs(a) ** 3) / 6 + noise;
      const r = Math.abs(s.loss[i] - quad);
      worst = Math.max(worst, r / bound);
      assert.ok(r <= bound, `a = ${a}: |L - quadratic| = ${r} > bound ${bound} (K = ${K})`);
    });
    // The test is not vacuous: at |a| = 0.1 the curvature term is much larger than the bound, so
    // an eigenvalue 10% off would fail it.
    const bound01 = (K * 0.001) / 6 + noise;
    assert.ok(0.1 * 0.5 * lambda * 0.01 > bound01, `curvature term ${0.5 * lambda * 0.01} vs bound ${bound01}`);
    console.log(`# lambda ${lambda.toPrecision(6)}, g.v ${gv.toExponential(3)}, K ${K.toExponential(3)}, worst |R|/bound ${worst.toFixed(3)}`);
  } finally {
    obj.dispose();
  }
});
