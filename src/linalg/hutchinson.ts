/**
 * Hutchinson's estimators of the trace and of the diagonal of a symmetric operator.
 *
 * Trace (Hutchinson, "A stochastic estimator of the trace of the influence matrix for Laplacian
 * smoothing splines", 1990; Girard 1989 with Gaussian vectors): with z of independent random
 * signs, E[z^T A z] = tr(A) and Var[z^T A z] = 2 sum_{i != j} a_ij^2, the smallest variance over
 * vectors of independent entries. The estimate is the mean of m samples z_j^T A z_j; its
 * standard error is the sample standard deviation / sqrt(m). The error falls as 1/sqrt(m):
 * relative accuracy eps needs ~2 ||A||_F^2 / (eps tr A)^2 products, a lot when a few large
 * eigenvalues dominate ||A||_F (then use Hutch++ or XTrace).
 *
 * Diagonal (Bekas, Kokiopoulou & Saad, "An estimator for the diagonal of a matrix", 2007): with
 * random signs, E[z * (A z)] = diag(A) (elementwise product), and the estimate is the mean of
 * z_j * (A z_j) (Bekas et al. divide by sum z_j * z_j, which is m for signs); AdaHessian and Sophia
 * use it on Hessians. Coordinate i has variance sum_{k != i} a_ik^2; the result carries the
 * per-coordinate standard errors (sample standard deviation / sqrt(m)).
 *
 * Defaults: 100 products (= probes), seed 0. Probe j depends only on (seed, j), so a longer run
 * extends a shorter one. Options, cost and journal: estimator.ts (the trace journals each probe's
 * sample, the diagonal each probe's z * (A z)).
 */
import type { LinearOperator } from "../curvature/operator.ts";
import { numpy as np, type Array as JaxArray } from "../engine/jax.ts";
import { checkFinite, probeSeeds, probeVector, readHost, sampleStats } from "./sampling.ts";
import { ESTIMATOR_DEFAULTS, journaledSample, journaledVector, startEstimator, type DiagonalEstimate, type TraceEstimate, type TraceOptions } from "./estimator.ts";

export type { DiagonalEstimate, TraceEstimate, TraceOptions } from "./estimator.ts";

export const HUTCHINSON_DEFAULTS = ESTIMATOR_DEFAULTS;

export async function hutchinsonTrace(op: LinearOperator, opts: TraceOptions = {}): Promise<TraceEstimate> {
  const run = startEstimator(op, opts, 1);
  const { m, seed } = run;
  const seeds = probeSeeds(seed, m);
  const samples: number[] = [];
  for (let j = 0; j < m; j++) {
    const probe = () => probeVector("rademacher", seeds[j], op.size, op.dtype);
    samples.push(await journaledSample(run.journal, `hutchinson-probe-${j}`, op, probe, "hutchinson"));
    run.tick();
  }
  const stats = sampleStats(samples);
  return {
    method: `Hutchinson (${m} Rademacher probes)`,
    size: op.size,
    estimate: stats.mean,
    standardError: stats.standardError,
    samples,
    ...run.cost(),
    settings: { matvecs: m, probes: m, seed, probe: "rademacher" },
  };
}

export async function hutchinsonDiagonal(op: LinearOperator, opts: TraceOptions = {}): Promise<DiagonalEstimate> {
  const run = startEstimator(op, opts, 1);
  const { m, seed } = run;
  const seeds = probeSeeds(seed, m);
  // Running sums of x_j = z_j * (A z_j) and x_j^2 on the device. Centered at the first sample
  // (shifted data) so that the variance does not cancel catastrophically in float32.
  let shift: JaxArray | null = null;
  let sum: JaxArray | null = null;
  let sumSq: JaxArray | null = null;
  try {
    for (let j = 0; j < m; j++) {
      const x = await journaledVector(run.journal, `hutchinson-diagonal-probe-${j}`, op, async () => {
        const z = probeVector("rademacher", seeds[j], op.size, op.dtype);
        return (await op.matvecAsync(z)).mul(z);
      });
      if (!shift) {
        shift = x;
        sum = np.zerosLike(shift.ref);
        sumSq = np.zerosLike(shift.ref);
      } else {
        const d = x.sub(shift.ref);
        sum = sum!.add(d.ref);
        sumSq = sumSq!.add(d.ref.mul(d));
      }
      await sumSq!.blockUntilReady();
      run.tick();
    }
    const mean = sum!.ref.div(np.array(m, { dtype: sum!.dtype })).add(shift!.ref);
    const [diag, sums, sq] = await Promise.all([readHost(mean), readHost(sum!), readHost(sumSq!)]);
    sum = sumSq = null;
    checkFinite(diag, "hutchinson diagonal");
    let standardErrors: number[] | null = null;
    if (m >= 2) {
      standardErrors = Array.from(diag, (_, i) => {
        const variance = Math.max(0, (sq[i] - (sums[i] * sums[i]) / m) / (m - 1));
        return Math.sqrt(variance / m);
      });
    }
    return {
      method: `Hutchinson diagonal (Bekas et al. 2007; ${m} Rademacher probes)`,
      size: op.size,
      diagonal: Array.from(diag),
      standardErrors,
      sum: diag.reduce((s, v) => s + v, 0),
      ...run.cost(),
      settings: { matvecs: m, probes: m, seed, probe: "rademacher" },
    };
  } finally {
    shift?.dispose();
    sum?.dispose();
    sumSq?.dispose();
  }
}
