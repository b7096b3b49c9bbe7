import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../../../src/errors.ts";
import { hostRng } from "../../../src/engine/host-rng.ts";
import {
  denseMatrix,
  diagonal,
  fromEigen,
  matmul,
  matmulTN,
  randomOrthogonal,
  randomSymmetric,
  type DenseMatrix,
} from "../../../src/linalg/dense/dense-matrix.ts";
import { eigh, eigvalsh } from "../../../src/linalg/dense/eigh.ts";
import { formQ, rowBase, tridiagonalize } from "../../../src/linalg/dense/householder-tridiagonal.ts";
import { teamsAvailable } from "../../../src/linalg/dense/row-team.ts";
import { tridiagonalEigen, tridiagonalEigenvalues } from "../../../src/linalg/dense/tridiagonal-eigen.ts";
import { jacobi } from "../../helpers/jacobi.ts";
import { assertTridiagonalReduction } from "../eigensolver-helpers.ts";

const TOL = 1e-12;

/** ||A V - V diag(l)||_max and ||V^T V - I||_max. */
function residuals(A: DenseMatrix, V: Float64Array, l: ArrayLike<number>): { res: number; orth: number } {
  const n = A.n;
  const Vm = denseMatrix(n, V);
  const AV = matmul(A, Vm).data;
  let res = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) res = Math.max(res, Math.abs(AV[i * n + j] - V[i * n + j] * l[j]));
  const G = matmulTN(Vm, Vm).data;
  let orth = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) orth = Math.max(orth, Math.abs(G[i * n + j] - (i === j ? 1 : 0)));
  return { res, orth };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function sorted(l: number[]): Float64Array {
  return Float64Array.from(l).sort();
}

/** Spectra with known eigenvalues: A = Q diag(l) Q^T with Q Haar-random. */
const cases: { name: string; n: number; spectrum: (n: number, rng: ReturnType<typeof hostRng>) => number[] }[] = [
  {
    name: "repeated eigenvalues",
    n: 120,
    spectrum: (n) => Array.from({ length: n }, (_, i) => (i < 30 ? -2 : i < 70 ? 0.5 : i < 115 ? 3 : i - 110)),
  },
  {
    name: "tight clusters (spacing 1e-10)",
    n: 200,
    spectrum: (n) => Array.from({ length: n }, (_, i) => [1, -1, 5, 1e-3][i % 4] + 1e-10 * Math.floor(i / 4)),
  },
  {
    name: "spread 1e-8 .. 1e3, both signs",
    n: 150,
    spectrum: (n, rng) => Array.from({ length: n }, (_, i) => rng.sign() * 10 ** (-8 + (11 * i) / (n - 1))),
  },
  { name: "uniform in [-1, 1], n = 50", n: 50, spectrum: (n, rng) => Array.from({ length: n }, () => 2 * rng.uniform() - 1) },
  { name: "uniform in [-1, 1], n = 300", n: 300, spectrum: (n, rng) => Array.from({ length: n }, () => 2 * rng.uniform() - 1) },
];

for (const [k, c] of cases.entries()) {
  test(`eigh: known spectrum, ${c.name}`, () => {
    const rng = hostRng(100 + k);
    const l = c.spectrum(c.n, rng);
    const A = fromEigen(randomOrthogonal(c.n, rng), l);
    const copy = A.data.slice();
    const want = sorted(l);
    const norm = Math.max(...l.map(Math.abs)); // ||A||_2

    const values = eigvalsh(A);
    assert.ok(maxDiff(values, want) <= TOL * norm, `eigvalsh error ${maxDiff(values, want)} > ${TOL * norm}`);

    const r = eigh(A, { vectors: true });
    assert.ok(maxDiff(r.values, want) <= TOL * norm, `eigh error ${maxDiff(r.values, want)}`);
    const { res, orth } = residuals(A, r.vectors!, want);
    assert.ok(res / norm <= TOL * c.n, `residual ${res / norm}`);
    assert.ok(orth <= TOL * c.n, `orthogonality ${orth}`);
    assert.deepEqual(A.data, copy, "input must not be modified");
  });
}

test("eigh: random symmetric n = 40 matches a cyclic Jacobi oracle", () => {
  const n = 40;
  const A = randomSymmetric(n, hostRng(7));
  const oracle = jacobi(A);
  const norm = Math.max(Math.abs(oracle.values[0]), Math.abs(oracle.values[n - 1]));
  const r = eigh(A, { vectors: true });
  assert.ok(maxDiff(r.values, oracle.values) <= TOL * norm, `eigenvalue error ${maxDiff(r.values, oracle.values)}`);
  // Eigenvectors agree up to sign; the error bound is eps ||A|| / gap, so check the gaps first.
  let gap = Infinity;
  for (let i = 1; i < n; i++) gap = Math.min(gap, oracle.values[i] - oracle.values[i - 1]);
  assert.ok(gap > 1e-3, `precondition: well separated eigenvalues (gap ${gap})`);
  const V = r.vectors!;
  for (let j = 0; j < n; j++) {
    let dot = 0;
    for (let i = 0; i < n; i++) dot += V[i * n + j] * oracle.vectors[i * n + j];
    assert.ok(Math.abs(1 - Math.abs(dot)) <= 1e-10, `eigenvector ${j}: |cos| = ${Math.abs(dot)}`);
  }
});

test("eigh: 1-D Laplacian (tridiagonal input) has eigenvalues 2 - 2 cos(k pi / (n + 1))", () => {
  const n = 100;
  const A = denseMatrix(n);
  for (let i = 0; i < n; i++) {
    A.data[i * n + i] = 2;
    if (i + 1 < n) A.data[i * n + i + 1] = A.data[(i + 1) * n + i] = -1;
  }
  const want = sorted(Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1))));
  assert.ok(maxDiff(eigvalsh(A), want) <= TOL * 4, "maxDiff(eigvalsh(A), want) <= TOL * 4");
  const r = eigh(A, { vectors: true });
  assert.ok(maxDiff(r.values, want) <= TOL * 4, "maxDiff(r.values, want) <= TOL * 4");
  const { res, orth } = residuals(A, r.vectors!, want);
  assert.ok(res / 4 <= TOL * n && orth <= TOL * n, `residual ${res}, orthogonality ${orth}`);
});

test("eigh: n = 0, 1, 2, diagonal and zero matrices", () => {
  const empty = eigh(denseMatrix(0), { vectors: true });
  assert.equal(empty.values.length, 0);
  assert.equal(empty.vectors!.length, 0);

  const one = eigh(denseMatrix(1, Float64Array.of(-3.5)), { vectors: true });
  assert.deepEqual([...one.values], [-3.5]);
  assert.deepEqual([...one.vectors!], [1]);

  const two = eigh(denseMatrix(2, Float64Array.of(2, 1, 1, 2)), { vectors: true });
  assert.ok(maxDiff(two.values, [1, 3]) <= 4 * 2 ** -52, "maxDiff(two.values, [1, 3]) <= 4 * 2 ** -52");
  const v = two.vectors!; // columns: (1, -1)/sqrt2 and (1, 1)/sqrt2 up to sign
  assert.ok(Math.abs(Math.abs(v[0]) - Math.SQRT1_2) < 1e-15 && Math.abs(v[0] + v[2]) < 1e-15, "Math.abs(Math.abs(v[0]) - Math.SQRT1_2) < 1e-15 && Math.abs(v[0] + v[2]) < 1e-15");
  assert.ok(Math.abs(v[1] - v[3]) < 1e-15, "Math.abs(v[1] - v[3]) < 1e-15");

  const d = [3, -1, 0, 7, -1, 2];
  const D = eigh(diagonal(d), { vectors: true });
  assert.deepEqual([...D.values], [...sorted(d)]);
  const { res, orth } = residuals(diagonal(d), D.vectors!, D.values);
  assert.ok(res === 0 && orth === 0, "a diagonal matrix is solved exactly (permutation)");

  const Z = eigh(denseMatrix(10), { vectors: true });
  assert.ok(Z.values.every((x) => x === 0), "Z.values.every((x) => x === 0)");
  assert.ok(residuals(denseMatrix(10), Z.vectors!, Z.values).orth === 0, "residuals(denseMatrix(10), Z.vectors!, Z.values).orth === 0");
});

test("eigh: reads only the lower triangle", () => {
  const n = 30;
  const A = randomSymmetric(n, hostRng(11));
  const B = denseMatrix(n, A.data.slice());
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) B.data[i * n + j] = 1e6 * (i - j);
  assert.deepEqual(eigvalsh(B), eigvalsh(A));
});

test("eigh: overwrite returns the eigenvectors in A's own storage", () => {
  const n = 25;
  const A = randomSymmetric(n, hostRng(12));
  const ref = eigh(A, { vectors: true });
  const B = denseMatrix(n, A.data.slice());
  const r = eigh(B, { vectors: true, overwrite: true });
  assert.equal(r.vectors, B.data);
  assert.deepEqual(r.values, ref.values);
  assert.deepEqual(r.vectors, ref.vectors);
});

test("eigh: tiny and huge scales (1e-305 .. 1e305) keep full relative accuracy", () => {
  const n = 30;
  const rng = hostRng(13);
  const l = Array.from({ length: n }, (_, i) => (i - 10) / 7);
  const A = fromEigen(randomOrthogonal(n, rng), l);
  const want = sorted(l);
  for (const s of [1e-300, 1e300, 1e-305, 1e305]) {
    const As = denseMatrix(n, A.data.map((x) => x * s));
    const r = eigh(As, { vectors: true });
    const got = r.values.map((x) => x / s);
    assert.ok(maxDiff(got, want) <= TOL * 3, `scale ${s}: error ${maxDiff(got, want)}`);
    assert.ok(residuals(A, r.vectors!, want).orth <= TOL * n, "residuals(A, r.vectors!, want).orth <= TOL * n");
  }
});

test("eigh: threaded run (reduction, forming Q, rotations) agrees with the serial one", { skip: !teamsAvailable() && "no worker threads here" }, () => {
  const n = 400; // large enough for every phase to use the helpers
  const rng = hostRng(14);
  const l = Array.from({ length: n }, () => rng.normal());
  const A = fromEigen(randomOrthogonal(n, rng), l);
  const norm = Math.max(...l.map(Math.abs));
  const serial = eigh(A, { threads: 1 });
  const par = eigh(A, { threads: 2, vectors: true });
  assert.equal(serial.threads, 1);
  assert.equal(par.threads, 2);
  assert.ok(maxDiff(par.values, sorted(l)) <= TOL * norm, "maxDiff(par.values, sorted(l)) <= TOL * norm");
  assert.ok(maxDiff(par.values, serial.values) <= TOL * norm, "maxDiff(par.values, serial.values) <= TOL * norm");
  const { res, orth } = residuals(A, par.vectors!, sorted(l));
  assert.ok(res / norm <= TOL * n && orth <= TOL * n, "res / norm <= TOL * n && orth <= TOL * n");
});

test("tridiagonalize + formQ: A = Q T Q^T with Q orthogonal", () => {
  const n = 57;
  const A = randomSymmetric(n, hostRng(15));
  const P = new Float64Array((n * (n + 1)) / 2);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) P[rowBase(i, n) + j] = A.data[i * n + j];
  const { d, e, tau } = tridiagonalize(P, n);
  assertTridiagonalReduction(A, formQ(P, tau, n, new Float64Array(n * n)), d, e, TOL, "unblocked");
});

test("tridiagonal solvers: graded matrix (QL vs QR direction) and agreement of both variants", () => {
  // Graded: d_i = 10^(-i/2), e_i = 10^(-(2i+1)/4), small end last: the solver must chase towards
  // the small end to keep the tiny eigenvalues relatively accurate.
  const n = 24;
  const d = Float64Array.from({ length: n }, (_, i) => 10 ** (-i / 2));
  const e = Float64Array.from({ length: n - 1 }, (_, i) => 0.1 * 10 ** (-(2 * i + 1) / 4));
  const dr = d.slice().reverse();
  const er = e.slice().reverse();
  const a = tridiagonalEigenvalues(d.slice(), e.slice());
  const b = tridiagonalEigenvalues(dr.slice(), er.slice()); // same spectrum (reversal is a permutation similarity)
  const Z = new Float64Array(n * n);
  for (let i = 0; i < n; i++) Z[i * n + i] = 1;
  const c = d.slice();
  tridiagonalEigen(c, e.slice(), Z);
  for (let i = 0; i < n; i++) {
    assert.ok(Math.abs(a[i] - b[i]) <= 1e-13 * Math.abs(a[i]) + 1e-30, `eigenvalue ${i}: ${a[i]} vs ${b[i]}`);
    assert.ok(Math.abs(a[i] - c[i]) <= 1e-13 * Math.abs(a[i]) + 1e-30, `eigenvalue ${i}: ${a[i]} vs ${c[i]}`);
  }
  const T = denseMatrix(n);
  for (let i = 0; i < n; i++) {
    T.data[i * n + i] = d[i];
    if (i + 1 < n) T.data[i * n + i + 1] = T.data[(i + 1) * n + i] = e[i];
  }
  const { res, orth } = residuals(T, Z, c);
  assert.ok(res <= TOL * n && orth <= TOL * n, "res <= TOL * n && orth <= TOL * n");
});

test("eigh: bad input throws InputError", () => {
  const bad: [unknown, unknown][] = [
    [{ n: 3, data: new Float64Array(8) }, {}],
    [{ n: 2.5, data: new Float64Array(4) }, {}],
    [{ n: 2, data: [1, 2, 2, 1] }, {}],
    [{ n: 2, data: Float64Array.of(1, NaN, NaN, 1) }, {}],
    [{ n: 2, data: Float64Array.of(1, 0, Infinity, 1) }, {}],
    [{ n: 2, data: Float64Array.of(1, 0, 0, 1) }, { threads: 0 }],
    [{ n: 2, data: Float64Array.of(1, 0, 0, 1) }, { vector: true }],
    [{ n: 2, data: Float64Array.of(1, 0, 0, 1) }, { vectors: "yes" }],
  ];
  for (const [A, opts] of bad) {
    assert.throws(() => eigh(A as DenseMatrix, opts as object), InputError, JSON.stringify(opts));
  }
  assert.throws(() => eigh({ n: 2, data: Float64Array.of(1, 0, NaN, 1) }), /entry \(1, 0\) is NaN/);
  assert.throws(() => eigh({ n: 3, data: new Float64Array(8) }), /square 3 x 3/);
});
