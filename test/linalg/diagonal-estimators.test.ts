// The exact diagonal against the materialized matrix of a real Hessian; Hutchinson's diagonal and
// XDiag against the exact diagonal, with errors of the size their variances predict.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { InputError } from "../../src/errors.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { makeProblem } from "../../src/curvature/problem.ts";
import { curvatureOperator } from "../../src/curvature/make.ts";
import { materialize } from "../../src/curvature/dense.ts";
import { exactDiagonal } from "../../src/linalg/exact-diagonal.ts";
import { hutchinsonDiagonal } from "../../src/linalg/hutchinson.ts";
import { xdiag } from "../../src/linalg/xtrace.ts";
import { fromEigen } from "../../src/linalg/dense/dense-matrix.ts";
import { diagonalOf, diagonalVariances, outlierSpectrum, synthetic, withoutSeconds } from "./stochastic-helpers.ts";

await startEngine({ device: "wasm" });

const rms = (xs: readonly number[]) => Math.sqrt(xs.reduce((s, x) => s + x * x, 0) / xs.length);

test("Hessian: exact diagonal equals the materialized matrix's; a block of it costs one product per coordinate", async () => {
  const model = parseModel("mlp:6-16-5:tanh");
  const problem = makeProblem(model, loadData("gmm:k=5,d=6,n=100,sep=3,seed=0"), model.init(0), { dtype: "float64" });
  const op = curvatureOperator(problem, { operator: "hessian" });
  const n = op.size;
  const dense = await materialize(op, { symmetrize: false });
  const ref = Array.from({ length: n }, (_, i) => dense.data[i * n + i]);
  const scale = Math.max(...ref.map(Math.abs));
  const d = await exactDiagonal(op);
  assert.equal(d.matvecs, n);
  assert.equal(d.diagonal.length, n);
  // Same products (e_i through the same jitted Hessian-vector product): equal to rounding.
  for (let i = 0; i < n; i++) assert.ok(Math.abs(d.diagonal[i] - ref[i]) <= 1e-14 * scale, `a_${i}${i}: ${d.diagonal[i]} vs ${ref[i]}`);
  assert.ok(Math.abs(d.sum - ref.reduce((a, b) => a + b, 0)) <= 1e-12 * scale * n);
  const block = await exactDiagonal(op, { offset: 96, count: 20 });
  assert.equal(block.matvecs, 20);
  assert.deepEqual(block.settings, { offset: 96, count: 20 });
  for (let j = 0; j < 20; j++) assert.ok(Math.abs(block.diagonal[j] - ref[96 + j]) <= 1e-14 * scale);

  // Hutchinson's diagonal on the same Hessian: coordinate i has variance sum_{k != i} a_ik^2 per
  // probe (exactly, for random signs), so error_i / sqrt(that / m) has mean 0 and variance 1.
  const m = 60;
  const h = await hutchinsonDiagonal(op, { matvecs: m, seed: 3 });
  const sd = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let k = 0; k < n; k++) if (k !== i) s += ((dense.data[i * n + k] + dense.data[k * n + i]) / 2) ** 2;
    return Math.sqrt(s / m);
  });
  const z = h.diagonal.map((v, i) => (v - ref[i]) / sd[i]);
  const outside = z.filter((x) => Math.abs(x) > 3.5).length;
  console.log(`  Hessian n=${n}: Hutchinson diagonal (${m} probes) RMS of error / exact SD ${rms(z).toFixed(3)}, ${outside} of ${n} beyond 3.5 SD`);
  // RMS of n ~unit-variance values: sd ~ sqrt(2 / n) / 2 ~ 0.05 if independent (they share the
  // probes, so allow more): [0.8, 1.2]. Beyond 3.5 SD: 0.05% each for a Gaussian; the means of
  // 60 products have heavier tails, so allow 1%.
  assert.ok(rms(z) >= 0.8 && rms(z) <= 1.2, `RMS z = ${rms(z)}`);
  assert.ok(outside <= 0.01 * n, `${outside} coordinates beyond 3.5 SD`);
  op.dispose();
  problem.dispose();
});

test("spectrum with 5 outliers: Hutchinson's errors and standard errors match the exact variances; XDiag's errors are several times smaller", async () => {
  const n = 300, m = 60;
  const s = synthetic(outlierSpectrum(n, 1), 2);
  const exact = diagonalOf(s.A);
  const variance = diagonalVariances(s.A);
  const h = await hutchinsonDiagonal(s.op, { matvecs: m, seed: 0 });
  const trueSe = variance.map((v) => Math.sqrt(v / m));
  const hErr = h.diagonal.map((v, i) => v - exact[i]);
  const hz = hErr.map((e, i) => e / trueSe[i]);
  const seRatio = h.standardErrors!.map((se, i) => se / trueSe[i]).sort((a, b) => a - b);
  // Reported SEs come from 60 samples: a sample SD is within ~10% of the truth (sd 1/sqrt(2 (m-1))).
  assert.ok(rms(hz) >= 0.8 && rms(hz) <= 1.2, `Hutchinson RMS z ${rms(hz)}`);
  assert.ok(seRatio[n >> 1] >= 0.9 && seRatio[n >> 1] <= 1.1, `median reported / exact SE ${seRatio[n >> 1]}`);
  assert.ok(Math.abs(h.sum - h.diagonal.reduce((a, b) => a + b, 0)) < 1e-9);

  // XDiag, same budget: the outliers dominate every row's variance; deflating them leaves the
  // bulk's. Reference: Hutchinson's diagonal of the bulk alone (the outliers removed exactly) with
  // m / 2 probes, an oracle XDiag approaches (it spends m / 2 products on the sketch and finds
  // the outliers only approximately: measured ~1.7 x that error).
  const x = await xdiag(s.op, { matvecs: m, seed: 0 });
  assert.equal(x.matvecs, m);
  const xErr = x.diagonal.map((v, i) => v - exact[i]);
  const bulk = diagonalVariances(fromEigen(s.Q, s.values.map((v, i) => (i < 5 ? 0 : v))));
  const oracle = Math.sqrt(bulk.reduce((a, b) => a + b, 0) / n / (m / 2));
  const hutchinsonExpected = rms(trueSe);
  const xz = xErr.map((e, i) => e / x.standardErrors![i]);
  const xOutside = xz.filter((v) => Math.abs(v) > 3).length;
  console.log(
    `  RMS error: Hutchinson ${rms(hErr).toFixed(4)} (expected ${hutchinsonExpected.toFixed(4)}), XDiag ${rms(xErr).toFixed(4)} ` +
      `(deflated oracle ${oracle.toFixed(4)}); XDiag RMS error / its SE ${rms(xz).toFixed(2)}, ${xOutside} of ${n} beyond 3 SE`,
  );
  assert.ok(rms(xErr) <= hutchinsonExpected / 2.5, `XDiag RMS error ${rms(xErr)} vs Hutchinson's ${hutchinsonExpected}`);
  assert.ok(rms(xErr) <= 2.5 * oracle, `XDiag RMS error ${rms(xErr)} vs oracle ${oracle}`);
  // XDiag's SEs (exchangeable SD, our construction) calibrated to a factor of 2; few beyond 3 SE.
  assert.ok(rms(xz) >= 0.5 && rms(xz) <= 2, `XDiag RMS z ${rms(xz)}`);
  assert.ok(xOutside <= 0.05 * n, `${xOutside} coordinates beyond 3 SE`);
  s.op.dispose();
});

test("XDiag is exact to rounding on an operator of rank < k", async () => {
  for (const dtype of ["float64", "float32"] as const) {
    const values = Array.from({ length: 100 }, (_, i) => (i < 4 ? [5, -3, 2, 1][i] : 0));
    const s = synthetic(values, 7, dtype);
    const exact = diagonalOf(s.A);
    const x = await xdiag(s.op, { matvecs: 20, seed: 1 });
    const err = Math.max(...x.diagonal.map((v, i) => Math.abs(v - exact[i])));
    // ||A||_2 = 5; float32 leaves ~1e-6 relative after the QR and the leave-one-out algebra.
    assert.ok(err <= (dtype === "float64" ? 1e-13 : 2e-5) * 5, `${dtype}: max error ${err}`);
    s.op.dispose();
  }
});

test("same seed, same numbers; settings and costs in the results", async () => {
  const s = synthetic(outlierSpectrum(60, 2), 3);
  for (const f of [hutchinsonDiagonal, xdiag]) {
    const a = await f(s.op, { matvecs: 20, seed: 5 });
    const b = await f(s.op, { matvecs: 20, seed: 5 });
    const c = await f(s.op, { matvecs: 20, seed: 6 });
    assert.deepEqual(withoutSeconds(a), withoutSeconds(b));
    assert.notDeepEqual(a.diagonal, c.diagonal);
    assert.equal(a.matvecs, 20);
    assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
  }
  assert.deepEqual((await hutchinsonDiagonal(s.op)).settings, { matvecs: 100, probes: 100, seed: 0, probe: "rademacher" });
  assert.deepEqual((await xdiag(s.op, { matvecs: 30 })).settings, { matvecs: 30, seed: 0, probe: "rademacher", testVectors: 15, rank: 15 });
  s.op.dispose();
});

test("bad options are input errors naming the option", async () => {
  const s = synthetic([1, 2, 3, 4], 0);
  await assert.rejects(hutchinsonDiagonal(s.op, { matvecs: -1 }), (e: unknown) => e instanceof InputError && e.input === "matvecs");
  await assert.rejects(xdiag(s.op, { matvecs: 1 }), (e: unknown) => e instanceof InputError && e.input === "matvecs");
  await assert.rejects(exactDiagonal(s.op, { offset: 4 }), (e: unknown) => e instanceof InputError && e.input === "offset");
  await assert.rejects(exactDiagonal(s.op, { offset: 1, count: 4 }), (e: unknown) => e instanceof InputError && e.input === "count");
  s.op.dispose();
});
