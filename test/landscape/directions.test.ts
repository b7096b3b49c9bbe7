// Directions for loss-landscape slices: filter normalization (Li et al. 2018) checked filter by
// filter with independent index arithmetic on MLP and CNN layouts; Hessian eigen-directions
// against a dense eigendecomposition; trajectory PCA against a synthetic planar trajectory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { randomOrthogonal, fromEigen } from "../../src/linalg/dense/dense-matrix.ts";
import { hostDot, quadraticObjective } from "../../src/landscape/objective.ts";
import {
  cosine,
  eigenDirections,
  normalizeDirection,
  randomDirection,
  trajectoryPca,
} from "../../src/landscape/directions.ts";
import { InputError } from "../../src/errors.ts";

await startEngine({ device: "wasm" });

const norm = (x: ArrayLike<number>, from = 0, to = x.length) => {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s);
};
const relClose = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(Math.abs(b), 1e-300), `${what}: ${a} vs ${b}`);

// The filter norms are exact up to rounding and Li et al.'s epsilon 1e-10 added to the direction
// filter's norm (relative effect 1e-10 / ||d_f|| with ||d_f|| >= ~1): 1e-9 relative.
const FILTER_TOL = 1e-9;

test("filter normalization, MLP: every row of every Linear weight has theta's row norm; biases zero", () => {
  const model = parseModel("mlp:4-6-5-3:tanh");
  const theta = model.init(3);
  const d = randomDirection(model.layout, theta, { seed: 7 });
  assert.equal(d.length, model.size);
  // Independent walk over the PyTorch shapes: "2l.weight" [out, in], row r at offset + r * in.
  let rows = 0;
  for (const p of model.layout) {
    if (p.name.endsWith(".bias")) {
      for (let i = 0; i < p.size; i++) assert.equal(d[p.offset + i], 0, `${p.name}[${i}]`);
      continue;
    }
    const [out, inp] = p.shape;
    assert.equal(p.shape.length, 2);
    for (let r = 0; r < out; r++) {
      const a = p.offset + r * inp, b = a + inp;
      relClose(norm(d, a, b), norm(theta, a, b), FILTER_TOL, `${p.name} row ${r}`);
      rows++;
    }
  }
  assert.equal(rows, 6 + 5 + 3);
  // It is a random direction, not theta: a Gaussian rescaled per filter is far from parallel.
  assert.ok(Math.abs(cosine(d, theta)) < 0.7, `cos(d, theta) = ${cosine(d, theta)}`);
  // Reproducible, and the seed matters.
  assert.deepEqual(randomDirection(model.layout, theta, { seed: 7 }), d);
  assert.notDeepEqual(randomDirection(model.layout, theta, { seed: 8 }), d);
});

test("filter normalization, CNN: every output channel of every conv kernel (and Linear row) has theta's norm", () => {
  const model = parseModel("cnn:lenet:in=1x12x12,classes=3,c1=2,c2=3,k=3");
  const theta = model.init(1);
  const d = randomDirection(model.layout, theta, { seed: 2 });
  let filters = 0;
  for (const p of model.layout) {
    if (p.shape.length === 1) {
      for (let i = 0; i < p.size; i++) assert.equal(d[p.offset + i], 0, `${p.name}[${i}]`);
      continue;
    }
    if (p.shape.length === 4) {
      // [out, in, k, k]: output channel o holds entries ((o * in + c) * k + u) * k + w.
      const [out, inp, k] = p.shape;
      for (let o = 0; o < out; o++) {
        let sd = 0, st = 0;
        for (let c = 0; c < inp; c++) for (let u = 0; u < k; u++) for (let w = 0; w < k; w++) {
          const i = p.offset + ((o * inp + c) * k + u) * k + w;
          sd += d[i] ** 2;
          st += theta[i] ** 2;
        }
        relClose(Math.sqrt(sd), Math.sqrt(st), FILTER_TOL, `${p.name} channel ${o}`);
        filters++;
      }
    } else {
      const [out, inp] = p.shape;
      for (let r = 0; r < out; r++) relClose(norm(d, p.offset + r * inp, p.offset + (r + 1) * inp), norm(theta, p.offset + r * inp, p.offset + (r + 1) * inp), FILTER_TOL, `${p.name} row ${r}`);
      filters += out;
    }
  }
  assert.equal(filters, 2 + 3 + 3);
});

test("normalization variants: filter = per-filter rescaling of the same Gaussian; layer; none; biases normalize/copy", () => {
  const model = parseModel("mlp:4-6-3:tanh");
  const theta = model.init(0);
  const raw = randomDirection(model.layout, theta, { seed: 5, normalization: "none", biases: "normalize" });
  // "none" is the plain hostRng Gaussian, biases included (nothing to normalize them with).
  const rng = hostRng(5);
  assert.deepEqual(Array.from(raw), Array.from({ length: model.size }, () => rng.normal()));
  const filt = randomDirection(model.layout, theta, { seed: 5 });
  const layer = randomDirection(model.layout, theta, { seed: 5, normalization: "layer", biases: "normalize" });
  const copy = randomDirection(model.layout, theta, { seed: 5, biases: "copy" });
  for (const p of model.layout) {
    const a = p.offset, b = a + p.size;
    if (p.shape.length === 1) {
      relClose(norm(layer, a, b), norm(theta, a, b), FILTER_TOL, `${p.name} normalized as a whole`);
      for (let i = a; i < b; i++) {
        assert.ok(Math.sign(layer[i]) === Math.sign(raw[i]));
        assert.equal(copy[i], theta[i]);
      }
      continue;
    }
    relClose(norm(layer, a, b), norm(theta, a, b), FILTER_TOL, `${p.name} layer norm`);
    const inp = p.shape[1];
    for (let r = 0; r < p.shape[0]; r++) {
      const s = filt[a + r * inp] / raw[a + r * inp];
      assert.ok(s > 0);
      for (let i = a + r * inp; i < a + (r + 1) * inp; i++) relClose(filt[i] / raw[i], s, 1e-12, `${p.name} row ${r} is one rescaling`);
    }
    for (let i = a; i < b; i++) assert.equal(copy[i], filt[i]);
  }
  // In place, and checked.
  const d = Float64Array.from(raw);
  assert.equal(normalizeDirection(d, model.layout, theta), d);
  assert.deepEqual(d, filt);
  assert.throws(() => normalizeDirection(new Float64Array(3), model.layout, theta), InputError);
  assert.throws(() => randomDirection(model.layout, theta, { normalization: "bogus" as never }), /normalization/);
});

test("eigenDirections: top-k eigenvectors of the Hessian equal the dense eigendecomposition's", async () => {
  const n = 12;
  const rng = hostRng(11);
  const Q = randomOrthogonal(n, rng);
  const lambdas = [5, 3, 1.5, 1, 0.5, 0.2, 0.1, 0, -0.1, -0.3, -0.5, -1];
  const A = fromEigen(Q, lambdas);
  const q = quadraticObjective(A.data);
  const theta = Array.from({ length: n }, () => rng.normal());
  const e = await eigenDirections(q, theta, 2, { seed: 3 });
  assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(e))).includes("directions"), false);
  assert.equal(e.directions.length, 2);
  for (let k = 0; k < 2; k++) {
    relClose(e.eigenvalues[k], lambdas[k], 1e-10, `eigenvalue ${k}`);
    const d = e.directions[k];
    relClose(norm(d), 1, 1e-12, `unit norm ${k}`);
    const col = Array.from({ length: n }, (_, i) => Q.data[i * n + k]);
    relClose(Math.abs(hostDot(d, col)), 1, 1e-10, `|<d, q_${k}>|`);
    // Sign fixed: the largest-magnitude entry is positive.
    const big = d.reduce((m, v) => (Math.abs(v) > Math.abs(m) ? v : m), 0);
    assert.ok(big > 0);
  }
  assert.ok(e.matvecs > 0);
});

/** Orthonormal u, v in R^n by Gram-Schmidt of two Gaussians. */
function plane(n: number, seed: number): [Float64Array, Float64Array] {
  const rng = hostRng(seed);
  const u = Float64Array.from({ length: n }, () => rng.normal());
  const v = Float64Array.from({ length: n }, () => rng.normal());
  const nu = norm(u);
  u.forEach((x, i) => (u[i] = x / nu));
  const c = hostDot(u, v);
  v.forEach((x, i) => (v[i] = x - c * u[i]));
  const nv = norm(v);
  v.forEach((x, i) => (v[i] = x / nv));
  return [u, v];
}

test("trajectoryPca: a trajectory in a known plane gives that plane, explained variance summing to 1", () => {
  const n = 300, m = 9;
  const [u, v] = plane(n, 4);
  const rng = hostRng(9);
  const final = Float64Array.from({ length: n }, () => rng.normal());
  // A spiral into the final point: coefficients (a_i, b_i) in the plane spanned by u and v.
  const ab = Array.from({ length: m }, (_, i) => {
    const r = (m - 1 - i) / (m - 1), t = 0.7 * i;
    return [3 * r * Math.cos(t), r * Math.sin(t)];
  });
  const thetas = ab.map(([a, b]) => Float64Array.from(final, (f, i) => f + a * u[i] + b * v[i]));
  const pca = trajectoryPca(thetas);
  assert.equal(pca.directions.length, 2);
  const [d1, d2] = pca.directions;
  // Overlap with the plane: ||P d||^2 = <d,u>^2 + <d,v>^2 = 1 for a direction inside it.
  for (const d of [d1, d2]) {
    relClose(norm(d), 1, 1e-12, "unit");
    relClose(hostDot(d, u) ** 2 + hostDot(d, v) ** 2, 1, 1e-10, "overlap with the plane");
  }
  assert.ok(Math.abs(hostDot(d1, d2)) < 1e-10);
  const ratios = pca.explainedVarianceRatio;
  relClose(ratios[0] + ratios[1], 1, 1e-10, "explained variance sums to 1");
  assert.ok(ratios[0] >= ratios[1]);
  // Independent oracle: the 2 x 2 covariance of the centered plane coefficients.
  const ma = ab.reduce((s, [a]) => s + a, 0) / m, mb = ab.reduce((s, [, b]) => s + b, 0) / m;
  let saa = 0, sab = 0, sbb = 0;
  for (const [a, b] of ab) (saa += (a - ma) ** 2), (sab += (a - ma) * (b - mb)), (sbb += (b - mb) ** 2);
  const tr = saa + sbb, disc = Math.sqrt(((saa - sbb) / 2) ** 2 + sab ** 2);
  relClose(ratios[0], (tr / 2 + disc) / tr, 1e-10, "first ratio");
  // Coordinates reconstruct each checkpoint: theta_i = final + c_i1 d1 + c_i2 d2; the last is the origin.
  pca.coordinates.forEach(([c1, c2], i) => {
    let err = 0;
    for (let k = 0; k < n; k++) err = Math.max(err, Math.abs(final[k] + c1 * d1[k] + c2 * d2[k] - thetas[i][k]));
    assert.ok(err < 1e-10, `checkpoint ${i} reconstruction error ${err}`);
  });
  assert.deepEqual(pca.coordinates[m - 1], [0, 0]);
  assert.equal(JSON.parse(JSON.stringify(pca)).directions, undefined);
});

test("trajectoryPca: off-plane noise lowers the explained variance; bad trajectories throw InputError", () => {
  const n = 200, m = 8;
  const [u, v] = plane(n, 1);
  const rng = hostRng(2);
  const thetas = Array.from({ length: m }, (_, i) => Float64Array.from(u, (x, k) => (m - i) * x + Math.sin(i) * v[k] + 0.3 * rng.normal()));
  const pca = trajectoryPca(thetas, thetas[m - 1], { center: false });
  const sum = pca.explainedVarianceRatio[0] + pca.explainedVarianceRatio[1];
  assert.ok(sum < 0.999 && sum > 0.5, `explained ${sum}`);
  assert.throws(() => trajectoryPca([thetas[0]]), (e: unknown) => e instanceof InputError && /at least 2/.test(e.message));
  assert.throws(() => trajectoryPca([thetas[0], thetas[0], thetas[0]]), (e: unknown) => e instanceof InputError && /do not move/.test(e.message));
  assert.throws(() => trajectoryPca([thetas[0], thetas[1]]), (e: unknown) => e instanceof InputError && /spans 1 direction/.test(e.message));
  assert.throws(() => trajectoryPca([thetas[0], new Float64Array(3)]), InputError);
});
