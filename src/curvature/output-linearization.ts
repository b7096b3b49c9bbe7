/**
 * The model's outputs f(theta; x_b) linearized at theta, batch by batch: the outputs, the
 * Jacobian-vector product v -> J_b v (from `linearize`) and the vector-Jacobian product
 * u -> J_b^T u (from `vjp`). The Gauss-Newton, Fisher and gradient-covariance operators are all
 * J^T M J for a per-example middle factor M, so they share this cache; both maps are kept, so a
 * product costs one forward-mode and one reverse-mode replay, no forward pass.
 */
import { jit, linearize, vjp, type Array, type OwnedFunction } from "../engine/jax.ts";
import { replaysThroughJit, type LossProblem } from "./problem.ts";
import type { DeviceBatch } from "../data/device-batches.ts";

export interface LinearizedBatch {
  readonly batch: DeviceBatch;
  /** Outputs [n, c] at theta. */
  readonly outputs: Array;
  /** v [P] -> J v [n, c]. */
  jvp(v: Array): Array;
  /** u [n, c] -> J^T u [P]. */
  vjp(u: Array): Array;
}

export interface OutputLinearization {
  readonly batches: readonly LinearizedBatch[];
  dispose(): void;
}

export function linearizeOutputs(problem: LossProblem): OutputLinearization {
  const owned: { dispose(): void }[] = [];
  const useJit = replaysThroughJit(problem);
  const batches = problem.batches.map((batch): LinearizedBatch => {
    const f = (t: Array) => problem.model.apply(t, batch.x.ref);
    const [outputs, jvpFn] = linearize(f, [problem.theta.ref]) as [Array, OwnedFunction<(v: Array) => Array>];
    const [out2, vjpFn] = vjp(f, [problem.theta.ref]) as [Array, OwnedFunction<(u: Array) => Array[]>];
    out2.dispose();
    owned.push(outputs, jvpFn, vjpFn);
    if (!useJit) return { batch, outputs, jvp: (v) => jvpFn(v.ref), vjp: (u) => vjpFn(u)[0] };
    // Small problems replay through jit: one compiled call instead of one dispatch per operation
    // (problem.ts, replaysThroughJit).
    const jvpJit = jit((v: Array) => jvpFn(v));
    const vjpJit = jit((u: Array) => vjpFn(u)[0]);
    owned.push(jvpJit, vjpJit);
    return { batch, outputs, jvp: (v) => jvpJit(v.ref), vjp: (u) => vjpJit(u) };
  });
  return { batches, dispose: () => owned.forEach((o) => o.dispose()) };
}
