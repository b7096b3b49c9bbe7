/**
 * Comparing two spectra: eigenvalue by eigenvalue at the top, and as whole distributions.
 *
 * matchEigenvalues(a, b): the m largest of each (or smallest, or largest in magnitude), paired
 * in order (1st with 1st, ...): the pairing that minimizes the sum of |a_i - b_pi(i)| among sorted
 * lists, as in Sagun et al. 2017's comparison of the outliers of H with those of the Gauss-Newton
 * matrix. `a` is the reference: rel_i = |a_i - b_i| / |a_i| (0 when both are 0, Infinity-free:
 * a zero reference against a non-zero value gives null). Default m = min(len a, len b).
 *
 * wasserstein1(a, b): the Wasserstein-1 (earth mover's) distance between two spectra as
 * probability distributions on the line, W1 = integral |F_a(t) - F_b(t)| dt (Vallender 1974):
 * each eigenvalue carries mass 1/n, or a given weight (a spectral density from stochastic
 * Lanczos quadrature: nodes and weights), weights normalized to sum 1. In the units of the
 * eigenvalues; the result also gives it relative to the mean |l| of `a` for scale-free bounds.
 * Exact, O((na + nb) log(na + nb)).
 */
import { InputError } from "../errors.ts";
import { checkOption, sortedAscending, type Eigenvalues } from "./values.ts";

export type Order = "largest" | "smallest" | "magnitude";

export interface MatchOptions {
  /** How many to pair (default min(len a, len b)). */
  readonly m?: number;
  /** Which end to pair from (default "largest"). */
  readonly which?: Order;
}

export interface EigenvalueMatch {
  readonly m: number;
  readonly which: Order;
  /** Pairs in order: a_i, b_i, |a_i - b_i|, |a_i - b_i| / |a_i| (null when a_i = 0 != b_i). */
  readonly pairs: readonly { readonly a: number; readonly b: number; readonly absDiff: number; readonly relDiff: number | null }[];
  readonly maxAbsDiff: number;
  /** Largest relDiff (null if any is null). */
  readonly maxRelDiff: number | null;
  readonly meanRelDiff: number | null;
}

export function matchEigenvalues(a: Eigenvalues, b: Eigenvalues, opts: MatchOptions = {}): EigenvalueMatch {
  const which = opts.which ?? "largest";
  if (!["largest", "smallest", "magnitude"].includes(which)) {
    throw new InputError("which", `expected largest, smallest or magnitude, got ${String(which)}`);
  }
  const A = ordered(sortedAscending(a, "a"), which);
  const B = ordered(sortedAscending(b, "b"), which);
  const mMax = Math.min(A.length, B.length);
  checkOption(opts.m, "m", { min: 1, max: mMax, integer: true });
  const m = opts.m ?? mMax;
  const pairs = Array.from({ length: m }, (_, i) => {
    const absDiff = Math.abs(A[i] - B[i]);
    const relDiff = absDiff === 0 ? 0 : A[i] === 0 ? null : absDiff / Math.abs(A[i]);
    return { a: A[i], b: B[i], absDiff, relDiff };
  });
  const rels = pairs.map((p) => p.relDiff);
  const finite = rels.every((r) => r !== null) ? (rels as number[]) : null;
  return {
    m,
    which,
    pairs,
    maxAbsDiff: Math.max(...pairs.map((p) => p.absDiff)),
    maxRelDiff: finite ? Math.max(...finite) : null,
    meanRelDiff: finite ? finite.reduce((s, r) => s + r, 0) / m : null,
  };
}

function ordered(asc: Float64Array, which: Order): number[] {
  const xs = Array.from(asc);
  if (which === "largest") return xs.reverse();
  if (which === "smallest") return xs;
  return xs.sort((x, y) => Math.abs(y) - Math.abs(x) || y - x);
}

/** A spectrum as a distribution: eigenvalues with equal mass, or values with weights (>= 0, not all 0). */
export type SpectrumDistribution = Eigenvalues | { readonly values: Eigenvalues; readonly weights: ArrayLike<number> };

export interface Wasserstein {
  /** W1 in the units of the eigenvalues. */
  readonly distance: number;
  /** distance / mean |l| of a (null when a is all zero). */
  readonly relative: number | null;
}

export function wasserstein1(a: SpectrumDistribution, b: SpectrumDistribution): Wasserstein {
  const A = atoms(a, "a"), B = atoms(b, "b");
  // Merge the atoms; between consecutive support points the two CDFs are constant.
  const events: [number, number, number][] = [
    ...A.map(([x, w]): [number, number, number] => [x, w, 0]),
    ...B.map(([x, w]): [number, number, number] => [x, 0, w]),
  ].sort((p, q) => p[0] - q[0]);
  let fa = 0, fb = 0, d = 0;
  for (let i = 0; i < events.length - 1; i++) {
    fa += events[i][1];
    fb += events[i][2];
    d += Math.abs(fa - fb) * (events[i + 1][0] - events[i][0]);
  }
  const meanAbsA = A.reduce((s, [x, w]) => s + w * Math.abs(x), 0);
  return { distance: d, relative: meanAbsA > 0 ? d / meanAbsA : null };
}

function atoms(d: SpectrumDistribution, name: string): [number, number][] {
  const weighted = d !== null && typeof d === "object" && "values" in d && "weights" in d;
  if (!weighted) {
    const xs = sortedAscending(d as Eigenvalues, name);
    return Array.from(xs, (x) => [x, 1 / xs.length]);
  }
  const { values, weights } = d as { values: Eigenvalues; weights: ArrayLike<number> };
  sortedAscending(values, `${name}.values`); // checks
  if (!weights || weights.length !== values.length) {
    throw new InputError(`${name}.weights`, `expected ${values.length} weights (one per value), got ${weights?.length}`);
  }
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (typeof w !== "number" || !Number.isFinite(w) || w < 0) throw new InputError(`${name}.weights`, `expected finite weights >= 0, got ${String(w)} at index ${i}`);
    total += w;
  }
  if (!(total > 0)) throw new InputError(`${name}.weights`, "expected weights with a positive sum");
  return Array.from({ length: values.length }, (_, i): [number, number] => [values[i], weights[i] / total]);
}
