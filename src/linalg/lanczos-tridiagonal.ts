/**
 * The Lanczos recurrence with full reorthogonalization: the one kernel of lanczos.ts (a few
 * extreme eigenpairs) and of stochastic Lanczos quadrature (slq.ts, through lanczosTridiagonal
 * and the Gauss quadrature rule below).
 *
 * m steps from a unit vector v build an orthonormal basis V_m of the Krylov space
 * span{v, Av, ..., A^{m-1} v} and the tridiagonal T_m = V_m^T A V_m (diagonal alpha, off-diagonal
 * beta). Step j: w = A q_j; the three-term step w -= alpha_j q_j + beta_{j-1} q_{j-1}; then w is
 * orthogonalized against ALL previous vectors (one pass of classical Gram-Schmidt, as in Golub &
 * Van Loan's "complete reorthogonalization" and PyHessian; the recurrence is the first pass, so
 * one more suffices while the basis stays orthogonal to working precision), so that T_m stays the
 * projection of A in floating point (plain three-term Lanczos loses orthogonality as Ritz values
 * converge and then repeats them, which puts spurious weight on outliers); beta_j = ||w||,
 * q_{j+1} = w / beta_j. Cost per step j: one product, plus two matrix-vector products with the j
 * filled basis rows (~2 j n; the basis is a DeviceBasis, which appends a vector without
 * re-stacking the others, amortized n log2(m) copies per step); memory: the basis.
 *
 * Options (lanczosSteps):
 * - `dgks`: repeat the pass when it removed more than half of w (the test of Daniel, Gragg,
 *   Kaufman & Stewart 1976, as in ARPACK: "twice is enough", and the second time is only needed
 *   after cancellation). Without it, one pass per step.
 * - invariant subspaces: when beta_j falls below 100 unit roundoffs of ||T|| (or of a known
 *   ||A||, `normA`) the Krylov space is invariant. Without `restart` the run stops there
 *   (`breakdown`: T has fewer than m eigenvalues, and the quadrature below is then exact); with
 *   it, the run goes on from the vector `restart` gives (a new random direction orthogonal to the
 *   basis), with beta_j = 0 (T splits into blocks), until `restart` finds none (`exhausted`).
 * - `afterStep` sees alpha and beta after every step and may stop the run (convergence tests).
 * The basis is the caller's: it may start with locked vectors (pushBlock), against which every
 * step is orthogonalized too (a deflated operator), and it holds V_m when the run returns.
 *
 * How a step's scalars are read: with `dgks`, the squared norms of w before and after the pass
 * (which the test compares) with alpha's correction added on the device, beta = sqrt on the host;
 * without it, alpha, its correction and beta = ||w|| taken on the device, added on the host. The
 * two forms agree bit for bit in float64 and may differ in the last bit in float32; each keeps
 * the numbers its results were measured with (eigenpairs with dgks, SLQ without).
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

/** beta_j <= BREAKDOWN_FACTOR unit roundoffs of ||T|| (or of a known ||A||) means an invariant subspace. */
export const BREAKDOWN_FACTOR = 100;

/** The recurrence after a step, as `afterStep` sees it. */
export interface LanczosStepState {
  /** Diagonal of T so far (length m = steps taken). */
  readonly alpha: readonly number[];
  /** Off-diagonal so far (length m - 1; zeros where the run restarted). */
  readonly beta: readonly number[];
  /** ||w|| after step m: the next off-diagonal, or the residual if the run ends here. */
  readonly b: number;
  /** b is negligible: the Krylov space is invariant. */
  readonly breakdown: boolean;
  /** m has reached maxSteps: the run ends after this step. */
  readonly last: boolean;
}

export interface LanczosStepOptions {
  /** Steps at most (the caller caps it at the dimension of the space). */
  readonly maxSteps: number;
  /** Repeat the Gram-Schmidt pass when it removed more than half the vector (DGKS; default false). */
  readonly dgks?: boolean;
  /** ||A|| as far as known (default 0), for the breakdown test. */
  readonly normA?: number;
  /**
   * A new unit start vector orthogonal to the basis after an invariant subspace, or null when the
   * basis spans the space. Absent: the run stops at an invariant subspace.
   */
  readonly restart?: () => Promise<JaxArray | null>;
  /** Called after every step; returning true ends the run. */
  readonly afterStep?: (state: LanczosStepState) => boolean;
}

export interface LanczosSteps {
  /** Diagonal of T (length = steps). */
  readonly alpha: number[];
  /**
   * Off-diagonal of T: length steps - 1, or steps when the last step restarted and `restart`
   * found no new vector (its last entry is then that restart's 0).
   */
  readonly beta: number[];
  /** Norm of the residual after the last step (beta_m): A V_m = V_m T_m + beta_m q_{m+1} e_m^T. */
  readonly residual: number;
  /** Stopped early on an invariant subspace (only without `restart`). */
  readonly breakdown: boolean;
  /** `restart` found no vector orthogonal to the basis: the basis spans the space. */
  readonly exhausted: boolean;
  /** Restarts after invariant subspaces. */
  readonly restarts: number;
  /** Steps whose Gram-Schmidt pass was repeated (dgks). */
  readonly secondPasses: number;
}

/**
 * Lanczos steps from the unit vector `q` (consumed; orthogonal to the vectors already in
 * `basis`), each pushed onto `basis` (borrowed; the caller disposes it). Module comment.
 */
export async function lanczosSteps(op: LinearOperator, basis: DeviceBasis, q: JaxArray, opts: LanczosStepOptions): Promise<LanczosSteps> {
  const tol = BREAKDOWN_FACTOR * unitRoundoff(op.dtype);
  const normA = opts.normA ?? 0;
  const alpha: number[] = [];
  const beta: number[] = [];
  let residual = 0;
  let breakdown = false;
  let exhausted = false;
  let restarts = 0;
  let secondPasses = 0;
  let normT = 0;
  let next: JaxArray | null = q;
  let prev: JaxArray | null = null; // q_{j-1}, absent after a restart
  let w: JaxArray | null = null;
  try {
    while (next) {
      const j = alpha.length;
      const qj: JaxArray = next;
      next = null;
      basis.push(qj);
      w = await op.matvecAsync(qj);
      // The three-term step (alpha_j stays on the device until the step's one read)...
      const a0 = qj.ref.mul(w.ref).sum();
      w = w.sub(qj.ref.mul(a0.ref));
      if (prev) w = w.sub(scale(beta[j - 1], prev));
      prev?.dispose();
      prev = qj;
      // ...then one pass of classical Gram-Schmidt against the whole basis, which removes what
      // rounding left along earlier vectors (the coefficient on q_j corrects alpha_j).
      let a: number, b: number;
      if (opts.dgks) {
        const before = w.ref.mul(w.ref).sum();
        const pass1 = basis.orthogonalize(w, { passes: 1, last: true });
        w = pass1.w;
        let host = await readHost(np.stack([a0.add(pass1.last!), before, w.ref.mul(w.ref).sum()]));
        a = host[0];
        let b2 = host[2];
        if (b2 < 0.5 * host[1]) {
          // The pass removed more than half the vector (||w'|| < ||w|| / sqrt 2): what is left
          // may carry rounding from the cancellation; a second pass removes it.
          const pass2 = basis.orthogonalize(w, { passes: 1, last: true });
          w = pass2.w;
          host = await readHost(np.stack([pass2.last!, w.ref.mul(w.ref).sum()]));
          a += host[0];
          b2 = host[1];
          secondPasses++;
        }
        b = Math.sqrt(b2);
      } else {
        const pass = basis.orthogonalize(w, { passes: 1, last: true });
        w = pass.w;
        const bDevice = np.sqrt(w.ref.mul(w.ref).sum()).reshape([1]);
        const host = await readHost(np.concatenate([a0.reshape([1]), pass.last!.reshape([1]), bDevice]));
        a = host[0] + host[1];
        b = host[2];
      }
      checkFinite([a, b], "lanczos");
      alpha.push(a);
      normT = Math.max(normT, Math.abs(a) + b + (j > 0 ? beta[j - 1] : 0));
      residual = b;
      const last = alpha.length >= opts.maxSteps;
      const invariant = b <= tol * Math.max(normT, normA);
      const stop = opts.afterStep?.({ alpha, beta, b, breakdown: invariant, last }) ?? false;
      if (stop || last) break;
      if (invariant) {
        if (!opts.restart) {
          breakdown = true;
          break;
        }
        // T splits here; carry on from a new direction.
        beta.push(0);
        restarts++;
        prev.dispose();
        prev = null;
        next = await opts.restart();
        if (!next) {
          exhausted = true;
          break;
        }
      } else {
        beta.push(b);
        next = scale(1 / b, w);
      }
      w.dispose();
      w = null;
    }
  } finally {
    next?.dispose();
    w?.dispose();
    prev?.dispose();
  }
  return { alpha, beta, residual, breakdown, exhausted, restarts, secondPasses };
}

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
 * m = min(steps, n) Lanczos steps from `start` (borrowed; any nonzero norm, normalized here), one
 * Gram-Schmidt pass each, stopping at an invariant subspace. `onStep` is called after each product.
 */
export async function lanczosTridiagonal(
  op: LinearOperator,
  start: JaxArray,
  steps: number,
  onStep?: () => void,
): Promise<LanczosTridiagonal> {
  const startNorm = await norm(start);
  if (!(startNorm > 0 && Number.isFinite(startNorm))) throw new Error(`lanczos: start vector has norm ${startNorm}`);
  // Only the filled rows take part in each step (a fixed [m, n] array with zero rows past j would
  // be rebuilt by every append and multiplied whole by both Gram-Schmidt products).
  const basis = new DeviceBasis(op.size, op.dtype);
  try {
    const maxSteps = Math.min(steps, op.size);
    const t = await lanczosSteps(op, basis, scale(1 / startNorm, start), {
      maxSteps,
      afterStep: () => {
        onStep?.();
        return false;
      },
    });
    return { alpha: Float64Array.from(t.alpha), beta: Float64Array.from(t.beta), steps: t.alpha.length, residual: t.residual, breakdown: t.breakdown };
  } finally {
    basis.dispose();
  }
}

export interface GaussQuadrature {
  /** Eigenvalues of T, ascending. */
  readonly nodes: Float64Array;
  /** Squared first components of T's eigenvectors (positive, summing to 1). */
  readonly weights: Float64Array;
}

/**
 * Eigenvalues (ascending) and eigenvectors of tridiag(beta, alpha, beta) (alpha of length m, beta
 * of m - 1): Z row-major m x m, column i for theta[i]. The inputs are not modified.
 */
export function tridiagonalEigenpairs(alpha: ArrayLike<number>, beta: ArrayLike<number>): { theta: Float64Array; Z: Float64Array } {
  const m = alpha.length;
  const d = Float64Array.from(alpha);
  const e = Float64Array.from(beta);
  const Z = new Float64Array(m * m);
  for (let i = 0; i < m; i++) Z[i * m + i] = 1;
  tridiagonalEigen(d, e, Z);
  return { theta: d, Z };
}

/** The Gauss quadrature rule of tridiag(beta, alpha, beta) (Golub-Welsch). Inputs are not modified. */
export function gaussQuadrature(alpha: ArrayLike<number>, beta: ArrayLike<number>): GaussQuadrature {
  const m = alpha.length;
  if (beta.length !== Math.max(m - 1, 0)) throw new Error(`gaussQuadrature: expected ${m - 1} off-diagonal entries, got ${beta.length}`);
  const { theta, Z } = tridiagonalEigenpairs(alpha, beta);
  const weights = new Float64Array(m);
  for (let i = 0; i < m; i++) weights[i] = Z[i] * Z[i];
  return { nodes: theta, weights };
}
