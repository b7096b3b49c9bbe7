/**
 * Gaussian-mixture classification data, the synthetic setting of the reference study (Sagun et
 * al. 2017, "Empirical analysis of the Hessian of over-parametrized neural networks"): k clusters
 * in d dimensions whose separability is set by one number.
 *
 * Exactly:
 * - Directions u_1..u_k in R^d: if k <= d, the Gram-Schmidt orthonormalization of k standard
 *   normal vectors (a uniformly random orthonormal k-frame), so every pair of means is at
 *   distance exactly `sep`; if k > d, k independent uniformly random unit vectors, so pairs are at
 *   distance `sep` in root-mean-square (E|u_i - u_j|^2 = 2).
 * - Means mu_c = (sep / sqrt 2) u_c: |mu_c| = sep / sqrt 2 and |mu_i - mu_j| = sep (k <= d).
 * - Points x = mu_c + z with z ~ N(0, I_d): unit-variance isotropic noise in every cluster.
 * - n points per cluster, interleaved: row r belongs to cluster r mod k, so every prefix of the
 *   data is balanced. Label of cluster c is c mod `classes` (default classes = k), which merges
 *   clusters into fewer classes.
 * - One hostRng(seed) stream: first the k x d normals of the directions, then the noise row by
 *   row; same options, same data on every platform.
 *
 * Defaults (curvlab's standard example): k = 5, d = 20, n = 200, sep = 3, seed = 0.
 * Why this law: with equidistant means, sep alone sets how separable the classes are (two clusters
 * overlap with error Phi(-sep/2) under the nearest-mean rule), and random directions rather than
 * coordinate axes keep the problem rotation-invariant. Trade-off: for k > d the means are not
 * equidistant (more than d + 1 equidistant points do not exist in R^d, and we do not special-case
 * the simplex k = d + 1), so separation then holds only on average and varies from pair to pair.
 */
import { hostRng } from "../engine/host-rng.ts";
import { InputError } from "../errors.ts";
import type { Dataset } from "./dataset.ts";

export interface GmmOptions {
  /** Number of clusters (default 5). */
  readonly k?: number;
  /** Dimension (default 20). */
  readonly d?: number;
  /** Points per cluster (default 200). */
  readonly n?: number;
  /** Distance between cluster means, in units of the noise standard deviation (default 3). */
  readonly sep?: number;
  /** Seed of the host RNG (default 0). */
  readonly seed?: number;
  /** Number of classes; cluster c gets label c mod classes (default k). */
  readonly classes?: number;
  /** Dataset name for results and messages (default: the equivalent spec). */
  readonly name?: string;
}

export const gmmDefaults = { k: 5, d: 20, n: 200, sep: 3, seed: 0 } as const;

interface Resolved { k: number; d: number; n: number; sep: number; seed: number; classes: number }

function resolve(o: GmmOptions, input: string): Resolved {
  const k = o.k ?? gmmDefaults.k;
  const r: Resolved = {
    k, d: o.d ?? gmmDefaults.d, n: o.n ?? gmmDefaults.n, sep: o.sep ?? gmmDefaults.sep,
    seed: o.seed ?? gmmDefaults.seed, classes: o.classes ?? k,
  };
  const posInt = (key: "k" | "d" | "n", v: number) => {
    if (!Number.isSafeInteger(v) || v < 1) throw new InputError(input, `${key} must be a positive integer, got ${v}`);
  };
  posInt("k", r.k); posInt("d", r.d); posInt("n", r.n);
  if (!Number.isFinite(r.sep) || r.sep < 0) throw new InputError(input, `sep must be a finite number >= 0, got ${r.sep}`);
  if (!Number.isSafeInteger(r.seed) || r.seed < 0) throw new InputError(input, `seed must be an integer >= 0, got ${r.seed}`);
  if (!Number.isSafeInteger(r.classes) || r.classes < 1 || r.classes > r.k) {
    throw new InputError(input, `classes must be an integer in 1..k (1..${r.k}), got ${r.classes}`);
  }
  if (r.k * r.n * r.d > 2 ** 31) throw new InputError(input, `k x n x d = ${r.k * r.n * r.d} values is too large`);
  return r;
}

/** The spec string equivalent to these options. */
export function gmmSpec(o: GmmOptions): string {
  const g = (key: keyof typeof gmmDefaults) => o[key] ?? gmmDefaults[key];
  const r = { k: g("k"), d: g("d"), n: g("n"), sep: g("sep"), seed: g("seed") };
  return `gmm:k=${r.k},d=${r.d},n=${r.n},sep=${r.sep},seed=${r.seed}${o.classes !== undefined ? `,classes=${o.classes}` : ""}`;
}

/** Cluster means, k x d row-major (draws the first k x d numbers of the seed's stream). */
function drawMeans(r: Resolved, rng: ReturnType<typeof hostRng>): Float64Array {
  const { k, d, sep } = r;
  const u = new Float64Array(k * d);
  for (let i = 0; i < k * d; i++) u[i] = rng.normal();
  for (let c = 0; c < k; c++) {
    const row = u.subarray(c * d, (c + 1) * d);
    if (k <= d) {
      // Modified Gram-Schmidt, applied twice for orthogonality to rounding level.
      for (let pass = 0; pass < 2; pass++) {
        for (let p = 0; p < c; p++) {
          const prev = u.subarray(p * d, (p + 1) * d);
          let dot = 0;
          for (let j = 0; j < d; j++) dot += row[j]! * prev[j]!;
          for (let j = 0; j < d; j++) row[j]! -= dot * prev[j]!;
        }
      }
    }
    let nrm = 0;
    for (let j = 0; j < d; j++) nrm += row[j]! * row[j]!;
    nrm = Math.sqrt(nrm);
    for (let j = 0; j < d; j++) row[j]! /= nrm;
  }
  const scale = sep / Math.SQRT2;
  for (let i = 0; i < k * d; i++) u[i]! *= scale;
  return u;
}

/** The k x d cluster means the mixture with these options uses (row-major Float64Array). */
export function gmmMeans(o: GmmOptions = {}): Float64Array {
  const r = resolve(o, o.name ?? gmmSpec(o));
  return drawMeans(r, hostRng(r.seed));
}

/** Samples the mixture (float64 features, shape [d]); see the module comment for the exact law. */
export function gaussianMixture(o: GmmOptions = {}): Dataset {
  const name = o.name ?? gmmSpec(o);
  const r = resolve(o, name);
  const { k, d, n, classes } = r;
  const rng = hostRng(r.seed);
  const means = drawMeans(r, rng);
  const rows = k * n;
  const x = new Float64Array(rows * d);
  const y = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    const c = row % k;
    y[row] = c % classes;
    const base = row * d, mb = c * d;
    for (let j = 0; j < d; j++) x[base + j] = means[mb + j]! + rng.normal();
  }
  return { x, featureShape: [d], y, numClasses: classes, name };
}
