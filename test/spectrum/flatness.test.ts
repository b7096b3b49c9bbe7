// Flatness measures against spectra with hand-computed answers, and trace / Frobenius norm
// against the entries of a dense matrix built from the spectrum (Q diag(l) Q^T).
import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../../src/errors.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { fromEigen, randomOrthogonal } from "../../src/linalg/dense/dense-matrix.ts";
import { flatness } from "../../src/spectrum/flatness.ts";
import { readSpectrum } from "../../src/spectrum/summary.ts";

test("hand-computed spectrum: near-zero fraction, rank, negative mass, moments", () => {
  const l = [-2, -1, 0, 0, 1e-20, 5e-3, 1, 10];
  const f = flatness(l);
  // near zero: |l| <= 1e-3 * 10 = 0.01 -> 0, 0, 1e-20, 5e-3
  assert.equal(f.nearZeroThreshold, 0.01);
  assert.equal(f.nearZeroCount, 4);
  assert.equal(f.nearZeroFraction, 0.5);
  // rank tol = 8 * 2^-52 * 10 ~ 1.8e-14: 0, 0, 1e-20 are zero
  assert.equal(f.rankTol, 8 * 2 ** -52 * 10);
  assert.equal(f.numericalRank, 5);
  assert.equal(f.negativeCount, 2);
  assert.equal(f.negativeMass, 3 / (3 + 1e-20 + 5e-3 + 11));
  assert.equal(f.min, -2);
  assert.equal(f.max, 10);
  assert.equal(f.negativeToPositive, 0.2);
  assert.equal(f.trace, -3 + 1e-20 + 5e-3 + 11);
  assert.ok(Math.abs(f.frobenius - Math.sqrt(4 + 1 + 25e-6 + 1 + 100)) < 1e-15);
  // profile: 1e-1 -> |l| <= 1: 0,0,1e-20,5e-3,-1,1 = 6; 1e-2 -> 4; 1e-3 -> |l| <= 0.01: 4; 1e-4.. -> 3
  assert.deepEqual(f.nearZeroProfile.map((p) => p.fraction * 8), [6, 4, 4, 3, 3, 3]);
  assert.deepEqual(JSON.parse(JSON.stringify(f)), f);
});

test("options: absolute threshold, float32 rank tolerance, explicit rankTol", () => {
  const l = [1, 1e-9, 1e-5, 0.5, -0.25];
  assert.equal(flatness(l, { nearZero: { absolute: 0.3 } }).nearZeroCount, 3);
  assert.equal(flatness(l, { nearZero: { relative: 0.3 } }).nearZeroCount, 3);
  assert.equal(flatness(l).numericalRank, 5);
  // float32: tol = 5 * 2^-23 ~ 6e-7 -> 1e-9 is zero
  assert.equal(flatness(l, { dtype: "float32" }).numericalRank, 4);
  assert.equal(flatness(l, { rankTol: 1e-4 }).numericalRank, 3);
  assert.equal(flatness(l, { rankTol: 1e-4 }).settings.rankTol, 1e-4);
});

test("degenerate: all zero, all positive, all negative, one value", () => {
  const z = flatness([0, 0, 0]);
  assert.equal(z.nearZeroFraction, 1);
  assert.equal(z.numericalRank, 0);
  assert.equal(z.negativeMass, 0);
  assert.equal(z.negativeToPositive, null);
  assert.equal(flatness([1, 2]).negativeToPositive, 0);
  assert.equal(flatness([-1, -2]).negativeMass, 1);
  assert.equal(flatness([-1, -2]).negativeToPositive, null);
  assert.equal(flatness([3]).numericalRank, 1);
});

test("trace and Frobenius norm equal those of the dense matrix Q diag(l) Q^T, 5 seeds", () => {
  for (let seed = 0; seed < 5; seed++) {
    const rng = hostRng(seed);
    const n = 40;
    const l = Array.from({ length: n }, () => rng.normal() * (rng.uniform() < 0.1 ? 10 : 0.1));
    const A = fromEigen(randomOrthogonal(n, rng), l);
    let tr = 0, fro = 0;
    for (let i = 0; i < n; i++) tr += A.data[i * n + i];
    for (const a of A.data) fro += a * a;
    const f = flatness(l);
    assert.ok(Math.abs(f.trace - tr) < 1e-12 * Math.sqrt(fro), `seed ${seed}`);
    assert.ok(Math.abs(f.frobenius - Math.sqrt(fro)) < 1e-12 * Math.sqrt(fro), `seed ${seed}`);
  }
});

test("readSpectrum: split and flatness together, settings written out, plain JSON", () => {
  const rng = hostRng(1);
  const l = [...Array.from({ length: 400 }, () => rng.sign() * -Math.log(1 - rng.uniform()) * 0.01), 3, 2, -1.5];
  const r = readSpectrum(l, { flatness: { nearZero: { absolute: 1e-3 } } });
  assert.equal(r.n, 403);
  assert.equal(r.outlierCount, 2);
  assert.equal(r.negativeOutlierCount, 1);
  assert.deepEqual(r.settings.flatness.nearZero, { absolute: 1e-3 });
  assert.equal(r.settings.split.minGapRatio, 2.5);
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
});

test("bad input: InputError naming the input", () => {
  const bad: [unknown, object | undefined, RegExp][] = [
    [[1, NaN], undefined, /eigenvalues: expected finite/],
    [[], undefined, /eigenvalues: expected at least one/],
    [[1], { nearZero: { relative: -1 } }, /nearZero.relative/],
    [[1], { nearZero: { relative: 1, absolute: 2 } }, /nearZero: expected/],
    [[1], { nearZero: { absolute: "x" } }, /nearZero.absolute/],
    [[1], { rankTol: NaN }, /rankTol/],
    [[1], { dtype: "float16" }, /dtype/],
  ];
  for (const [values, opts, msg] of bad) {
    assert.throws(() => flatness(values as number[], opts as never), (e: unknown) => e instanceof InputError && msg.test(e.message));
  }
});
