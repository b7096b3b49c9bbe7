/**
 * The generalized Gauss-Newton matrix G = J^T H_L J (Schraudolph 2002; Martens 2014): J the
 * Jacobian of the outputs w.r.t. the parameters, H_L the Hessian of the loss w.r.t. the outputs
 * (block diagonal over examples; see nn/loss.ts). It is the positive semidefinite part of
 * H = G + sum_i (dL/df_i) grad^2 f_i, and carries the outliers of the Hessian spectrum in
 * Sagun et al. (2017). For cross-entropy it also equals the (true) Fisher information.
 */
import { makeOperator, sumOver, sumOverAsync, type LinearOperator } from "./operator.ts";
import { linearizeOutputs } from "./output-linearization.ts";
import { describeProblem, type LossProblem } from "./problem.ts";
import { lossOutputHvp } from "../nn/loss.ts";

export function ggnOperator(problem: LossProblem): LinearOperator {
  const lin = linearizeOutputs(problem);
  return makeOperator(
    problem.model.size,
    problem.dtype,
    `Gauss-Newton matrix of the ${describeProblem(problem)}`,
    (v) => sumOver(lin.batches, (b) => b.vjp(lossOutputHvp(problem.loss, b.outputs.ref, b.jvp(v), problem.n))),
    () => lin.dispose(),
    (v) => sumOverAsync(lin.batches, (b) => b.vjp(lossOutputHvp(problem.loss, b.outputs.ref, b.jvp(v), problem.n))),
  );
}
