/**
 * Hutch++: Meyer, Musco, Musco & Woodruff, "Hutch++: Optimal stochastic trace estimation" (SOSA
 * 2021). Spend a third of the budget on a sketch that captures the large eigenvalues exactly and
 * the rest on Hutchinson's estimator of what is left:
 *
 *   S: k random sign vectors;  Q = orth(A S) (device, CGS2: device-qr.ts);
 *   tr(A) = tr(Q^T A Q) + tr(P A P),  P = I - Q Q^T,
 *   tr(P A P) ~ (1/g) sum_j (P z_j)^T A (P z_j) over g fresh sign vectors.
 *
 * With m products (k = floor(m / 3) for the sketch, k for A Q, g = m - 2k probes) the error is
 * O(1/m) relative for positive semidefinite A instead of Hutchinson's O(1/sqrt(m)); for
 * indefinite A (Hessians) it still removes the top of |spectrum| from the variance. The estimate
 * is unbiased for any Q (the probes are independent of it). Its standard error is that of the
 * Hutchinson part on the deflated operator P A P: the sample standard deviation of its g samples
 * / sqrt(g) (the deflated trace tr(Q^T A Q) has no variance given Q).
 *
 * When A S is numerically rank-deficient (A has rank < k), Q spans the range of A and the
 * sketch's products for the dropped directions are not spent: the result reports the products
 * actually used. k is capped at n (then Q spans everything and the probes see ~0).
 *
 * Defaults: 100 products, seed 0, Rademacher vectors everywhere (as in the paper). Options, cost
 * and journal: estimator.ts (the journal keeps the products A S and A Q, and each probe's sample).
 */
import type { LinearOperator } from "../curvature/operator.ts";
import { numpy as np } from "../engine/jax.ts";
import { qrRows } from "./device-qr.ts";
import { ESTIMATOR_DEFAULTS, journaledRows, journaledSample, startEstimator, type TraceEstimate, type TraceOptions } from "./estimator.ts";
import { checkFinite, probeSeeds, probeVector, rademacherRows, readHost, sampleStats } from "./sampling.ts";

export const HUTCHPP_DEFAULTS = ESTIMATOR_DEFAULTS;

export async function hutchppTrace(op: LinearOperator, opts: TraceOptions = {}): Promise<TraceEstimate> {
  const run = startEstimator(op, opts, 3);
  const { m, seed, journal } = run;
  const n = op.size;
  const k = Math.min(Math.floor(m / 3), n);
  const g = m - 2 * k;
  const tick = () => run.tick();
  // Stream: the sketch's key first, then one key per probe.
  const [sketchSeed, ...seeds] = probeSeeds(seed, 1 + g);

  const S = rademacherRows(sketchSeed, k, n, op.dtype);
  const Y = await journaledRows(op, S, journal, "hutchpp-sketch", tick);
  S.dispose();
  const qr = await qrRows(Y, op.dtype);
  Y.dispose();
  const Q = qr.Q;
  let deflated = 0;
  const samples: number[] = [];
  try {
    if (Q) {
      const Z = await journaledRows(op, Q, journal, "hutchpp-range", tick);
      [deflated] = await readHost(Q.ref.mul(Z).sum().reshape([1]));
      checkFinite([deflated], "hutch++");
    }
    run.setDone(k + k); // dropped sketch directions cost nothing
    for (let j = 0; j < g; j++) {
      const probe = () => {
        const u = probeVector("rademacher", seeds[j], n, op.dtype);
        return Q ? u.sub(np.matmul(np.matmul(Q.ref, u.ref), Q.ref)) : u;
      };
      samples.push(await journaledSample(journal, `hutchpp-probe-${j}`, op, probe, "hutch++"));
      tick();
    }
  } finally {
    Q?.dispose();
  }
  const stats = sampleStats(samples);
  return {
    method: `Hutch++ (Meyer et al. 2021; sketch of ${k}, rank ${qr.rank}, ${g} Rademacher probes)`,
    size: n,
    estimate: deflated + (g > 0 ? stats.mean : 0),
    standardError: g > 0 ? stats.standardError : null,
    samples,
    ...run.cost(),
    settings: { matvecs: m, seed, sketch: k, rank: qr.rank, probes: g, probe: "rademacher" },
  };
}
