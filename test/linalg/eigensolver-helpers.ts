/**
 * Shared by the tests of the iterative eigensolvers (Lanczos, power iteration): operators with a
 * known spectrum (A = Q diag(values) Q^T, Q Haar-random, as a dense matrix on the device), host
 * products with them, and comparisons against known eigenvalues.
 */
import assert from "node:assert/strict";
import { numpy as np } from "../../src/engine/jax.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import type { DTypeName } from "../../src/engine/dtype.ts";
import { makeOperator, type LinearOperator } from "../../src/curvature/operator.ts";
import { denseMatrix, fromEigen, matmul, maxAbs, randomOrthogonal, transpose, type DenseMatrix } from "../../src/linalg/dense/dense-matrix.ts";
import { orderIndices, type Which } from "../../src/linalg/eigenpairs.ts";

export interface KnownSpectrum {
  readonly op: LinearOperator;
  readonly A: DenseMatrix;
  readonly values: readonly number[];
}

/** Q diag(values) Q^T with Q Haar-random from `seed`, as an operator of the given dtype. */
export function knownSpectrum(values: readonly number[], seed: number, dtype: DTypeName = "float64"): KnownSpectrum {
  const n = values.length;
  const A = fromEigen(randomOrthogonal(n, hostRng(seed)), values);
  const M = np.array(dtype === "float64" ? A.data : Float32Array.from(A.data), { dtype: dtype === "float64" ? np.float64 : np.float32 }).reshape([n, n]);
  const op = makeOperator(n, dtype, `known spectrum ${n} x ${n}`, (v) => np.matmul(M.ref, v.ref), () => M.dispose());
  return { op, A, values };
}

/** The first k of `values` in the order of `which`. */
export function expectedEigenvalues(values: readonly number[], which: Which, k: number): number[] {
  return orderIndices(values, which).slice(0, k).map((i) => values[i]);
}

/** max_i |got_i - want_i| / |want_i| (same order, same length). */
export function maxRelativeError(got: readonly number[], want: readonly number[]): number {
  assert.equal(got.length, want.length, `expected ${want.length} eigenvalues, got ${got.length}`);
  return Math.max(...got.map((g, i) => Math.abs(g - want[i]) / Math.abs(want[i])));
}

/** ||A y - theta y|| on the host. */
export function hostResidual(A: DenseMatrix, y: Float64Array, theta: number): number {
  const n = A.n;
  let s = 0;
  for (let i = 0; i < n; i++) {
    let ay = 0;
    for (let j = 0; j < n; j++) ay += A.data[i * n + j] * y[j];
    s += (ay - theta * y[i]) ** 2;
  }
  return Math.sqrt(s);
}

export function dotHost(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** A result without its wall time, to compare runs. */
export function withoutSeconds<T extends { seconds: number }>(r: T): Omit<T, "seconds"> {
  const { seconds: _, ...rest } = r;
  return rest;
}

/**
 * Checks a tridiagonal reduction A = Q T Q^T (T from its diagonal d and off-diagonal e) within
 * tol ||A||_max n, and Q orthogonal within tol n.
 */
export function assertTridiagonalReduction(A: DenseMatrix, Qdata: Float64Array, d: ArrayLike<number>, e: ArrayLike<number>, tol: number, label: string): void {
  const n = A.n;
  const Q = denseMatrix(n, Qdata);
  const T = denseMatrix(n);
  for (let i = 0; i < n; i++) {
    T.data[i * n + i] = d[i];
    if (i + 1 < n) T.data[i * n + i + 1] = T.data[(i + 1) * n + i] = e[i];
  }
  const QTQt = matmul(matmul(Q, T), transpose(Q));
  let err = 0;
  for (let i = 0; i < n * n; i++) err = Math.max(err, Math.abs(QTQt.data[i] - A.data[i]));
  assert.ok(err <= tol * maxAbs(A) * n, `${label}: ||Q T Q^T - A||_max = ${err}`);
  const QtQ = matmul(transpose(Q), Q);
  for (let i = 0; i < n; i++) QtQ.data[i * n + i] -= 1;
  assert.ok(maxAbs(QtQ) <= tol * n, `${label}: orthogonality ${maxAbs(QtQ)}`);
}
