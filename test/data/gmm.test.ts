import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../../src/errors.ts";
import { gaussianMixture, gmmMeans } from "../../src/data/gmm.ts";
import { validateDataset } from "../../src/data/dataset.ts";

const dist = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j]! - b[j]!) ** 2;
  return Math.sqrt(s);
};

test("means: k <= d gives pairwise distance exactly sep and norms sep/sqrt2", () => {
  for (const [k, d, sep] of [[5, 20, 3], [4, 4, 0.5], [1, 3, 2]] as const) {
    const m = gmmMeans({ k, d, sep, seed: 7 });
    assert.equal(m.length, k * d);
    for (let i = 0; i < k; i++) {
      const mi = m.subarray(i * d, (i + 1) * d);
      assert.ok(Math.abs(dist(mi, new Float64Array(d)) - sep / Math.SQRT2) < 1e-12);
      for (let j = 0; j < i; j++) assert.ok(Math.abs(dist(mi, m.subarray(j * d, (j + 1) * d)) - sep) < 1e-12);
    }
  }
});

test("means: k > d gives random directions of norm sep/sqrt2, RMS pairwise distance about sep", () => {
  const k = 400, d = 3, sep = 2;
  const m = gmmMeans({ k, d, sep, seed: 1 });
  let s2 = 0, pairs = 0;
  for (let i = 0; i < k; i++) {
    assert.ok(Math.abs(dist(m.subarray(i * d, i * d + d), [0, 0, 0]) - sep / Math.SQRT2) < 1e-12);
    for (let j = 0; j < i; j++) { s2 += dist(m.subarray(i * d, i * d + d), m.subarray(j * d, j * d + d)) ** 2; pairs++; }
  }
  // E|mu_i - mu_j|^2 = sep^2 = 4. In R^3, |mu_i - mu_j|^2 = (sep^2/2)(2 - 2 cos) with cos uniform
  // on [-1, 1], i.e. uniform on [0, 8]: variance 64/12. Given mu_i the conditional mean is exactly
  // sep^2 (E[u_j] = 0), so the pair average is a degenerate U-statistic with variance
  // 2 Var / (k(k-1)) = 6.7e-5, sd 0.008; 0.05 is more than 6 sigma.
  assert.ok(Math.abs(s2 / pairs - sep * sep) < 0.05, `mean squared distance ${s2 / pairs}`);
});

test("samples follow the law: cluster means, unit isotropic variance, interleaved rows", () => {
  const k = 4, d = 10, n = 5000, sep = 3;
  const ds = gaussianMixture({ k, d, n, sep, seed: 3 });
  validateDataset(ds);
  assert.equal(ds.y.length, k * n);
  assert.deepEqual(ds.featureShape, [d]);
  assert.ok(ds.x instanceof Float64Array);
  const mu = gmmMeans({ k, d, sep, seed: 3 });
  const emp = new Float64Array(k * d);
  for (let c = 0; c < k; c++) {
    // Rows r with r mod k = c are cluster c, labelled c (classes defaults to k).
    const rows: number[] = [];
    for (let r = c; r < k * n; r += k) { rows.push(r); assert.equal(ds.y[r], c); }
    const mean = new Float64Array(d);
    for (const r of rows) for (let j = 0; j < d; j++) mean[j]! += ds.x[r * d + j]! / n;
    emp.set(mean, c * d);
    // Each coordinate of an empirical mean is N(mu, 1/n): 5 sigma = 5/sqrt(n) = 0.071, exceeded by
    // one of the 40 coordinates with probability ~ 40 x 5.7e-7.
    for (let j = 0; j < d; j++) assert.ok(Math.abs(mean[j]! - mu[c * d + j]!) < 5 / Math.sqrt(n), `mean c${c} j${j}`);
    // Sample covariance: diagonal has sd sqrt(2/n) = 0.02, off-diagonal sd 1/sqrt(n) = 0.014;
    // bounds at 5 sigma over 40 diagonal and 180 off-diagonal entries.
    for (let a = 0; a < d; a++) {
      for (let b = 0; b <= a; b++) {
        let s = 0;
        for (const r of rows) s += (ds.x[r * d + a]! - mean[a]!) * (ds.x[r * d + b]! - mean[b]!);
        s /= n - 1;
        if (a === b) assert.ok(Math.abs(s - 1) < 5 * Math.sqrt(2 / n), `var c${c} ${a}: ${s}`);
        else assert.ok(Math.abs(s) < 5 / Math.sqrt(n), `cov c${c} ${a},${b}: ${s}`);
      }
    }
  }
  // Separation seen in the data: |d_hat - sep| <= |err_i - err_j| with |err_i - err_j|^2 ~ (2/n) chi2_d;
  // chi2_10 exceeds 50 with probability < 1e-6, so the bound is sqrt(100/n) = 0.14.
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < i; j++) {
      const dh = dist(emp.subarray(i * d, i * d + d), emp.subarray(j * d, j * d + d));
      assert.ok(Math.abs(dh - sep) < Math.sqrt(100 / n), `distance ${i},${j}: ${dh}`);
    }
  }
});

test("separation sets the overlap: nearest-mean error of 2 clusters is Phi(-sep/2)", () => {
  // With two unit-variance clusters at distance sep, the nearest-true-mean rule errs with
  // probability Phi(-sep/2) = 0.1587 for sep = 2. Over N = 10,000 points its sd is
  // sqrt(p(1-p)/N) = 0.0037; we allow 5 sigma = 0.018.
  const k = 2, d = 8, n = 5000, sep = 2;
  const ds = gaussianMixture({ k, d, n, sep, seed: 11 });
  const mu = gmmMeans({ k, d, sep, seed: 11 });
  let wrong = 0;
  for (let r = 0; r < k * n; r++) {
    const row = ds.x.subarray(r * d, r * d + d);
    const nearest = dist(row, mu.subarray(0, d)) <= dist(row, mu.subarray(d, 2 * d)) ? 0 : 1;
    if (nearest !== ds.y[r]) wrong++;
  }
  assert.ok(Math.abs(wrong / (k * n) - 0.158655) < 0.018, `error rate ${wrong / (k * n)}`);
});

test("classes=C maps cluster c to class c mod C", () => {
  const ds = gaussianMixture({ k: 5, d: 6, n: 10, classes: 3, seed: 0 });
  assert.equal(ds.numClasses, 3);
  for (let r = 0; r < ds.y.length; r++) assert.equal(ds.y[r], (r % 5) % 3);
  // Same features as without merging: labels are the only change.
  assert.deepEqual(ds.x, gaussianMixture({ k: 5, d: 6, n: 10, seed: 0 }).x);
});

test("same seed same data, different seed different data", () => {
  const a = gaussianMixture({ k: 3, d: 5, n: 50, seed: 42 });
  const b = gaussianMixture({ k: 3, d: 5, n: 50, seed: 42 });
  const c = gaussianMixture({ k: 3, d: 5, n: 50, seed: 43 });
  assert.deepEqual(a.x, b.x);
  assert.deepEqual(a.y, b.y);
  let same = 0;
  for (let i = 0; i < a.x.length; i++) if (a.x[i] === c.x[i]) same++;
  assert.equal(same, 0);
  assert.equal(a.name, "gmm:k=3,d=5,n=50,sep=3,seed=42");
});

test("bad options throw InputError naming the spec", () => {
  for (const [o, part] of [
    [{ k: 0 }, "k must be a positive integer"],
    [{ d: 2.5 }, "d must be"],
    [{ sep: -1 }, "sep must be"],
    [{ seed: -3 }, "seed must be"],
    [{ k: 3, classes: 4 }, "classes must be an integer in 1..k"],
  ] as const) {
    assert.throws(() => gaussianMixture(o), (e: unknown) => e instanceof InputError && e.message.startsWith("gmm:") && e.message.includes(part));
  }
});
