/**
 * The empirical neural tangent kernel (Jacot, Gabriel, Hongler 2018) at theta: the Gram matrix
 * K = J J^T of the output Jacobian J [N c, P] (row (i, c) = grad_theta f_c(x_i)), as a
 * `LinearOperator` on output space, size N c, rows in (example, output) order. K and J^T J share
 * their non-zero eigenvalues, so for the squared error sum_c (f_c - y_c)^2 / N, whose Gauss-Newton
 * matrix is G = (2 / N) J^T J, the non-zero spectrum of G is that of (2 / N) K: a dense
 * eigendecomposition of size N c instead of P, the cheaper one when examples x outputs are fewer
 * than the parameters. The loss does not enter K. A product is one reverse-mode replay per batch
 * (J^T u) and one forward-mode replay per batch (J w).
 */
import { numpy as np } from "../engine/jax.ts";
import { makeOperator, sumOver, type LinearOperator } from "./operator.ts";
import { linearizeOutputs } from "./output-linearization.ts";
import { describeProblem, type LossProblem } from "./problem.ts";

export function ntkOperator(problem: LossProblem): LinearOperator {
  const lin = linearizeOutputs(problem);
  const c = problem.model.outputDim;
  const starts: number[] = [];
  let offset = 0;
  for (const b of lin.batches) {
    starts.push(offset);
    offset += b.outputs.shape[0] * c;
  }
  return makeOperator(
    offset,
    problem.dtype,
    `empirical NTK Gram matrix J J^T (${problem.n} examples x ${c} outputs) of ${describeProblem(problem)}`,
    (u) => {
      // w = J^T u, summed over batches; then J w, batch by batch, stacked in row order.
      const w = sumOver(lin.batches, (b, k) => {
        const nb = b.outputs.shape[0];
        return b.vjp(u.ref.slice([starts[k], starts[k] + nb * c]).mul(1).reshape([nb, c]));
      });
      const parts = lin.batches.map((b) => b.jvp(w).reshape([-1]));
      w.dispose();
      return parts.length === 1 ? parts[0] : np.concatenate(parts, 0);
    },
    () => lin.dispose(),
  );
}
