/**
 * The Lanczos tridiagonalization from one start vector, with full reorthogonalization, and the
 * Gauss quadrature rule it defines: the kernel of stochastic Lanczos quadrature (slq.ts).
 *
 * m steps from a unit vector v build an orthonormal basis V_m of the Krylov space
 * span{v, Av, ..., A^{m-1} v} and the tridiagonal T_m = V_m^T A V_m (diagonal alpha, off-diagonal
 * beta). After the three-term recurrence, every new vector is orthogonalized against ALL
 * previous ones (one pass of classical Gram-Schmidt, as in Golub & Van Loan's "complete
 * reorthogonalization" and PyHessian; the recurrence is the first pass, so one more suffices while
 * the basis stays orthogonal to working precision), so that T_m stays the projection of A in
 * floating point (plain three-term Lanczos loses orthogonality as Ritz values converge and then
 * repeats them, which puts spurious weight on outliers). Cost per step j: one product, plus two
 * matrix-vector products with the j filled basis rows (~2 j n; the basis is a DeviceBasis, which
 * appends a vector without re-stacking the others, amortized n log2(m) copies per step); memory:
 * the basis.
 *
 * The run stops early (`breakdown`) when the new residual vanishes (beta below 100 unit roundoffs
 * of ||T||): the Krylov space is invariant, T has fewer than m eigenvalues and the quadrature
 * below is then exact. Steps are capped at n (the Krylov space cannot be larger).
 *
 * Gauss quadrature (Golub & Welsch, "Calculation of Gauss quadrature rules", 1969): with
 * T_m = U diag(theta) U^T, the nodes theta_i and weights w_i = U[0, i]^2 satisfy
 * sum_i w_i f(theta_i) = v^T f(A) v exactly for every polynomial f of degree <= 2m - 1; the
 * weights are positive and sum to ||v||^2 = 1.
 */
import { numpy as np, type Array as JaxArray } from "../engine/jax.ts";
import type { LinearOperator } from "../curvature/operator.ts";
import { norm, scale } from "../tree/vector.ts";
import { tridiagonalEigen } from "./dense/tridiagonal-eigen.ts";
import { DeviceBasis } from "./krylov-basis.ts";
import { checkFinite, readHost, unitRoundoff } from "./sampling.ts";

const BREAKDOWN_FACTOR = 100;

export interface LanczosTridiagonal {
  /** Diagonal of T (length = steps). */
  readonly alpha: Float64Array;
  /** Off-diagonal of T (length = steps - 1). */
  readonly beta: Float64Array;
  /** Steps taken (<= the steps asked, and <= n). */
  readonly steps: number;
  /** Norm of the residual after the last step (beta_m): A V_m = V_m T_m + beta_m q_{m+1} e_m^T. */
  readonly residual: number;
  /** True when the run stopped early on an invariant subspace. */
  readonly breakdown: boolean;
}

/**
 * m = min(steps, n) Lanczos steps from `start` (borrowed; any nonzero norm, normalized here).
 * `onStep` is called after each product.
 */
export async function lanczosTridiagonal(
  op: LinearOperator,
  start: JaxArray,
  steps: number,
  onStep?: () => void,
): Promise<LanczosTridiagonal> {
  const n = op.size;
  const m = Math.min(steps, n);
  const startNorm = await norm(start);
  if (!(startNorm > 0 && Number.isFinite(startNorm))) throw new Error(`lanczos: start vector has norm ${startNorm}`);
  const tol = BREAKDOWN_FACTOR * unitRoundoff(op.dtype);
  const alpha: number[] = [];
  const beta: number[] = [];
  let residual = 0;
  let breakdown = false;
  let normT = 0;
  // Only the filled rows take part in each step (a fixed [m, n] array with zero rows past j would
  // be rebuilt by every append and multiplied whole by both Gram-Schmidt products).
  const basis = new DeviceBasis(n, op.dtype);
  let q: JaxArray | null = scale(1 / startNorm, start);
  let qPrev: JaxArray | null = null;
  try {
    for (let j = 0; j < m; j++) {
      basis.push(q!);
      let w = op.matvec(q!);
      // The three-term recurrence (on the device: alpha_j stays there until the step's one read)...
      const a = q!.ref.mul(w.ref).sum();
      w = w.sub(q!.ref.mul(a.ref));
      if (qPrev) w = w.sub(scale(beta[j - 1], qPrev));
      qPrev?.dispose();
      qPrev = q;
      q = null;
      // ...then one pass of classical Gram-Schmidt against the whole basis, which removes what
      // rounding left along earlier vectors (the coefficient on q_j corrects alpha_j).
      const pass = basis.orthogonalize(w, { passes: 1, last: true });
      w = pass.w;
      const b = np.sqrt(w.ref.mul(w.ref).sum()).reshape([1]);
      const host = await readHost(np.concatenate([a.reshape([1]), pass.last!.reshape([1]), b]));
      onStep?.();
      const aj = host[0] + host[1], bj = host[2];
      checkFinite([aj, bj], "lanczos");
      alpha.push(aj);
      normT = Math.max(normT, Math.abs(aj) + bj + (j > 0 ? beta[j - 1] : 0));
      residual = bj;
      if (j === m - 1 || bj <= tol * normT) {
        breakdown = j < m - 1;
        w.dispose();
        break;
      }
      beta.push(bj);
      q = scale(1 / bj, w);
      w.dispose();
    }
  } finally {
    basis.dispose();
    q?.dispose();
    qPrev?.dispose();
  }
  return { alpha: Float64Array.from(alpha), beta: Float64Array.from(beta), steps: alpha.length, residual, breakdown };
}

export interface GaussQuadrature {
  /** Eigenvalues of T, ascending. */
  readonly nodes: Float64Array;
  /** Squared first components of T's eigenvectors (positive, summing to 1). */
  readonly weights: Float64Array;
}

/** The Gauss quadrature rule of tridiag(beta, alpha, beta) (Golub-Welsch). Inputs are not modified. */
export function gaussQuadrature(alpha: ArrayLike<number>, beta: ArrayLike<number>): GaussQuadrature {
  const m = alpha.length;
  if (beta.length !== Math.max(m - 1, 0)) throw new Error(`gaussQuadrature: expected ${m - 1} off-diagonal entries, got ${beta.length}`);
  const d = Float64Array.from(alpha);
  const e = Float64Array.from(beta);
  const Z = new Float64Array(m * m);
  for (let i = 0; i < m; i++) Z[i * m + i] = 1;
  tridiagonalEigen(d, e, Z);
  const weights = new Float64Array(m);
  for (let i = 0; i < m; i++) weights[i] = Z[i] * Z[i];
  return { nodes: d, weights };
}
