/**
 * A small dense square matrix on the host: `{ n, data }` with `data` row-major n x n in a
 * Float64Array (element (i, j) at data[i * n + j]). It carries the small problems of this layer
 * (a curvature operator made dense, a Ritz matrix, test matrices) to the dense eigensolver, and
 * offers the few helpers that tests and benchmarks need. Plain loops, no blocking: these helpers
 * are for moderate n (a few hundred); the eigensolver itself does not use them.
 */
import { InputError } from "../../errors.ts";
import type { HostRng } from "../../engine/host-rng.ts";

export interface DenseMatrix {
  /** Number of rows = number of columns. */
  readonly n: number;
  /** Row-major entries, length n * n. */
  readonly data: Float64Array;
}

/** Wraps (or allocates) an n x n matrix; checks that data has n * n entries. */
export function denseMatrix(n: number, data?: Float64Array): DenseMatrix {
  if (!Number.isInteger(n) || n < 0) throw new InputError("matrix", `n must be a non-negative integer, got ${n}`);
  const d = data ?? new Float64Array(n * n);
  if (d.length !== n * n) throw new InputError("matrix", `expected ${n} x ${n} = ${n * n} entries, got ${d.length}`);
  return { n, data: d };
}

/** The n x n identity. */
export function identity(n: number): DenseMatrix {
  const m = denseMatrix(n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}

/** Diagonal matrix diag(values). */
export function diagonal(values: ArrayLike<number>): DenseMatrix {
  const n = values.length;
  const m = denseMatrix(n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = values[i];
  return m;
}

/** A^T. */
export function transpose(A: DenseMatrix): DenseMatrix {
  const { n, data } = A;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[j * n + i] = data[i * n + j];
  return { n, data: out };
}

/** A B (i-k-j loop order: rows of B and of the result are streamed contiguously). */
export function matmul(A: DenseMatrix, B: DenseMatrix): DenseMatrix {
  if (A.n !== B.n) throw new InputError("matmul", `sizes differ: ${A.n} x ${A.n} and ${B.n} x ${B.n}`);
  const n = A.n;
  const a = A.data, b = B.data;
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const oi = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[oi + k];
      if (aik === 0) continue;
      const ok = k * n;
      for (let j = 0; j < n; j++) c[oi + j] += aik * b[ok + j];
    }
  }
  return { n, data: c };
}

/** A^T B without forming A^T. */
export function matmulTN(A: DenseMatrix, B: DenseMatrix): DenseMatrix {
  if (A.n !== B.n) throw new InputError("matmulTN", `sizes differ: ${A.n} x ${A.n} and ${B.n} x ${B.n}`);
  const n = A.n;
  const a = A.data, b = B.data;
  const c = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const ok = k * n;
    for (let i = 0; i < n; i++) {
      const aki = a[ok + i];
      if (aki === 0) continue;
      const oi = i * n;
      for (let j = 0; j < n; j++) c[oi + j] += aki * b[ok + j];
    }
  }
  return { n, data: c };
}

/** Q diag(values) Q^T, symmetrized exactly (entry (i, j) is computed once for i <= j). */
export function fromEigen(Q: DenseMatrix, values: ArrayLike<number>): DenseMatrix {
  const n = Q.n;
  if (values.length !== n) throw new InputError("fromEigen", `expected ${n} eigenvalues, got ${values.length}`);
  const q = Q.data;
  // QL = Q diag(values), then (QL) Q^T using rows of both.
  const ql = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) ql[i * n + k] = q[i * n + k] * values[k];
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += ql[i * n + k] * q[j * n + k];
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return { n, data: out };
}

/**
 * A Haar-distributed random orthogonal matrix: Householder QR of an n x n standard Gaussian
 * matrix G = QR, with the signs of R's diagonal moved into Q (Mezzadri 2007, "How to generate
 * random matrices from the classical compact groups").
 */
export function randomOrthogonal(n: number, rng: HostRng): DenseMatrix {
  const g = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) g[i] = rng.normal();
  // Householder QR: reflectors v_k (v_k[k] = 1) and tau_k, R overwrites G (only its signs are kept).
  const z = new Float64Array(n);
  const taus = new Float64Array(n);
  const vs: Float64Array[] = [];
  const signs = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < n; i++) norm += g[i * n + k] ** 2;
    norm = Math.sqrt(norm);
    const alpha = g[k * n + k];
    const beta = alpha <= 0 ? norm : -norm; // R[k][k]
    const v = new Float64Array(n);
    let tau = 0;
    if (norm > 0) {
      v[k] = 1;
      const sc = 1 / (alpha - beta);
      for (let i = k + 1; i < n; i++) v[i] = g[i * n + k] * sc;
      tau = (beta - alpha) / beta;
      // Apply H = I - tau v v^T to the remaining columns of G.
      for (let j = k + 1; j < n; j++) {
        let s = 0;
        for (let i = k; i < n; i++) s += v[i] * g[i * n + j];
        s *= tau;
        for (let i = k; i < n; i++) g[i * n + j] -= s * v[i];
      }
    }
    vs.push(v);
    taus[k] = tau;
    signs[k] = norm > 0 ? Math.sign(beta) : 1;
  }
  // Q = H_0 H_1 ... H_{n-1} (backward accumulation), then Q diag(sign(R_kk)).
  const q = identity(n).data;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k], tau = taus[k];
    if (tau === 0) continue;
    z.fill(0);
    for (let i = k; i < n; i++) {
      const vi = v[i];
      if (vi === 0) continue;
      for (let j = k; j < n; j++) z[j] += vi * q[i * n + j];
    }
    for (let i = k; i < n; i++) {
      const a = tau * v[i];
      for (let j = k; j < n; j++) q[i * n + j] -= a * z[j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) q[i * n + j] *= signs[j];
  return { n, data: q };
}

/** A random symmetric matrix with standard Gaussian entries on and above the diagonal (GOE up to scale). */
export function randomSymmetric(n: number, rng: HostRng): DenseMatrix {
  const m = denseMatrix(n);
  const a = m.data;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const x = rng.normal();
      a[i * n + j] = x;
      a[j * n + i] = x;
    }
  }
  return m;
}

/** max |a_ij|. */
export function maxAbs(A: DenseMatrix): number {
  let m = 0;
  for (let i = 0; i < A.data.length; i++) m = Math.max(m, Math.abs(A.data[i]));
  return m;
}

/** max |a_ij - b_ij|. */
export function maxAbsDiff(A: DenseMatrix, B: DenseMatrix): number {
  if (A.n !== B.n) throw new InputError("maxAbsDiff", `sizes differ: ${A.n} and ${B.n}`);
  let m = 0;
  for (let i = 0; i < A.data.length; i++) m = Math.max(m, Math.abs(A.data[i] - B.data[i]));
  return m;
}

/**
 * Copies the lower triangle of the row-major n x n `data` column by column: entry (i, j), i >= j,
 * goes to out[columnBase(j) + i] (packed storage, or a strided workspace). Returns max |entry|.
 * Tiled in 64 x 64 blocks so that the strided reads of `data` and the writes both stay in cache.
 */
export function copyLowerByColumns(data: Float64Array, n: number, out: Float64Array, columnBase: (j: number) => number): number {
  const B = 64;
  let amax = 0;
  for (let j0 = 0; j0 < n; j0 += B) {
    const j1 = Math.min(n, j0 + B);
    for (let i0 = j0; i0 < n; i0 += B) {
      const i1 = Math.min(n, i0 + B);
      for (let j = j0; j < j1; j++) {
        const base = columnBase(j);
        for (let i = Math.max(i0, j); i < i1; i++) {
          const x = data[i * n + j];
          out[base + i] = x;
          const m = Math.abs(x);
          if (m > amax) amax = m;
        }
      }
    }
  }
  return amax;
}
