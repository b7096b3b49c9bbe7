/**
 * The loss as a function of the parameters: what every landscape instrument (slices,
 * interpolation, sharpness, tracking) walks over. An `Objective` evaluates the loss (and the
 * accuracy), the gradient and the curvature at ANY theta, with the data uploaded to the device
 * once; instruments take an Objective and know nothing of networks, so they are tested on
 * closed-form objectives (`quadraticObjective`) as well as on models (`modelObjective`).
 *
 * Thetas are host vectors (Float64Array or any ArrayLike<number>); results are host numbers.
 */
import type { DTypeName } from "../engine/dtype.ts";
import { take } from "../engine/scope.ts";
import { jit, grad, numpy as np, type Array } from "../engine/jax.ts";
import type { Dataset } from "../data/dataset.ts";
import type { Model } from "../nn/model.ts";
import type { LossName } from "../nn/loss.ts";
import { batchLoss, evaluate, makeProblem, type LossProblem } from "../curvature/problem.ts";
import { curvatureOperator, type CurvatureOptions } from "../curvature/make.ts";
import { makeOperator, sumOver, type LinearOperator } from "../curvature/operator.ts";
import { fromHost } from "../tree/vector.ts";

export interface Evaluation {
  readonly loss: number;
  /** Fraction of examples classified right; null for objectives without labels. */
  readonly accuracy: number | null;
}

export interface Objective {
  /** Number of parameters. */
  readonly size: number;
  /** Arithmetic of the device computations. */
  readonly dtype: DTypeName;
  /** What it is, e.g. "cross-entropy of mlp:20-32-5 on gmm:k=5,... (1000 examples)". */
  readonly description: string;
  /** Loss (and accuracy) at theta. */
  evaluate(theta: ArrayLike<number>): Promise<Evaluation>;
  /** Gradient of the loss at theta (host, float64). */
  gradient(theta: ArrayLike<number>): Promise<Float64Array>;
  /**
   * A curvature operator at theta (the Hessian unless `opts.operator` says otherwise); the
   * caller disposes it.
   */
  curvature(theta: ArrayLike<number>, opts?: CurvatureOptions): LinearOperator;
  /** Evaluations and gradients so far (the cost of an instrument). */
  readonly evaluations: number;
  readonly gradients: number;
  dispose(): void;
}

export interface ModelObjectiveOptions {
  /** Default "cross-entropy". */
  readonly loss?: LossName;
  /** Default "float64": landscape measurements difference nearby losses. */
  readonly dtype?: DTypeName;
  /** Examples per device batch (default 1000). */
  readonly batchSize?: number;
}

/**
 * The mean loss of `model` over `data`. Loss and accuracy are computed eagerly (the same
 * computation as `evaluate` of a problem, so a slice at its origin returns the model's loss
 * exactly); the gradient through one jitted function reused at every theta.
 */
export function modelObjective(model: Model, data: Dataset, opts: ModelObjectiveOptions = {}): Objective {
  const dtype = opts.dtype ?? "float64";
  const base = makeProblem(model, data, new Float64Array(model.size), {
    loss: opts.loss, dtype, batchSize: opts.batchSize,
  });
  const gradFn = jit(grad(batchLoss(base)));
  let evaluations = 0, gradients = 0;
  const at = (theta: ArrayLike<number>): LossProblem => {
    if (theta.length !== model.size) {
      throw new Error(`objective: expected ${model.size} parameters for "${model.spec}", got ${theta.length}`);
    }
    const t = fromHost(theta, dtype);
    return { ...base, theta: t, dispose: () => t.dispose() };
  };
  return {
    size: model.size,
    dtype,
    description: `${base.loss} of ${model.spec} on ${data.name} (${base.n} examples)`,
    async evaluate(theta) {
      evaluations++;
      const p = at(theta);
      try {
        return await evaluate(p);
      } finally {
        p.dispose();
      }
    },
    async gradient(theta) {
      gradients++;
      const p = at(theta);
      try {
        const g = sumOver(p.batches, (b) => gradFn(p.theta.ref, b.x.ref, b.targets.ref));
        return Float64Array.from(await take(g));
      } finally {
        p.dispose();
      }
    },
    curvature(theta, copts) {
      const p = at(theta);
      const op = curvatureOperator(p, copts);
      return { ...op, get matvecs() { return op.matvecs; }, matvec: (v: Array) => op.matvec(v), dispose: () => (op.dispose(), p.dispose()) };
    },
    get evaluations() {
      return evaluations;
    },
    get gradients() {
      return gradients;
    },
    dispose() {
      gradFn.dispose();
      base.dispose();
    },
  };
}

/**
 * L(theta) = 0.5 theta^T A theta - b^T theta + c for a symmetric A (row-major, n x n): a
 * closed-form objective (gradient A theta - b, Hessian A everywhere) for testing instruments.
 * Accuracy is null. Computed on the host in float64; curvature products on the device.
 */
export function quadraticObjective(A: ArrayLike<number>, b?: ArrayLike<number>, c = 0): Objective {
  const n = Math.round(Math.sqrt(A.length));
  if (n * n !== A.length) throw new Error(`quadraticObjective: A has ${A.length} entries, not a square`);
  const a = Float64Array.from(A);
  const bb = b ? Float64Array.from(b) : new Float64Array(n);
  const Ax = (x: ArrayLike<number>) => {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += a[i * n + j] * x[j];
      y[i] = s;
    }
    return y;
  };
  let evaluations = 0, gradients = 0;
  const check = (theta: ArrayLike<number>) => {
    if (theta.length !== n) throw new Error(`objective: expected ${n} parameters, got ${theta.length}`);
  };
  return {
    size: n,
    dtype: "float64",
    description: `quadratic (${n} parameters)`,
    async evaluate(theta) {
      check(theta);
      evaluations++;
      const y = Ax(theta);
      let v = c;
      for (let i = 0; i < n; i++) v += 0.5 * theta[i] * y[i] - bb[i] * theta[i];
      return { loss: v, accuracy: null };
    },
    async gradient(theta) {
      check(theta);
      gradients++;
      const y = Ax(theta);
      for (let i = 0; i < n; i++) y[i] -= bb[i];
      return y;
    },
    curvature(theta, copts) {
      check(theta);
      if (copts?.operator && copts.operator !== "hessian") throw new Error("quadraticObjective: only the Hessian");
      const dev = np.array(a, { dtype: np.float64 }).reshape([n, n]);
      return makeOperator(n, "float64", `quadratic (${n} parameters)`, (v) => np.matmul(dev.ref, v.ref.reshape([n, 1])).reshape([n]), () => dev.dispose());
    },
    get evaluations() {
      return evaluations;
    },
    get gradients() {
      return gradients;
    },
    dispose() {},
  };
}

/** Euclidean dot product of two host vectors. */
export function hostDot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** A host vector's Euclidean norm. */
export function hostNorm(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

/** theta + sum_i coefs[i] * dirs[i], on the host in float64. */
export function displace(theta: ArrayLike<number>, dirs: readonly ArrayLike<number>[], coefs: readonly number[]): Float64Array {
  const out = Float64Array.from(theta);
  dirs.forEach((d, k) => {
    const c = coefs[k];
    if (c === 0) return;
    for (let i = 0; i < out.length; i++) out[i] += c * d[i];
  });
  return out;
}
