/**
 * Directions in parameter space for loss-landscape slices (slices.ts): random directions with
 * filter normalization, top Hessian eigenvectors, and the principal directions of an optimization
 * trajectory. All directions are host Float64Arrays of the model's flat layout (tree/layout.ts).
 *
 * Random directions with filter normalization (Li, Xu, Taylor, Studer & Goldstein 2018,
 * "Visualizing the Loss Landscape of Neural Nets", section 4, and their code net_plotter.py):
 * a Gaussian direction d (hostRng(seed), one standard normal per parameter, in layout order) is
 * rescaled per FILTER so that each filter of d has the norm of the same filter of theta,
 *   d_{i,j} <- d_{i,j} ||theta_{i,j}|| / (||d_{i,j}|| + 1e-10)
 * (their epsilon; a filter of theta that is all zeros gets a zero direction), where a filter is one output unit of a weight tensor: a row of a [out, in]
 * Linear weight, an output channel [in, k, k] of a [out, in, k, k] conv kernel; i.e. the
 * contiguous block of size/shape[0] entries of a row-major tensor (PyTorch state_dict shapes).
 * A step of 1 along d then perturbs every filter by its own norm, so slices are comparable across
 * layers and networks of different weight scales (a ReLU network is unchanged when one layer's
 * weights are multiplied by c and the next one's by 1/c, but an unnormalized slice is not).
 * `normalization: "layer"` rescales each weight tensor as a whole (their norm='layer'); "none"
 * leaves the Gaussian as it is.
 *
 * One-dimensional parameters (biases; also norm layers' weight/bias, which curvlab's models do not
 * have yet) are handled as their `ignore='biasbn'` option does by default: `biases: "zero"`
 * (default) sets them to zero, so the slice moves the weights only. `biases: "normalize"`
 * instead scales the Gaussian 1-D tensor as a whole to the norm of theta's tensor (one "filter"
 * of one number per unit would give every bias a direction of +-|b|, i.e. a coin flip per unit,
 * so the whole-tensor scaling is the useful variant); `biases: "copy"` sets d = theta on them,
 * which is what their code does when biasbn is not ignored. With normalization "none" a
 * "normalize" bias is left Gaussian.
 *
 * Two random directions are not orthogonalized: in high dimension they are nearly orthogonal
 * (cosine ~ 1/sqrt(n)), as Li et al. note; `cosine` reports it.
 *
 * Eigen-directions: the top-k eigenvectors of the Hessian (or another curvature operator) at theta,
 * by Lanczos with full reorthogonalization (linalg/lanczos.ts), unit norm.
 *
 * Trajectory PCA (Li et al. section 7, their plot_trajectory.py): with checkpoints theta_0..theta_m
 * and the final theta_n (the origin of the plot), the rows theta_i - theta_n form a matrix M; PCA
 * of M (centered, as their sklearn PCA centers the rows) gives the two directions that explain the
 * most of the path's variation, with their explained-variance ratios; each checkpoint's
 * coordinates are its projection (theta_i - theta_n) . d_j (uncentered, so the final point sits
 * at the origin, as in their project_trajectory). PCA goes through the small m x m Gram matrix
 * C C^T of the centered rows (eigh.ts), so the cost is O(m^2 n) for m checkpoints of n parameters.
 *
 * Signs: an eigenvector or principal direction is defined up to sign; each is made deterministic
 * by making its largest-magnitude entry positive.
 */
import { InputError } from "../errors.ts";
import { hostRng } from "../engine/host-rng.ts";
import type { ParamLayout } from "../tree/layout.ts";
import { layoutSize } from "../tree/layout.ts";
import { lanczosEigs, type LanczosOptions, type LanczosResult } from "../linalg/lanczos.ts";
import { eigh } from "../linalg/dense/eigh.ts";
import { denseMatrix } from "../linalg/dense/dense-matrix.ts";
import type { CurvatureOptions } from "../curvature/make.ts";
import { hostDot, type Objective } from "./objective.ts";

export type Normalization = "filter" | "layer" | "none";
export const NORMALIZATIONS: readonly Normalization[] = ["filter", "layer", "none"];
export type BiasHandling = "zero" | "normalize" | "copy";
export const BIAS_HANDLINGS: readonly BiasHandling[] = ["zero", "normalize", "copy"];

/** Li et al.'s epsilon in ||theta_f|| / (||d_f|| + EPS). */
export const FILTER_EPS = 1e-10;

export interface NormalizeOptions {
  /** Default "filter". */
  readonly normalization?: Normalization;
  /** Default "zero" (Li et al.'s ignore='biasbn'). */
  readonly biases?: BiasHandling;
}

export interface RandomDirectionOptions extends NormalizeOptions {
  /** Seed of the Gaussian (default 0). */
  readonly seed?: number;
}

function sqnorm(x: ArrayLike<number>, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return s;
}

/** Cosine of the angle between two host vectors (0 when either is zero). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const den = Math.sqrt(sqnorm(a) * sqnorm(b));
  return den > 0 ? hostDot(a, b) / den : 0;
}

/** d / ||d|| as a new vector (InputError for a zero vector). */
export function unitDirection(d: ArrayLike<number>, input = "direction"): Float64Array {
  const n = Math.sqrt(sqnorm(d));
  if (!(n > 0) || !Number.isFinite(n)) throw new InputError(input, `expected a non-zero finite vector, got norm ${n}`);
  return Float64Array.from(d, (v) => v / n);
}

function checkOption<T extends string>(input: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) throw new InputError(input, `expected one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * The filters of one parameter tensor: [start, end) ranges of the flat vector, one per output unit
 * (first axis) of a tensor with two or more axes.
 */
export function filterRanges(spec: { readonly offset: number; readonly size: number; readonly shape: readonly number[] }): [number, number][] {
  const rows = spec.shape[0] ?? 1;
  const per = rows > 0 ? spec.size / rows : 0;
  return Array.from({ length: rows }, (_, r) => [spec.offset + r * per, spec.offset + (r + 1) * per] as [number, number]);
}

function scaleRange(d: Float64Array, from: number, to: number, target: number): void {
  const s = target / (Math.sqrt(sqnorm(d, from, to)) + FILTER_EPS);
  for (let i = from; i < to; i++) d[i] *= s;
}

/**
 * Normalizes `direction` against `theta` in place, block by block of `layout` (module comment):
 * filter- or layer-wise for tensors of two or more axes, 1-D tensors by `biases`. Returns it.
 */
export function normalizeDirection(
  direction: Float64Array,
  layout: ParamLayout,
  theta: ArrayLike<number>,
  opts: NormalizeOptions = {},
): Float64Array {
  const normalization = checkOption("normalization", opts.normalization ?? "filter", NORMALIZATIONS);
  const biases = checkOption("biases", opts.biases ?? "zero", BIAS_HANDLINGS);
  const n = layoutSize(layout);
  if (direction.length !== n) throw new InputError("direction", `expected ${n} entries (the model's parameters), got ${direction.length}`);
  if (theta.length !== n) throw new InputError("theta", `expected ${n} entries (the model's parameters), got ${theta.length}`);
  for (const p of layout) {
    const end = p.offset + p.size;
    if (p.shape.length <= 1) {
      if (biases === "zero") direction.fill(0, p.offset, end);
      else if (biases === "copy") for (let i = p.offset; i < end; i++) direction[i] = theta[i];
      else if (normalization !== "none") scaleRange(direction, p.offset, end, Math.sqrt(sqnorm(theta, p.offset, end)));
      continue;
    }
    if (normalization === "filter") {
      for (const [a, b] of filterRanges(p)) scaleRange(direction, a, b, Math.sqrt(sqnorm(theta, a, b)));
    } else if (normalization === "layer") {
      scaleRange(direction, p.offset, end, Math.sqrt(sqnorm(theta, p.offset, end)));
    }
  }
  return direction;
}

/** A Gaussian direction (hostRng(seed)), normalized against theta (module comment). */
export function randomDirection(layout: ParamLayout, theta: ArrayLike<number>, opts: RandomDirectionOptions = {}): Float64Array {
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed)) throw new InputError("seed", `expected an integer, got ${seed}`);
  const n = layoutSize(layout);
  const rng = hostRng(seed);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = rng.normal();
  return normalizeDirection(d, layout, theta, opts);
}

/** Attaches host vectors as a non-enumerable `directions` field (kept out of JSON). */
function withDirections<T extends object>(result: T, directions: readonly Float64Array[]): T & { readonly directions: readonly Float64Array[] } {
  Object.defineProperty(result, "directions", { value: directions, enumerable: false, writable: false });
  return result as T & { readonly directions: readonly Float64Array[] };
}

/** Flips `d` in place so that its largest-magnitude entry is positive (a deterministic sign). */
export function fixSign(d: Float64Array): Float64Array {
  let k = 0;
  for (let i = 1; i < d.length; i++) if (Math.abs(d[i]) > Math.abs(d[k])) k = i;
  if (d[k] < 0) for (let i = 0; i < d.length; i++) d[i] = -d[i];
  return d;
}

export interface EigenDirectionOptions extends Pick<LanczosOptions, "tol" | "maxSteps" | "seed" | "onProgress"> {
  /** Which curvature operator (default the Hessian). */
  readonly curvature?: CurvatureOptions;
}

export interface EigenDirections {
  /** Unit eigenvectors, largest eigenvalue first; non-enumerable (not in JSON). */
  readonly directions: readonly Float64Array[];
  readonly eigenvalues: readonly number[];
  readonly residuals: readonly number[];
  readonly converged: readonly boolean[];
  readonly operator: string;
  /** The Lanczos run's settings (k, tolerance, maxSteps, seed, ...). */
  readonly settings: LanczosResult["settings"];
  readonly matvecs: number;
  readonly seconds: number;
}

/**
 * The top-k eigenvectors (algebraically largest eigenvalues) of the curvature at theta, by Lanczos
 * with full reorthogonalization; unit norm, signs fixed by fixSign.
 */
export async function eigenDirections(objective: Objective, theta: ArrayLike<number>, k: number, opts: EigenDirectionOptions = {}): Promise<EigenDirections> {
  const op = objective.curvature(theta, opts.curvature);
  let r: LanczosResult;
  try {
    r = await lanczosEigs(op, { k, which: "largest", vectors: true, tol: opts.tol, maxSteps: opts.maxSteps, seed: opts.seed, onProgress: opts.onProgress });
  } finally {
    op.dispose();
  }
  const vectors = r.vectors;
  if (!vectors || vectors.length < k) throw new Error(`eigenDirections: Lanczos returned ${vectors?.length ?? 0} vectors, expected ${k}`);
  const directions = vectors.slice(0, k).map((v) => fixSign(unitDirection(v)));
  const out = {
    eigenvalues: r.eigenvalues.slice(0, k),
    residuals: r.residuals.slice(0, k),
    converged: r.converged.slice(0, k),
    operator: r.operator,
    settings: r.settings,
    matvecs: r.matvecs,
    seconds: r.seconds,
  };
  return withDirections(out, directions);
}

export interface TrajectoryPcaOptions {
  /** Subtract the mean row before PCA, as sklearn's PCA (Li et al.'s code) does (default true). */
  readonly center?: boolean;
  /** Number of principal directions (default 2). */
  readonly components?: number;
}

export interface TrajectoryPca {
  /** Unit principal directions (largest variance first); non-enumerable (not in JSON). */
  readonly directions: readonly Float64Array[];
  /** Fraction of the (centered) variance of the rows theta_i - final each direction explains. */
  readonly explainedVarianceRatio: readonly number[];
  /** coordinates[i][j] = (thetas[i] - final) . directions[j]. */
  readonly coordinates: readonly (readonly number[])[];
  readonly checkpoints: number;
  readonly center: boolean;
  readonly components: number;
  readonly seconds: number;
}

/**
 * PCA of a trajectory of parameter vectors around `final` (default: the last of `thetas`); see
 * the module comment.
 */
export function trajectoryPca(thetas: readonly ArrayLike<number>[], final?: ArrayLike<number>, opts: TrajectoryPcaOptions = {}): TrajectoryPca {
  const t0 = performance.now();
  const m = thetas.length;
  const components = opts.components ?? 2;
  const center = opts.center ?? true;
  if (m < 2) throw new InputError("checkpoints", `PCA of a trajectory needs at least 2 checkpoints, got ${m}`);
  if (!Number.isInteger(components) || components < 1) throw new InputError("components", `expected a positive integer, got ${components}`);
  const ref = final ?? thetas[m - 1];
  const n = ref.length;
  thetas.forEach((t, i) => {
    if (t.length !== n) throw new InputError("checkpoints", `checkpoint ${i} has ${t.length} parameters, expected ${n}`);
  });
  const rows = thetas.map((t) => Float64Array.from(t, (v, i) => v - ref[i]));
  const centered = rows.map((r) => Float64Array.from(r));
  if (center) {
    const mean = new Float64Array(n);
    for (const r of rows) for (let i = 0; i < n; i++) mean[i] += r[i] / m;
    for (const r of centered) for (let i = 0; i < n; i++) r[i] -= mean[i];
  }
  const G = denseMatrix(m);
  for (let a = 0; a < m; a++) {
    for (let b = 0; b <= a; b++) {
      const v = hostDot(centered[a], centered[b]);
      G.data[a * m + b] = v;
      G.data[b * m + a] = v;
    }
  }
  const { values, vectors } = eigh(G, { vectors: true });
  let total = 0;
  for (const v of values) total += Math.max(0, v);
  if (!(total > 0)) throw new InputError("checkpoints", "the checkpoints do not move (all equal after centering); PCA has no direction");
  const available = values.filter((v) => v > 1e-12 * total).length;
  if (components > available) {
    throw new InputError("checkpoints", `the trajectory spans ${available} direction(s), ${components} asked for (give more distinct checkpoints)`);
  }
  const directions: Float64Array[] = [];
  const ratios: number[] = [];
  for (let c = 0; c < components; c++) {
    const j = m - 1 - c; // eigh is ascending
    const lambda = values[j];
    // Right singular vector of C: C^T u / sigma, sigma = sqrt(lambda).
    const d = new Float64Array(n);
    for (let a = 0; a < m; a++) {
      const u = vectors![a * m + j];
      if (u === 0) continue;
      const row = centered[a];
      for (let i = 0; i < n; i++) d[i] += u * row[i];
    }
    directions.push(fixSign(unitDirection(d, "checkpoints")));
    ratios.push(lambda / total);
  }
  const coordinates = rows.map((r) => directions.map((d) => hostDot(r, d)));
  const out = { explainedVarianceRatio: ratios, coordinates, checkpoints: m, center, components, seconds: (performance.now() - t0) / 1000 };
  return withDirections(out, directions);
}
