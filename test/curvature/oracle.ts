/**
 * Dense curvature matrices built directly from jax-js autodiff, independently of
 * src/curvature's matrix-free operators: `hessian` of the whole-dataset loss, `jacfwd` of the
 * stacked outputs and of the per-example losses, and host float64 algebra for G, F and C.
 */
import { hessian, jacfwd, numpy as np, type Array } from "../../src/engine/jax.ts";
import type { Model } from "../../src/nn/model.ts";
import { lossValue, type LossName } from "../../src/nn/loss.ts";
import type { LossProblem } from "../../src/curvature/problem.ts";

export interface DenseOracle {
  readonly P: number;
  readonly H: Float64Array;
  readonly G: Float64Array;
  readonly F: Float64Array;
  readonly C: Float64Array;
  /** Output-gradient second moment J^T J / N, and its centred form (covariance). */
  readonly O: Float64Array;
  readonly Oc: Float64Array;
  /** The output Jacobian [N c, P], rows in (example, output) order. */
  readonly J: Float64Array;
}

/** All examples in one batch. */
function fullBatch(problem: LossProblem): { x: Array; t: Array } {
  const xs = problem.batches.map((b) => b.x.ref);
  const ts = problem.batches.map((b) => b.targets.ref);
  return { x: np.concatenate(xs, 0), t: np.concatenate(ts, 0) };
}

export async function denseOracle(problem: LossProblem): Promise<DenseOracle> {
  const { model, loss } = problem;
  const P = model.size, N = problem.n, c = model.outputDim;
  const { x, t } = fullBatch(problem);
  const H = Float64Array.from(await hessian((q: Array) => lossValue(loss, model.apply(q, x.ref), t.ref))(problem.theta.ref).data());
  // jax-js's jacfwd stacks the tangent axis first: [P, N*c]; transpose to the usual [N*c, P].
  const J = Float64Array.from(await jacfwd((q: Array) => model.apply(q, x.ref).reshape([N * c]))(problem.theta.ref).transpose().data());
  const f = Float64Array.from(await model.apply(problem.theta.ref, x.ref).data());
  // Per-example losses' gradients, [N, P].
  const perExample = (q: Array) => {
    const out = model.apply(q, x.ref);
    if (loss === "cross-entropy") return np.log(np.exp(out.ref).sum(-1)).sub(out.mul(t.ref).sum(-1));
    const r = out.sub(t.ref);
    return r.ref.mul(r).sum(-1);
  };
  const Gm = Float64Array.from(await jacfwd(perExample)(problem.theta.ref).transpose().data());
  x.dispose();
  t.dispose();

  // H_L per example (host, exact float64), then G = J^T H_L J.
  const G = new Float64Array(P * P);
  const HLJ = new Float64Array(c * P);
  for (let i = 0; i < N; i++) {
    const fi = f.subarray(i * c, (i + 1) * c);
    const HL = new Float64Array(c * c);
    if (loss === "cross-entropy") {
      const m = Math.max(...fi);
      const e = [...fi].map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      const p = e.map((v) => v / s);
      for (let a = 0; a < c; a++) for (let b = 0; b < c; b++) HL[a * c + b] = ((a === b ? p[a] : 0) - p[a] * p[b]) / N;
    } else {
      for (let a = 0; a < c; a++) HL[a * c + a] = 2 / N;
    }
    HLJ.fill(0);
    for (let a = 0; a < c; a++)
      for (let b = 0; b < c; b++) {
        const h = HL[a * c + b];
        if (h === 0) continue;
        const row = (i * c + b) * P;
        for (let k = 0; k < P; k++) HLJ[a * P + k] += h * J[row + k];
      }
    for (let a = 0; a < c; a++) {
      const row = (i * c + a) * P;
      for (let k = 0; k < P; k++) {
        const jk = J[row + k];
        if (jk === 0) continue;
        for (let l = 0; l < P; l++) G[k * P + l] += jk * HLJ[a * P + l];
      }
    }
  }
  const F = new Float64Array(P * P);
  const mean = new Float64Array(P);
  for (let i = 0; i < N; i++) {
    const g = Gm.subarray(i * P, (i + 1) * P);
    for (let k = 0; k < P; k++) {
      mean[k] += g[k] / N;
      for (let l = 0; l < P; l++) F[k * P + l] += (g[k] * g[l]) / N;
    }
  }
  const C = F.map((v, idx) => v - mean[Math.floor(idx / P)] * mean[idx % P]);
  // Output gradients: O = J^T J / N; Oc = O - sum_c m_c m_c^T with m_c the mean of rows (i, c).
  const O = new Float64Array(P * P);
  const means = new Float64Array(c * P);
  for (let r = 0; r < N * c; r++) {
    const row = J.subarray(r * P, (r + 1) * P);
    const out = r % c;
    for (let k = 0; k < P; k++) {
      means[out * P + k] += row[k] / N;
      if (row[k] === 0) continue;
      for (let l = 0; l < P; l++) O[k * P + l] += (row[k] * row[l]) / N;
    }
  }
  const Oc = O.slice();
  for (let a = 0; a < c; a++)
    for (let k = 0; k < P; k++) for (let l = 0; l < P; l++) Oc[k * P + l] -= means[a * P + k] * means[a * P + l];
  return { P, H, G, F, C, O, Oc, J };
}

/** max |A - B| / scale, with scale = max |B| unless given. */
export function relativeError(A: ArrayLike<number>, B: ArrayLike<number>, scale?: number): number {
  let num = 0, den = 0;
  for (let i = 0; i < B.length; i++) {
    num = Math.max(num, Math.abs(A[i] - B[i]));
    den = Math.max(den, Math.abs(B[i]));
  }
  return num / (scale ?? den);
}

export function maxAbs(A: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < A.length; i++) m = Math.max(m, Math.abs(A[i]));
  return m;
}

export type { Model, LossName };
