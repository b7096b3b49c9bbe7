// Sharpness measures against their closed forms on quadratics with known Hessians (dense Jacobi
// eigendecomposition, brute force over box vertices, the trust-region subproblem solved here by
// its secular equation), stability verdicts at the 2/lr boundary, and consistency on a tiny MLP.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { fromEigen, randomOrthogonal, denseMatrix } from "../../src/linalg/dense/dense-matrix.ts";
import { modelObjective, quadraticObjective, hostNorm } from "../../src/landscape/objective.ts";
import { epsilonSharpness, hessianTrace, samSharpness, sharpness, topEigenvalue } from "../../src/landscape/sharpness.ts";
import { gdStability, gdThreshold, linearStability, sgdTraceStability } from "../../src/landscape/stability.ts";
import { lanczosEigs } from "../../src/linalg/lanczos.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { jacobi } from "../helpers/jacobi.ts";

await startEngine({ device: "wasm" });

/** A = Q diag(values) Q^T with a seeded random orthogonal Q. */
function spd(values: number[], seed: number): Float64Array {
  return fromEigen(randomOrthogonal(values.length, hostRng(seed)), values).data;
}

function matvec(A: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  const n = x.length;
  return Float64Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < n; j++) s += A[i * n + j] * x[j];
    return s;
  });
}

/** f(x) = 0.5 x^T A x - b^T x + c on the host. */
function quad(A: ArrayLike<number>, b: ArrayLike<number>, c: number, x: ArrayLike<number>): number {
  const y = matvec(A, x);
  let v = c;
  for (let i = 0; i < x.length; i++) v += 0.5 * x[i] * y[i] - b[i] * x[i];
  return v;
}

/** The minimizer A^{-1} b, by Jacobi's eigendecomposition (A positive definite). */
function solve(A: Float64Array, b: ArrayLike<number>): Float64Array {
  const n = b.length;
  const { values, vectors } = jacobi(denseMatrix(n, A));
  const x = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let qb = 0;
    for (let i = 0; i < n; i++) qb += vectors[i * n + k] * b[i];
    for (let i = 0; i < n; i++) x[i] += (vectors[i * n + k] * qb) / values[k];
  }
  return x;
}

/**
 * max over ||e|| <= rho of g^T e + 0.5 e^T A e (the trust-region subproblem, maximized): with
 * A = Q L Q^T and h = Q^T g, e = Q (h_i / (mu - l_i)), mu > l_max solving
 * sum h_i^2 / (mu - l_i)^2 = rho^2 (the secular equation, by bisection).
 */
function trustRegionMax(A: Float64Array, g: ArrayLike<number>, rho: number): number {
  const n = g.length;
  const { values, vectors } = jacobi(denseMatrix(n, A));
  const h = Float64Array.from({ length: n }, (_, k) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += vectors[i * n + k] * g[i];
    return s;
  });
  const lmax = Math.max(...values);
  const norm2 = (mu: number) => h.reduce((s, hi, k) => s + (hi / (mu - values[k])) ** 2, 0);
  let lo = lmax, hi = lmax + hostNorm(g) / rho + 1;
  for (let it = 0; it < 200; it++) {
    const mid = 0.5 * (lo + hi);
    if (norm2(mid) > rho * rho) lo = mid;
    else hi = mid;
  }
  const mu = 0.5 * (lo + hi);
  let v = 0;
  for (let k = 0; k < n; k++) {
    const ek = h[k] / (mu - values[k]);
    v += h[k] * ek + 0.5 * values[k] * ek * ek;
  }
  return v;
}

const VALUES = [6, 2.5, 1.5, 1, 0.7, 0.4, 0.2, 0.1];
const A = spd(VALUES, 3);
const n = VALUES.length;
const b = Float64Array.from({ length: n }, (_, i) => Math.sin(i + 1));
const C = 2;
const xStar = solve(A, b);

test("top eigenvalue and trace equal the dense eigendecomposition of a known Hessian", async () => {
  const q = quadraticObjective(A, b, C);
  const x = Float64Array.from({ length: n }, (_, i) => i / 3);
  const dense = jacobi(denseMatrix(n, A)).values;
  const top = await topEigenvalue(q, x);
  assert.ok(Math.abs(top.value - Math.max(...dense)) < 1e-10 * 6, `lambda ${top.value}`);
  assert.ok(top.converged && top.cost.matvecs > 0 && top.cost.evaluations === 0);
  const trueTrace = VALUES.reduce((s, v) => s + v, 0);
  const tr = await hessianTrace(q, x, { probes: 200, seed: 1 });
  assert.ok(tr.standardError! > 0);
  // 4 standard errors: a bound that a correct estimator breaks with probability ~6e-5.
  assert.ok(Math.abs(tr.value - trueTrace) <= 4 * tr.standardError!, `trace ${tr.value} +- ${tr.standardError} vs ${trueTrace}`);
  assert.equal(tr.cost.matvecs, 200);
  JSON.parse(JSON.stringify(top));
});

test("SAM worst case at the minimum is loss + 0.5 lambda_max rho^2", async () => {
  const q = quadraticObjective(A, b, C);
  const fStar = quad(A, b, C, xStar);
  const rho = 0.3;
  const expected = fStar + 0.5 * VALUES[0] * rho * rho;
  // Alone: gradient ~0, so a seeded random start; the ascent is then power iteration (rate 2.5/6).
  const alone = await samSharpness(q, xStar, { rho, steps: 60 });
  assert.equal(alone.start, "random");
  assert.ok(Math.abs(alone.worstLoss - expected) < 1e-9, `${alone.worstLoss} vs ${expected}`);
  assert.ok(Math.abs(hostNorm(alone.perturbation!) - rho) < 1e-12);
  assert.equal(alone.cost.evaluations, 61);
  // In sharpness(): started from Lanczos's eigenvector, exact at once.
  const all = await sharpness(q, xStar, { sam: { rho, steps: 2 }, epsilon: { epsilon: 0.05 } });
  assert.equal(all.sam.start, "given");
  assert.ok(Math.abs(all.sam.firstStepLoss - expected) < 1e-9);
  assert.ok(Math.abs(all.sam.value - 0.5 * VALUES[0] * rho * rho) < 1e-9);
  const round = JSON.parse(JSON.stringify(all));
  assert.equal(round.sam.settings.rho, rho);
  assert.ok(round.cost.matvecs > 0 && round.cost.gradients > 0);
});

test("SAM worst case at a non-stationary point is the trust-region subproblem's solution", async () => {
  const q = quadraticObjective(A, b, C);
  const x = Float64Array.from(xStar, (v, i) => v + 0.2 * Math.cos(3 * i));
  const g = matvec(A, x).map((v, i) => v - b[i]);
  for (const rho of [0.05, 0.5, 2]) {
    const expected = quad(A, b, C, x) + trustRegionMax(A, g, rho);
    const r = await samSharpness(q, x, { rho, steps: 80 });
    assert.equal(r.start, "gradient");
    assert.ok(Math.abs(r.worstLoss - expected) < 1e-9 * Math.max(1, expected), `rho ${rho}: ${r.worstLoss} vs ${expected}`);
    // SAM's one step is a lower bound, the ascent can only improve on it.
    assert.ok(r.firstStepLoss <= r.worstLoss + 1e-12);
    assert.ok(r.firstStepLoss >= r.loss + rho * hostNorm(g) - 1e-12, "first step gains at least rho ||g|| on a convex f");
  }
});

test("epsilon-sharpness: diagonal A at the minimum has the closed form, a general A the best box vertex", async () => {
  // Diagonal PSD A (one zero curvature): the box maximum of 0.5 y^T A y is 0.5 sum a_i r_i^2.
  const a = [4, 1, 0.25, 0, 2];
  const D = new Float64Array(25);
  a.forEach((v, i) => (D[i * 5 + i] = v));
  const xd = [0.5, -2, 3, 1, -0.1];
  const bd = a.map((v, i) => v * xd[i]); // minimum at xd (any value along the zero-curvature axis)
  const cd = 1 + 0.5 * a.reduce((s, v, i) => s + v * xd[i] * xd[i], 0); // f(xd) = 1
  const qd = quadraticObjective(D, bd, cd);
  for (const epsilon of [1e-3, 0.1]) {
    const r = await epsilonSharpness(qd, xd, { epsilon });
    const half = xd.map((x) => epsilon * (Math.abs(x) + 1));
    const closed = 0.5 * a.reduce((s, v, i) => s + v * half[i] ** 2, 0);
    assert.equal(r.randomStart, true);
    assert.ok(Math.abs(r.loss - 1) < 1e-12);
    assert.ok(Math.abs(r.maxLoss - (1 + closed)) < 1e-12, `${r.maxLoss} vs ${1 + closed}`);
    assert.ok(Math.abs(r.value - (100 * closed) / 2) < 1e-10, `${r.value}`);
  }
  // General PSD A, n = 8: the maximum of a convex function over the box is at a vertex; brute
  // force over the 256 vertices, at the minimum and at a non-stationary point.
  const q = quadraticObjective(A, b, C);
  for (const x of [xStar, Float64Array.from(xStar, (v, i) => v + 0.01 * (i - 3))]) {
    const epsilon = 0.05;
    const half = Array.from(x, (v) => epsilon * (Math.abs(v) + 1));
    let brute = -Infinity;
    for (let mask = 0; mask < 1 << n; mask++) {
      const y = Float64Array.from(x, (v, i) => v + ((mask >> i) & 1 ? half[i] : -half[i]));
      brute = Math.max(brute, quad(A, b, C, y));
    }
    const r = await epsilonSharpness(q, x, { epsilon });
    const f = quad(A, b, C, x);
    assert.ok(Math.abs(r.maxLoss - brute) < 1e-12 * Math.max(1, Math.abs(brute)), `${r.maxLoss} vs brute force ${brute}`);
    assert.ok(Math.abs(r.value - (100 * (brute - f)) / (1 + f)) < 1e-9);
    // The maximizer is a vertex of the box.
    r.offset!.forEach((v, i) => assert.ok(Math.abs(Math.abs(v) - half[i]) < 1e-15));
  }
});

test("stability verdicts flip exactly at 2/lr (and (2 + 2 beta)/lr), as GD on the quadratic does", async () => {
  const q = quadraticObjective(A, b, C);
  const lam = (await topEigenvalue(q, xStar)).value;
  const lr = 2 / lam;
  assert.equal(gdStability(lam, lr).stable, true);
  assert.equal(gdStability(lam * (1 + 1e-12), lr).stable, false);
  assert.equal(gdStability(lam, lr * (1 + 1e-12)).stable, false);
  assert.equal(gdStability(lam, lr * (1 - 1e-12)).stable, true);
  assert.equal(gdThreshold(0.5, 0.5), 6);
  assert.equal(gdStability(6, 0.5, 0.5).stable, true);
  assert.equal(gdStability(6.000001, 0.5, 0.5).stable, false);
  assert.equal(sgdTraceStability(20, 0.1).stable, true);
  assert.equal(sgdTraceStability(20.000001, 0.1).stable, false);
  assert.throws(() => gdStability(1, 0), /lr/);
  assert.throws(() => gdStability(1, 0.1, 1), /momentum/);

  // The verdict is the dynamics': GD / heavy ball from x* + delta on the quadratic.
  const run = (eta: number, beta: number) => {
    let x = Float64Array.from(xStar, (v, i) => v + 1e-3 * Math.cos(i));
    let prev = x;
    for (let t = 0; t < 3000; t++) {
      const g = matvec(A, x).map((v, i) => v - b[i]);
      const next = x.map((v, i) => v - eta * g[i] + beta * (v - prev[i]));
      prev = x, x = next;
    }
    return hostNorm(x.map((v, i) => v - xStar[i]));
  };
  for (const beta of [0, 0.9]) {
    const thr = gdThreshold(1, beta) / lam; // the lr at which lambda_max sits on the threshold
    assert.ok(run(thr * 0.99, beta) < 1e-2, `beta ${beta}: stable below`);
    assert.ok(run(thr * 1.01, beta) > 1, `beta ${beta}: diverges above`);
    assert.equal(gdStability(lam, thr * 0.99, beta).stable, true);
    assert.equal(gdStability(lam, thr * 1.01, beta).stable, false);
  }

  const ls = await linearStability(q, xStar, { lr: 0.3, momentum: 0, traceOptions: { probes: 50 } });
  assert.equal(ls.gd.stable, lam <= 2 / 0.3);
  assert.equal(ls.gd.threshold, 2 / 0.3);
  assert.equal(ls.sgd!.stable, ls.trace!.value <= 2 / 0.3);
  JSON.parse(JSON.stringify(ls));
});

test("tiny MLP: the measures are consistent with the local quadratic model", async () => {
  const model = parseModel("mlp:4-6-3:tanh");
  const data = loadData("gmm:k=3,d=4,n=10,sep=2,seed=1");
  const obj = modelObjective(model, data);
  try {
    const theta = model.init(0);
    const rho = 0.01;
    const rep = await sharpness(obj, theta, { sam: { rho, steps: 5 }, epsilon: { epsilon: 1e-3 }, trace: { probes: 30 } });
    const L = rep.loss;
    const g = await obj.gradient(theta);
    const gn = hostNorm(g);
    const op = obj.curvature(theta);
    const bottom = (await lanczosEigs(op, { k: 1, which: "smallest" })).eigenvalues[0];
    op.dispose();
    const top = rep.topEigenvalue.value;
    // Cubic terms and the loss's ~1e-7 relative noise: a slack of 1e-6 (rho^3 ||D^3 f|| ~ 1e-6).
    const slack = 1e-6;
    assert.ok(rep.sam.worstLoss >= L, "worst case at least the loss");
    assert.ok(rep.sam.worstLoss >= rep.sam.firstStepLoss);
    assert.ok(rep.sam.worstLoss <= L + rho * gn + 0.5 * rho * rho * Math.max(top, 0) + slack, "upper quadratic bound");
    assert.ok(rep.sam.firstStepLoss >= L + rho * gn + 0.5 * rho * rho * Math.min(bottom, 0) - slack, "lower quadratic bound");
    // Keskar: the vertex r sign(g) gains sum r_i |g_i| to first order.
    const r = Array.from(theta, (x) => 1e-3 * (Math.abs(x) + 1));
    const lin = r.reduce((s, ri, i) => s + ri * Math.abs(g[i]), 0);
    const r2 = r.reduce((s, ri) => s + ri * ri, 0);
    const m = rep.epsilonSharpness.maxLoss;
    assert.ok(m >= L + lin + 0.5 * Math.min(bottom, 0) * r2 - slack && m <= L + lin + 0.5 * Math.max(top, 0) * r2 + slack, `box max ${m - L} vs ${lin}`);
    assert.ok(rep.epsilonSharpness.value > 0);
    assert.ok(top >= bottom && rep.trace.standardError! > 0);
    // tr(H) lies between n lambda_min and n lambda_max.
    assert.ok(rep.trace.value <= model.size * top && rep.trace.value >= model.size * bottom);
  } finally {
    obj.dispose();
  }
});
