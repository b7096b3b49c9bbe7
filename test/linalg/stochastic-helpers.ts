/**
 * Shared by the tests of the stochastic estimators: synthetic operators with a known spectrum
 * (a dense Q diag(values) Q^T on the device, Q Haar-random), the statistics their oracles need,
 * and the Wasserstein-1 distance between discrete distributions on the line.
 */
import { numpy as np } from "../../src/engine/jax.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import type { DTypeName } from "../../src/engine/dtype.ts";
import { fromEigen, randomOrthogonal, type DenseMatrix } from "../../src/linalg/dense/dense-matrix.ts";
import { makeOperator, type LinearOperator } from "../../src/curvature/operator.ts";

export interface Synthetic {
  readonly op: LinearOperator;
  /** The dense matrix (host, float64). */
  readonly A: DenseMatrix;
  /** Its eigenvectors (columns) and eigenvalues. */
  readonly Q: DenseMatrix;
  readonly values: readonly number[];
  readonly trace: number;
}

/** A = Q diag(values) Q^T with Q Haar-random from `seed`, as an operator of the given dtype. */
export function synthetic(values: readonly number[], seed: number, dtype: DTypeName = "float64"): Synthetic {
  const n = values.length;
  const Q = randomOrthogonal(n, hostRng(seed));
  const A = fromEigen(Q, values);
  const data = dtype === "float64" ? A.data : Float32Array.from(A.data);
  const M = np.array(data, { dtype: dtype === "float64" ? np.float64 : np.float32 }).reshape([n, n]);
  const op = makeOperator(n, dtype, `synthetic ${n} x ${n}`, (v) => np.matmul(M.ref, v.ref), () => M.dispose());
  return { op, A, Q, values, trace: values.reduce((s, v) => s + v, 0) };
}

/** 5 outliers (10, 15, ..., 30) over a bulk of n - 5 eigenvalues uniform in [0, 1). */
export function outlierSpectrum(n: number, seed: number): number[] {
  const rng = hostRng(seed);
  return Array.from({ length: n }, (_, i) => (i < 5 ? 10 + 5 * i : rng.uniform()));
}

/** Hutchinson's per-probe variance with random signs: 2 sum_{i != j} a_ij^2. */
export function hutchinsonVariance(A: DenseMatrix): number {
  let s = 0;
  for (let i = 0; i < A.n; i++) for (let j = 0; j < A.n; j++) if (i !== j) s += A.data[i * A.n + j] ** 2;
  return 2 * s;
}

/** Per-coordinate variance of z_i (A z)_i with random signs: sum_{k != i} a_ik^2. */
export function diagonalVariances(A: DenseMatrix): number[] {
  return Array.from({ length: A.n }, (_, i) => {
    let s = 0;
    for (let k = 0; k < A.n; k++) if (k !== i) s += A.data[i * A.n + k] ** 2;
    return s;
  });
}

export function diagonalOf(A: DenseMatrix): number[] {
  return Array.from({ length: A.n }, (_, i) => A.data[i * A.n + i]);
}

/** y = A x on the host. */
export function hostMatvec(A: DenseMatrix, x: ArrayLike<number>): Float64Array {
  const n = A.n;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += A.data[i * n + j] * x[j];
    y[i] = s;
  }
  return y;
}

/** W1 = integral |F_a - F_b| between two discrete distributions given as [position, mass] atoms. */
export function wasserstein1(a: readonly (readonly [number, number])[], b: readonly (readonly [number, number])[]): number {
  const events = [...a.map(([x, w]) => [x, w, 0]), ...b.map(([x, w]) => [x, 0, w])].sort((p, q) => p[0] - q[0]);
  let fa = 0, fb = 0, s = 0;
  for (let i = 0; i < events.length - 1; i++) {
    fa += events[i][1];
    fb += events[i][2];
    s += Math.abs(fa - fb) * (events[i + 1][0] - events[i][0]);
  }
  return s;
}

/** Drops `seconds` (the only field allowed to differ between two identical runs). */
export function withoutSeconds<T extends { seconds: number }>(r: T): Omit<T, "seconds"> {
  const { seconds: _, ...rest } = r;
  return rest;
}
