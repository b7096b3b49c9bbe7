/**
 * Flatness and singularity of a spectrum (Sagun et al. 2017: flatness can be read from how
 * singular the Hessian is): the fraction of eigenvalues near zero, the numerical rank, the mass
 * of negative eigenvalues, and the spectrum's moments (trace, Frobenius norm).
 *
 * - Near zero: |l| <= threshold, where threshold = nearZero.relative x max|l| (default relative
 *   1e-3: directions at least 1000x flatter than the sharpest one) or an absolute
 *   nearZero.absolute. The result also gives a profile of the fraction at relative thresholds
 *   1e-1 .. 1e-6, because "near zero" has no natural cut in a spike-shaped bulk.
 * - Numerical rank: #{|l| > tol}, tol = n eps max|l| by default (numpy.linalg.matrix_rank's
 *   rule, eps of the arithmetic the spectrum came from: 2^-52 for float64, 2^-23 for float32,
 *   chosen with `dtype`, default float64). A spectrum whose values are only accurate to some
 *   relative error delta (float32 arithmetic; float64 with float32-accurate transcendentals,
 *   ~1e-7) should pass rankTol ~ delta max|l| (absolute), or its rounding noise counts as rank.
 * - Negative mass: sum |l < 0| / sum |l| (0 for an all-zero spectrum), with the count of
 *   negatives, the most negative value and its size relative to the largest positive one
 *   (|l_min| / l_max, a common measure of how far from convex a point is).
 */
import { InputError } from "../errors.ts";
import { checkOption, maxAbs, sortedAscending, type Eigenvalues } from "./values.ts";

export interface FlatnessOptions {
  /** What counts as near zero: exactly one of relative (x max|l|) or absolute; default { relative: 1e-3 }. */
  readonly nearZero?: { readonly relative: number } | { readonly absolute: number };
  /** Absolute rank tolerance (default n eps max|l|). */
  readonly rankTol?: number;
  /** The arithmetic the spectrum came from, for the default rank tolerance (default "float64"). */
  readonly dtype?: "float32" | "float64";
}

export interface Flatness {
  readonly n: number;
  /** Fraction of eigenvalues with |l| <= nearZeroThreshold. */
  readonly nearZeroFraction: number;
  readonly nearZeroCount: number;
  readonly nearZeroThreshold: number;
  /** Fraction with |l| <= r max|l| for r = 1e-1 .. 1e-6. */
  readonly nearZeroProfile: readonly { readonly relative: number; readonly fraction: number }[];
  /** #{|l| > rankTol}. */
  readonly numericalRank: number;
  readonly rankTol: number;
  readonly negativeCount: number;
  /** sum |l < 0| / sum |l|. */
  readonly negativeMass: number;
  /** Smallest eigenvalue (the most negative, if any is negative). */
  readonly min: number;
  readonly max: number;
  readonly maxAbs: number;
  /** |min| / max when min < 0 < max; 0 when no value is negative; null when none is positive. */
  readonly negativeToPositive: number | null;
  /** sum l. */
  readonly trace: number;
  /** sqrt(sum l^2). */
  readonly frobenius: number;
  readonly settings: { readonly nearZero: { readonly relative: number } | { readonly absolute: number }; readonly rankTol: number; readonly dtype: "float32" | "float64" };
}

export const FLATNESS_DEFAULTS = { nearZero: { relative: 1e-3 }, dtype: "float64" } as const;
const PROFILE = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6];
const EPS = { float64: 2 ** -52, float32: 2 ** -23 } as const;

export function flatness(eigenvalues: Eigenvalues, opts: FlatnessOptions = {}): Flatness {
  const nearZero = opts.nearZero ?? FLATNESS_DEFAULTS.nearZero;
  checkNearZero(nearZero);
  checkOption(opts.rankTol, "rankTol", { min: 0 });
  const dtype = opts.dtype ?? FLATNESS_DEFAULTS.dtype;
  if (dtype !== "float32" && dtype !== "float64") throw new InputError("dtype", `expected float32 or float64, got ${String(dtype)}`);
  const asc = sortedAscending(eigenvalues);
  const n = asc.length;
  const top = maxAbs(asc);
  const threshold = "relative" in nearZero ? nearZero.relative * top : nearZero.absolute;
  const rankTol = opts.rankTol ?? n * EPS[dtype] * top;

  const countAtMost = (t: number) => asc.reduce((c, v) => c + (Math.abs(v) <= t ? 1 : 0), 0);
  let negSum = 0, absSum = 0, trace = 0, sq = 0, negativeCount = 0;
  for (const v of asc) {
    if (v < 0) { negSum -= v; negativeCount++; }
    absSum += Math.abs(v);
    trace += v;
    sq += v * v;
  }
  const min = asc[0], max = asc[n - 1];
  const nearZeroCount = countAtMost(threshold);
  return {
    n,
    nearZeroFraction: nearZeroCount / n,
    nearZeroCount,
    nearZeroThreshold: threshold,
    nearZeroProfile: PROFILE.map((relative) => ({ relative, fraction: countAtMost(relative * top) / n })),
    numericalRank: n - countAtMost(rankTol),
    rankTol,
    negativeCount,
    negativeMass: absSum > 0 ? negSum / absSum : 0,
    min,
    max,
    maxAbs: top,
    negativeToPositive: max <= 0 ? null : min < 0 ? -min / max : 0,
    trace,
    frobenius: Math.sqrt(sq),
    settings: { nearZero, rankTol, dtype },
  };
}

function checkNearZero(nz: unknown): void {
  const o = nz as Record<string, unknown> | null;
  const keys = o && typeof o === "object" ? Object.keys(o) : [];
  if (keys.length !== 1 || !(keys[0] === "relative" || keys[0] === "absolute")) {
    throw new InputError("nearZero", "expected { relative: r } or { absolute: t }");
  }
  const v = o![keys[0]];
  if (typeof v !== "number") throw new InputError(`nearZero.${keys[0]}`, `expected a finite number >= 0, got ${String(v)}`);
  checkOption(v, `nearZero.${keys[0]}`, { min: 0 });
}
