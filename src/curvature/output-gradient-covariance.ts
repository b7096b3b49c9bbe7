/**
 * Second moments of the gradients of the model outputs, the matrix Sagun et al. (2017) link to
 * the Hessian's outliers: with u_ic = grad_theta f_c(x_i) (row (i, c) of the Jacobian J),
 * - uncentered: M = (1/N) sum_i sum_c u_ic u_ic^T = J^T J / N;
 * - centered (the covariance): C = M - sum_c m_c m_c^T, m_c = (1/N) sum_i u_ic the gradient of the
 *   mean output c.
 * The loss enters neither: for the squared error sum_c (f_c - y_c)^2 / N the Gauss-Newton matrix is
 * exactly 2 M (H_L = 2 I / N), so there M's spectrum is G's halved; for cross-entropy G weighs the
 * outputs by diag(p) - p p^T and the two differ. Matrix-free: one forward-mode and one reverse-mode
 * replay per batch per product, plus k reverse-mode replays per batch once for the m_c.
 */
import { numpy as np, type Array } from "../engine/jax.ts";
import { hostArray, toDType } from "../engine/dtype.ts";
import { makeOperator, sumOver, type LinearOperator } from "./operator.ts";
import { linearizeOutputs } from "./output-linearization.ts";
import { describeProblem, type LossProblem } from "./problem.ts";

export interface OutputGradientCovarianceOptions {
  /** Subtract the mean output gradients m_c (default true). */
  readonly centered?: boolean;
}

export function outputGradientCovarianceOperator(problem: LossProblem, opts: OutputGradientCovarianceOptions = {}): LinearOperator {
  const centered = opts.centered ?? true;
  const lin = linearizeOutputs(problem);
  const k = problem.model.outputDim;
  // m_c for each output c, as the rows of means [k, P]: J^T of the indicator of column c, over N.
  let means: Array | null = null;
  if (centered) {
    const rows: Array[] = [];
    for (let c = 0; c < k; c++) {
      rows.push(sumOver(lin.batches, (b) => {
        const nb = b.outputs.shape[0];
        const u = hostArray(problem.dtype, nb * k);
        for (let i = 0; i < nb; i++) u[i * k + c] = 1 / problem.n;
        return b.vjp(np.array(u, { dtype: toDType(problem.dtype) }).reshape([nb, k]));
      }));
    }
    means = np.stack(rows, 0);
  }
  return makeOperator(
    problem.model.size,
    problem.dtype,
    `${centered ? "centered" : "uncentered"} covariance of the output gradients of the ${describeProblem(problem)}`,
    (v) => {
      const mv = sumOver(lin.batches, (b) => b.vjp(b.jvp(v).div(problem.n)));
      if (!means) return mv;
      // sum_c m_c (m_c . v) = means^T (means v).
      const coef = np.matmul(means.ref, v.ref.reshape([-1, 1]));
      return mv.sub(np.matmul(means.ref.transpose(), coef).reshape([-1]));
    },
    () => {
      lin.dispose();
      means?.dispose();
    },
  );
}
