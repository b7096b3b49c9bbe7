/**
 * Overlap of two subspaces, e.g. the top-k eigenvectors of the Hessian and of the Gauss-Newton
 * matrix or the gradient covariance (Sagun et al. 2017: the outliers of H come from G; Gur-Ari,
 * Roberts & Dyer 2018 use the same measure for the gradient and the top Hessian subspace).
 *
 * With orthonormal bases U (n x kU) and V (n x kV), the cosines of the principal angles between
 * span U and span V are the singular values of U^T V (Bjorck & Golub 1973), and
 *
 *   overlap = ||U^T V||_F^2 / min(kU, kV) = mean over the min(kU, kV) principal angles of cos^2,
 *
 * 1 when the smaller subspace lies inside the larger one (identical subspaces, or any rotation of
 * the basis within a subspace), 0 when they are orthogonal. For independent uniformly random
 * subspaces E ||U^T V||_F^2 = kU kV / n, so chance level is max(kU, kV) / n (k / n for equal
 * dimensions): the result reports it beside the overlap.
 *
 * Per vector (for matching individual eigenvectors): captured_i = ||V^T u_i||^2, the part of u_i
 * inside span V, and bestMatch_i = max_j (u_i . v_j)^2, the closest single vector of V (only
 * meaningful when V's eigenvalues are well separated: eigenvectors of close eigenvalues are only
 * defined as a subspace).
 *
 * Bases are lists of vectors (Float64Array or number[]), e.g. the `vectors` of a Lanczos result,
 * or `eigenvectorsOf` a dense eigendecomposition. By default each basis is orthonormalized first
 * (Gram-Schmidt, twice for stability), so that the overlap is a property of the spanned
 * subspaces even when the input vectors are only nearly orthonormal (float32 solvers); the
 * input's own orthonormality error max |U^T U - I| is reported. Cost O(n k^2).
 */
import { InputError } from "../errors.ts";
import { eigvalsh } from "../linalg/dense/eigh.ts";

/** A list of k vectors of the same length n. */
export type Basis = readonly ArrayLike<number>[];

export interface OverlapOptions {
  /** Orthonormalize each basis before measuring (default true). With false they must already be orthonormal. */
  readonly orthonormalize?: boolean;
}

export interface SubspaceOverlap {
  /** Length of the vectors. */
  readonly n: number;
  readonly kU: number;
  readonly kV: number;
  /** ||U^T V||_F^2 / min(kU, kV), in [0, 1]. */
  readonly overlap: number;
  /** ||U^T V||_F^2. */
  readonly frobeniusSquared: number;
  /** Cosines of the min(kU, kV) principal angles, descending. */
  readonly cosines: readonly number[];
  /** For each u_i (normalized): ||V^T u_i||^2. */
  readonly captured: readonly number[];
  /** For each u_i: the v_j with the largest (u_i . v_j)^2 (both normalized). */
  readonly bestMatch: readonly { readonly index: number; readonly cos2: number }[];
  /** Expected overlap of independent random subspaces of these dimensions: max(kU, kV) / n. */
  readonly chance: number;
  /** max |B^T B - I| of each basis as given. */
  readonly orthonormalityError: { readonly U: number; readonly V: number };
  readonly settings: { readonly orthonormalize: boolean };
}

export function subspaceOverlap(U: Basis, V: Basis, opts: OverlapOptions = {}): SubspaceOverlap {
  const orthonormalize = opts.orthonormalize ?? true;
  const Uv = checkBasis(U, "U");
  const Vv = checkBasis(V, "V");
  const n = Uv[0].length;
  if (Vv[0].length !== n) throw new InputError("V", `expected vectors of length ${n} (as U's), got ${Vv[0].length}`);
  const errU = orthonormalityError(Uv), errV = orthonormalityError(Vv);
  const QU = orthonormalize ? orthonormalBasis(Uv, "U") : Uv;
  const QV = orthonormalize ? orthonormalBasis(Vv, "V") : Vv;
  const kU = QU.length, kV = QV.length;

  // M = QU^T QV (kU x kV), and its Gram matrix on the smaller side for the singular values.
  const M = new Float64Array(kU * kV);
  for (let i = 0; i < kU; i++) for (let j = 0; j < kV; j++) M[i * kV + j] = dot(QU[i], QV[j]);
  const k = Math.min(kU, kV);
  const gram = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b <= a; b++) {
      let s = 0;
      if (kU <= kV) for (let j = 0; j < kV; j++) s += M[a * kV + j] * M[b * kV + j];
      else for (let i = 0; i < kU; i++) s += M[i * kV + a] * M[i * kV + b];
      gram[a * k + b] = gram[b * k + a] = s;
    }
  }
  const cosines = Array.from(eigvalsh({ n: k, data: gram }, { threads: 1 }))
    .reverse()
    .map((e) => Math.min(1, Math.sqrt(Math.max(0, e))));
  let fro = 0;
  for (const m of M) fro += m * m;

  const Vunit = Vv.map(normalized);
  const captured: number[] = [];
  const bestMatch: { index: number; cos2: number }[] = [];
  for (const u of Uv) {
    const uh = normalized(u);
    let c = 0;
    for (const q of QV) c += dot(uh, q) ** 2;
    captured.push(Math.min(1, c));
    let best = { index: 0, cos2: -1 };
    Vunit.forEach((v, j) => {
      const c2 = dot(uh, v) ** 2;
      if (c2 > best.cos2) best = { index: j, cos2: c2 };
    });
    bestMatch.push(best);
  }
  return {
    n,
    kU,
    kV,
    overlap: Math.min(1, fro / k),
    frobeniusSquared: fro,
    cosines,
    captured,
    bestMatch,
    chance: Math.max(kU, kV) / n,
    orthonormalityError: { U: errU, V: errV },
    settings: { orthonormalize },
  };
}

/**
 * The eigenvectors of k eigenvalues of a dense eigendecomposition `{ n, values (ascending),
 * vectors (row-major n x n, column j = vector of values[j]) }` as linalg's eigh returns it:
 * the k largest (default), the k smallest, or the k largest in magnitude, in that order.
 */
export function eigenvectorsOf(
  eig: { readonly n: number; readonly values: ArrayLike<number>; readonly vectors?: Float64Array },
  k: number,
  which: "largest" | "smallest" | "magnitude" = "largest",
): Float64Array[] {
  const { n, values, vectors } = eig;
  if (!vectors || vectors.length !== n * n) throw new InputError("eigenvectors", "expected a decomposition with vectors (n x n, row-major)");
  if (!Number.isInteger(k) || k < 1 || k > n) throw new InputError("k", `expected an integer in [1, ${n}], got ${k}`);
  const idx = Array.from({ length: n }, (_, i) => i);
  const key = (i: number) => (which === "largest" ? values[i] : which === "smallest" ? -values[i] : Math.abs(values[i]));
  idx.sort((a, b) => key(b) - key(a) || a - b);
  return idx.slice(0, k).map((j) => {
    const v = new Float64Array(n);
    for (let r = 0; r < n; r++) v[r] = vectors[r * n + j];
    return v;
  });
}

function checkBasis(B: Basis, name: string): Float64Array[] {
  if (!Array.isArray(B) || B.length === 0) throw new InputError(name, "expected a non-empty list of vectors");
  const n = B[0]?.length;
  if (!(typeof n === "number" && n > 0)) throw new InputError(name, "expected vectors of positive length");
  if (B.length > n) throw new InputError(name, `expected at most ${n} vectors of length ${n}, got ${B.length}`);
  return B.map((v, i) => {
    if (!v || v.length !== n) throw new InputError(`${name}[${i}]`, `expected a vector of length ${n}, got length ${v?.length}`);
    const out = Float64Array.from(v);
    for (let r = 0; r < n; r++) {
      if (!Number.isFinite(out[r])) throw new InputError(`${name}[${i}]`, `expected finite numbers, got ${out[r]} at index ${r}`);
    }
    return out;
  });
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function normalized(v: Float64Array): Float64Array {
  const nv = Math.sqrt(dot(v, v));
  return nv > 0 ? v.map((x) => x / nv) : v;
}

/** max |B^T B - I|. */
function orthonormalityError(B: Float64Array[]): number {
  let e = 0;
  for (let i = 0; i < B.length; i++) for (let j = 0; j <= i; j++) e = Math.max(e, Math.abs(dot(B[i], B[j]) - (i === j ? 1 : 0)));
  return e;
}

/** Gram-Schmidt, each vector projected twice (CGS2); a vector (almost) inside the span of the previous ones is an error. */
function orthonormalBasis(B: Float64Array[], name: string): Float64Array[] {
  const Q: Float64Array[] = [];
  B.forEach((b, i) => {
    const v = Float64Array.from(b);
    const n0 = Math.sqrt(dot(v, v));
    for (let pass = 0; pass < 2; pass++) {
      for (const q of Q) {
        const c = dot(q, v);
        for (let r = 0; r < v.length; r++) v[r] -= c * q[r];
      }
    }
    const nv = Math.sqrt(dot(v, v));
    if (!(nv > 1e-10 * n0)) throw new InputError(`${name}[${i}]`, "expected linearly independent vectors; this one is (almost) in the span of the previous ones");
    Q.push(v.map((x) => x / nv));
  });
  return Q;
}
