/**
 * Second moments of the per-example gradients g_i = grad_theta loss(f(x_i), y_i):
 * - the empirical Fisher F = (1/N) sum_i g_i g_i^T (the uncentered gradient covariance);
 * - the gradient covariance C = (1/N) sum_i (g_i - g)(g_i - g)^T = F - g g^T, with g the mean
 *   gradient (the gradient of the dataset loss).
 * Matrix-free through g_i = J_i^T r_i, r_i = dloss_i/df_i: F v = (1/N) sum_i J_i^T r_i (r_i . J_i v),
 * one forward-mode and one reverse-mode replay per batch, never forming a per-example gradient.
 */
import { makeOperator, sumOver, type LinearOperator } from "./operator.ts";
import { linearizeOutputs } from "./output-linearization.ts";
import { describeProblem, gradient, type LossProblem } from "./problem.ts";
import { lossOutputGradient } from "../nn/loss.ts";

export interface GradientCovarianceOptions {
  /** Subtract the mean gradient (default true). */
  readonly centered?: boolean;
}

export function empiricalFisherOperator(problem: LossProblem): LinearOperator {
  return gradientSecondMoment(problem, false, `empirical Fisher of the ${describeProblem(problem)}`);
}

export function gradientCovarianceOperator(problem: LossProblem, opts: GradientCovarianceOptions = {}): LinearOperator {
  const centered = opts.centered ?? true;
  return gradientSecondMoment(
    problem,
    centered,
    `${centered ? "centered" : "uncentered"} covariance of per-example gradients of the ${describeProblem(problem)}`,
  );
}

function gradientSecondMoment(problem: LossProblem, centered: boolean, description: string): LinearOperator {
  const lin = linearizeOutputs(problem);
  // Per-example output gradients r_i (denominator 1: one example's own loss), kept with the cache.
  const residuals = lin.batches.map((b) => lossOutputGradient(problem.loss, b.outputs.ref, b.batch.targets.ref, 1));
  const mean = centered ? gradient(problem) : null;
  return makeOperator(
    problem.model.size,
    problem.dtype,
    description,
    (v) => {
      const fv = sumOver(lin.batches, (b, k) => {
        const r = residuals[k];
        const s = r.ref.mul(b.jvp(v)).sum(-1, { keepdims: true });
        return b.vjp(r.ref.mul(s).div(problem.n));
      });
      return mean ? fv.sub(mean.ref.mul(mean.ref.mul(v.ref).sum())) : fv;
    },
    () => {
      lin.dispose();
      residuals.forEach((r) => r.dispose());
      mean?.dispose();
    },
  );
}
