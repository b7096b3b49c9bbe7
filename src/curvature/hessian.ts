/**
 * The Hessian of the dataset loss, H = sum over batches of the batch Hessians (each batch
 * weighted by its share of the mean, see problem.ts), as a matrix-free operator.
 *
 * How a Hessian-vector product is formed matters several-fold on this engine (bench/hvp.ts,
 * BENCHMARKS.md; MLP 784-128-10 and 784-512-512-10, batch 1000, float32, Wasm): forward-over-reverse
 * `jvp(grad(f))` under jit ~14x the gradient's time; reverse-over-forward `grad(q -> jvp(f, q, v))`
 * under jit ~2.6x, but jax-js 0.1.25 computes it wrongly under jit in float64 (float32 agrees;
 * eager is right); `linearize(grad(f))` at theta once per batch, then each product replays the
 * linear part: 1.2-1.5x, which is the fewest matmuls an exact product needs (PyTorch's double
 * backward: 1.9-3.2x its gradient).
 * Methods:
 * - `linearize` (default): linearize every batch once and keep the linearizations (their
 *   residuals, i.e. activations and friends, stay on the device): the fastest products. On small
 *   problems each linear part is replayed through `jit` (problem.ts, replaysThroughJit): run
 *   eagerly it dispatches one operation at a time, and there that dispatch is most of the cost
 *   (3x faster products on an MLP of 837 parameters and 1,000 examples, the same values to the
 *   last bit); on large ones the compiled replay is slower than eager, so they stay eager.
 * - `relinearize`: linearize each batch anew in every product and drop it at once: about twice
 *   the time of a product, but holds one batch's residuals at a time, for datasets whose
 *   residuals do not fit in memory.
 */
import { grad, jit, linearize, type Array, type OwnedFunction } from "../engine/jax.ts";
import { makeOperator, sumOver, type LinearOperator } from "./operator.ts";
import { batchLoss, describeProblem, replaysThroughJit, type LossProblem } from "./problem.ts";

export type HvpMethod = "linearize" | "relinearize";
export const HVP_METHODS: readonly HvpMethod[] = ["linearize", "relinearize"];

export interface HessianOptions {
  readonly method?: HvpMethod;
}

export function hessianOperator(problem: LossProblem, opts: HessianOptions = {}): LinearOperator {
  const method = opts.method ?? "linearize";
  const L = batchLoss(problem);
  const description = `Hessian of the ${describeProblem(problem)}`;
  const gradAt = (b: LossProblem["batches"][number]) => (t: Array) => grad(L)(t, b.x.ref, b.targets.ref);
  if (method === "linearize") {
    const owned: { dispose(): void }[] = [];
    const useJit = replaysThroughJit(problem);
    const lins: OwnedFunction<(v: Array) => Array>[] = problem.batches.map((b) => {
      const [g, lin] = linearize(gradAt(b), [problem.theta.ref]);
      g.dispose();
      owned.push(lin);
      if (!useJit) return lin;
      const replay = jit((v: Array) => lin(v));
      owned.push(replay);
      return replay;
    });
    return makeOperator(
      problem.model.size,
      problem.dtype,
      description,
      (v) => sumOver(lins, (lin) => lin(v.ref)),
      () => owned.forEach((f) => f.dispose()),
    );
  }
  return makeOperator(problem.model.size, problem.dtype, description, (v) =>
    sumOver(problem.batches, (b) => {
      const [g, lin] = linearize(gradAt(b), [problem.theta.ref]);
      g.dispose();
      const hv = lin(v.ref);
      lin.dispose();
      return hv;
    }),
  );
}
