/**
 * The loss along the straight line between two solutions, theta(alpha) = (1 - alpha) theta_A +
 * alpha theta_B: Goodfellow, Vinyals & Saxe (2015), "Qualitatively characterizing neural network
 * optimization problems". The barrier on that line is the measure of linear mode connectivity of
 * Frankle, Dziugaite, Roy & Carbin (2020), "Linear Mode Connectivity and the Lottery Ticket
 * Hypothesis", and of Entezari, Sedghi, Saukh & Neyshabur (2022), "The Role of Permutation
 * Invariance in Linear Mode Connectivity of Neural Networks": the largest excess of L(alpha) over
 * the straight line between the endpoint losses, max over alpha in [0, 1] of
 * L(alpha) - ((1 - alpha) L(0) + alpha L(1)) (a bump counts even when it stays below the higher
 * endpoint; 0 when the path never rises above that line).
 *
 * Defaults: 25 evenly spaced alphas from 0 to 1 (`from`/`to` may extrapolate, e.g. -0.5 to 1.5).
 * alpha = 0 and 1 are always evaluated (added when the grid misses them, snapped when a grid
 * value is within 1e-9 of them), exactly at theta_A and theta_B, so the endpoint losses equal
 * `objective.evaluate(thetaA)` and `objective.evaluate(thetaB)` bit for bit. The barrier is only
 * as fine as the grid: it is a lower bound of the true supremum on [0, 1].
 */
import { hostNorm, type Objective } from "./objective.ts";

/** Interpolates host parameter vectors: (1 - alpha) a + alpha b. */
export function interpolate(a: ArrayLike<number>, b: ArrayLike<number>, alpha: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (1 - alpha) * a[i] + alpha * b[i];
  return out;
}

/**
 * The barrier of a loss path: the largest excess of L(alpha) over the straight line between the
 * endpoint losses, max over alpha in [0, 1] of L(alpha) - ((1 - alpha) L(0) + alpha L(1)), and
 * where it is (0 when the path never rises above that line). This is the definition of the
 * linear-mode-connectivity literature (Frankle et al. 2020; Entezari et al. 2022): a bump counts
 * even when it stays below the higher endpoint.
 */
export function barrierOf(alphas: readonly number[], loss: readonly number[]): { barrier: number; alpha: number } {
  const i0 = alphas.findIndex((a) => Math.abs(a) < 1e-9);
  const i1 = alphas.findIndex((a) => Math.abs(a - 1) < 1e-9);
  if (i0 < 0 || i1 < 0) throw new Error("barrierOf: the alphas must include 0 and 1");
  let barrier = 0, at = alphas[i0];
  alphas.forEach((a, i) => {
    if (a < -1e-9 || a > 1 + 1e-9) return;
    const excess = loss[i] - ((1 - a) * loss[i0] + a * loss[i1]);
    if (excess > barrier) [barrier, at] = [excess, a];
  });
  return { barrier, alpha: at };
}

export interface InterpolationOptions {
  /** Explicit alphas (any order; sorted, 0 and 1 added). Give these or `points`, not both. */
  readonly alphas?: readonly number[];
  /** Evenly spaced alphas from `from` to `to` (default 25). */
  readonly points?: number;
  /** First alpha of the grid (default 0; negative extrapolates beyond theta_A). */
  readonly from?: number;
  /** Last alpha of the grid (default 1; above 1 extrapolates beyond theta_B). */
  readonly to?: number;
  /** Called after every evaluation (progress). */
  readonly onPoint?: (done: number, total: number, alpha: number, loss: number) => void;
}

export interface InterpolationSettings {
  readonly points: number;
  readonly from: number;
  readonly to: number;
  /** True when the caller gave the alphas. */
  readonly explicitAlphas: boolean;
}

export interface InterpolationResult {
  /** What was walked over (the objective's description). */
  readonly objective: string;
  /** Increasing, including 0 and 1. */
  readonly alphas: readonly number[];
  readonly loss: readonly number[];
  /** Null entries for objectives without labels. */
  readonly accuracy: readonly (number | null)[];
  /** L(0) and L(1): the losses of theta_A and theta_B. */
  readonly lossA: number;
  readonly lossB: number;
  /** max over alpha in [0, 1] of L(alpha) minus the straight line between L(0) and L(1); >= 0. */
  readonly barrier: number;
  /** Where the barrier is (0 when there is none). */
  readonly barrierAlpha: number;
  /** The highest loss on [0, 1] minus the higher endpoint loss (0 when the path never rises above its higher end). */
  readonly heightAboveEnds: number;
  /** ||theta_B - theta_A||. */
  readonly distance: number;
  /** Loss evaluations spent. */
  readonly evaluations: number;
  readonly seconds: number;
  readonly settings: InterpolationSettings;
}

const SNAP = 1e-9;

/** The alphas to evaluate: the grid (or the given list), sorted, deduplicated, with 0 and 1. */
export function pathAlphas(opts: Pick<InterpolationOptions, "alphas" | "points" | "from" | "to">): number[] {
  let raw: number[];
  if (opts.alphas !== undefined) {
    if (opts.points !== undefined) throw new Error("interpolatePath: give alphas or points, not both");
    raw = [...opts.alphas];
  } else {
    const points = opts.points ?? 25;
    const from = opts.from ?? 0, to = opts.to ?? 1;
    if (!Number.isInteger(points) || points < 2) throw new Error(`interpolatePath: points must be an integer >= 2, got ${points}`);
    if (!(Number.isFinite(from) && Number.isFinite(to) && from < to)) throw new Error(`interpolatePath: expected finite from < to, got ${from} and ${to}`);
    raw = Array.from({ length: points }, (_, i) => (i === points - 1 ? to : from + ((to - from) * i) / (points - 1)));
  }
  for (const a of raw) if (!Number.isFinite(a)) throw new Error(`interpolatePath: alphas must be finite, got ${a}`);
  const snapped = raw.map((a) => (Math.abs(a) < SNAP ? 0 : Math.abs(a - 1) < SNAP ? 1 : a));
  snapped.push(0, 1);
  const sorted = [...new Set(snapped)].sort((x, y) => x - y);
  // Grid values closer than the snap distance would be the same point twice.
  return sorted.filter((a, i) => i === 0 || a - sorted[i - 1] > SNAP || a === 0 || a === 1);
}

/** Loss and accuracy along theta(alpha) = (1 - alpha) theta_A + alpha theta_B; see the module comment. */
export async function interpolatePath(
  objective: Objective,
  thetaA: ArrayLike<number>,
  thetaB: ArrayLike<number>,
  opts: InterpolationOptions = {},
): Promise<InterpolationResult> {
  const t0 = performance.now();
  if (thetaA.length !== objective.size || thetaB.length !== objective.size) {
    throw new Error(`interpolatePath: expected two vectors of ${objective.size} parameters, got ${thetaA.length} and ${thetaB.length}`);
  }
  const alphas = pathAlphas(opts);
  const loss: number[] = [], accuracy: (number | null)[] = [];
  const before = objective.evaluations;
  for (const alpha of alphas) {
    // The endpoints are the given vectors themselves, not (1 - 0) a + 0 b.
    const theta = alpha === 0 ? thetaA : alpha === 1 ? thetaB : interpolate(thetaA, thetaB, alpha);
    const r = await objective.evaluate(theta);
    loss.push(r.loss);
    accuracy.push(r.accuracy);
    opts.onPoint?.(loss.length, alphas.length, alpha, r.loss);
  }
  const i0 = alphas.indexOf(0), i1 = alphas.indexOf(1);
  const { barrier, alpha: barrierAlpha } = barrierOf(alphas, loss);
  let top = -Infinity;
  alphas.forEach((a, i) => { if (a >= 0 && a <= 1) top = Math.max(top, loss[i]); });
  const diff = new Float64Array(thetaA.length);
  for (let i = 0; i < diff.length; i++) diff[i] = thetaB[i] - thetaA[i];
  return {
    objective: objective.description,
    alphas,
    loss,
    accuracy,
    lossA: loss[i0],
    lossB: loss[i1],
    barrier,
    barrierAlpha,
    heightAboveEnds: top - Math.max(loss[i0], loss[i1]),
    distance: hostNorm(diff),
    evaluations: objective.evaluations - before,
    seconds: (performance.now() - t0) / 1000,
    settings: {
      points: alphas.length,
      from: alphas[0],
      to: alphas[alphas.length - 1],
      explicitAlphas: opts.alphas !== undefined,
    },
  };
}
