/**
 * The residual R = H - G = sum_i (dL/df_i) grad^2 f_i: the part of the Hessian that the
 * Gauss-Newton matrix leaves out (indefinite; small where the loss is small). Sagun et al. (2017)
 * find the bulk of the Hessian spectrum here.
 */
import { makeOperator, type LinearOperator } from "./operator.ts";
import { hessianOperator, type HessianOptions } from "./hessian.ts";
import { ggnOperator } from "./ggn.ts";
import { describeProblem, type LossProblem } from "./problem.ts";

export function residualOperator(problem: LossProblem, opts: HessianOptions = {}): LinearOperator {
  const H = hessianOperator(problem, opts);
  const G = ggnOperator(problem);
  return makeOperator(
    problem.model.size,
    problem.dtype,
    `residual H - G of the ${describeProblem(problem)}`,
    (v) => H.matvec(v).sub(G.matvec(v)),
    () => {
      H.dispose();
      G.dispose();
    },
    async (v) => (await H.matvecAsync(v)).sub(await G.matvecAsync(v)),
  );
}
