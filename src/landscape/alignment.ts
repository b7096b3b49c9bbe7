/**
 * Hessian and gradient alignment across two domains (datasets), after Hemati, Zhang, Estiri &
 * Wang 2023, "Understanding Hessian Alignment for Domain Generalization" (ICCV 2023): the closer
 * the classifier-head Hessians (and gradients) of two domains, the better a model transfers
 * between them. Hemati et al. align Hessians through two cheap estimators, Hessian-gradient
 * products (HGP) and Hutchinson's diagonal estimate; here they are MEASURED, with standard errors.
 *
 * Given two objectives (the same model on domain 1 and domain 2) and a parameter block B (default
 * in `modelHessianAlignment`: the last layer, the classifier head), with H_k the Hessian of
 * domain k restricted to B (the principal submatrix H_k[B, B]), g_k the gradient of domain k,
 * g_k|B its block part, and D = H1 - H2:
 * - ||D||_F^2 by Hutchinson: E||D z||^2 = tr(D^T D) for z with independent Rademacher entries.
 *   Estimate: the mean of ||D z_j||^2 over m probes; standard error: sample std / sqrt(m).
 * - ||diag(H1) - diag(H2)||^2 from Hutchinson diagonal estimates (Bekas et al. 2007):
 *   x_j = z_j * (D z_j) has E x_j = diag(D). The plug-in ||mean_j x_j||^2 is biased upward by the
 *   estimates' variance (sum_i Var(x_ji)/m), so the estimate is the unbiased U-statistic
 *   (1/(m(m-1))) sum_{j != k} x_j . x_k = (||sum_j x_j||^2 - sum_j ||x_j||^2) / (m(m-1)),
 *   with a jackknife standard error (leave-one-probe-out, closed form). The plug-in is reported too.
 * - HGP: ||H1 g1|B - H2 g2|B||^2, exact (two products), with ||H_k g_k|B|| and their cosine.
 * - Gradients: ||g1 - g2|| and cos(g1, g2), on the block and on all parameters; exact.
 * Every probe z_j multiplies BOTH Hessians (common random numbers): D z_j costs two products and
 * the difference's variance is that of D, not of H1 and H2 separately.
 *
 * Defaults: 100 probes, seed 0 (probe j depends only on (seed, j), as in hutchinson.ts), float64.
 * Cost: 2 (m + 1) Hessian-vector products on the full model (a block product embeds the block
 * vector in zeros: block.ts) and 2 gradients.
 */
import type { DTypeName } from "../engine/dtype.ts";
import type { Dataset } from "../data/dataset.ts";
import type { Model } from "../nn/model.ts";
import type { LossName } from "../nn/loss.ts";
import { restrictOperator } from "../curvature/block.ts";
import type { LinearOperator } from "../curvature/operator.ts";
import { blockRange } from "../tree/layout.ts";
import { probeSeeds, probeVector, readHost, sampleStats, checkInteger, checkSeed } from "../linalg/sampling.ts";
import { optionError } from "../errors.ts";
import { fromHost } from "../tree/vector.ts";
import { hostDot, modelObjective, type Objective } from "./objective.ts";

export const ALIGNMENT_DEFAULTS = { probes: 100, seed: 0 } as const;

export interface AlignmentBlock {
  /** Parameter or layer name ("2" = "2.weight" + "2.bias"), for results. */
  readonly name: string;
  readonly offset: number;
  readonly size: number;
}

export interface AlignmentOptions {
  /** Rademacher probes (default 100; at least 2 for standard errors, 3 for the diagonal's). */
  readonly probes?: number;
  readonly seed?: number;
  /** The block; default: all parameters. */
  readonly block?: AlignmentBlock;
  /** After each probe: (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface StochasticEstimate {
  readonly estimate: number;
  readonly standardError: number | null;
}

export interface AlignmentResult {
  readonly method: string;
  readonly settings: {
    readonly probes: number;
    readonly seed: number;
    readonly probe: "rademacher";
    readonly block: string;
    readonly blockOffset: number;
    readonly blockSize: number;
    readonly parameters: number;
    readonly dtype: DTypeName;
    readonly domain1: string;
    readonly domain2: string;
  };
  /** ||H1 - H2||_F^2 (Hutchinson), and its square root (the Frobenius distance, plug-in). */
  readonly hessianFrobeniusSquared: StochasticEstimate & { readonly frobenius: number };
  /** ||diag(H1) - diag(H2)||^2 (U-statistic of Hutchinson diagonals; jackknife s.e.). */
  readonly diagonalDistanceSquared: StochasticEstimate & { readonly plugIn: number };
  /** Hutchinson traces of each block Hessian (from the same probes), for scale. */
  readonly traces: readonly [StochasticEstimate, StochasticEstimate];
  /** Hessian-gradient products on the block, exact. */
  readonly hgp: {
    readonly distanceSquared: number;
    readonly norm1: number;
    readonly norm2: number;
    readonly cosine: number;
  };
  readonly gradients: {
    readonly block: GradientComparison;
    readonly all: GradientComparison;
  };
  readonly cost: { readonly hessianVectorProducts: number; readonly gradients: number; readonly seconds: number };
}

export interface GradientComparison {
  readonly distance: number;
  readonly norm1: number;
  readonly norm2: number;
  /** null when a gradient is zero. */
  readonly cosine: number | null;
}

function compare(a: ArrayLike<number>, b: ArrayLike<number>): GradientComparison {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += (a[i] - b[i]) ** 2;
  const n1 = Math.sqrt(hostDot(a, a)), n2 = Math.sqrt(hostDot(b, b));
  return { distance: Math.sqrt(d), norm1: n1, norm2: n2, cosine: n1 > 0 && n2 > 0 ? hostDot(a, b) / (n1 * n2) : null };
}

/** The block Hessian of an objective at theta (the caller disposes it). */
function blockHessian(obj: Objective, theta: ArrayLike<number>, block: AlignmentBlock): LinearOperator {
  const full = obj.curvature(theta, { operator: "hessian" });
  return block.offset === 0 && block.size === obj.size ? full : restrictOperator(full, block.offset, block.size, block.name);
}

/**
 * Hessian and gradient alignment of two objectives of the same parameters at theta (module
 * comment for every quantity).
 */
export async function hessianAlignment(
  obj1: Objective,
  obj2: Objective,
  theta: ArrayLike<number>,
  opts: AlignmentOptions = {},
): Promise<AlignmentResult> {
  const t0 = performance.now();
  if (obj1.size !== obj2.size) throw optionError("data2", `the two objectives have ${obj1.size} and ${obj2.size} parameters`);
  if (obj1.dtype !== obj2.dtype) throw optionError("data2", `the two objectives compute in ${obj1.dtype} and ${obj2.dtype}`);
  const m = checkInteger("probes", opts.probes ?? ALIGNMENT_DEFAULTS.probes, 3);
  const seed = checkSeed(opts.seed ?? ALIGNMENT_DEFAULTS.seed);
  const block = opts.block ?? { name: "all", offset: 0, size: obj1.size };
  if (!(Number.isInteger(block.offset) && Number.isInteger(block.size) && block.offset >= 0 && block.size > 0 && block.offset + block.size <= obj1.size)) {
    throw optionError("block", `[${block.offset}, ${block.offset + block.size}) is not a block of ${obj1.size} parameters`);
  }
  const dtype = obj1.dtype;
  const n = block.size;
  const g1 = await obj1.gradient(theta), g2 = await obj2.gradient(theta);
  const b1 = g1.subarray(block.offset, block.offset + n), b2 = g2.subarray(block.offset, block.offset + n);
  const H1 = blockHessian(obj1, theta, block), H2 = blockHessian(obj2, theta, block);
  try {
    // HGP: exact products with each domain's own block gradient.
    const v1 = fromHost(b1, dtype), v2 = fromHost(b2, dtype);
    const hg1 = await readHost(H1.matvec(v1)), hg2 = await readHost(H2.matvec(v2));
    v1.dispose(), v2.dispose();
    let hgpD = 0;
    for (let i = 0; i < n; i++) hgpD += (hg1[i] - hg2[i]) ** 2;
    const hn1 = Math.sqrt(hostDot(hg1, hg1)), hn2 = Math.sqrt(hostDot(hg2, hg2));

    // Probes: D z_j = H1 z_j - H2 z_j.
    const seeds = probeSeeds(seed, m);
    const frob: number[] = [], tr1: number[] = [], tr2: number[] = [];
    const xs: Float64Array[] = [];
    const sum = new Float64Array(n);
    for (let j = 0; j < m; j++) {
      const z = probeVector("rademacher", seeds[j], n, dtype);
      const [zh, a, b] = await Promise.all([readHost(z.ref), readHost(H1.matvec(z)), readHost(H2.matvec(z))]);
      z.dispose();
      const x = new Float64Array(n);
      let s = 0, t1 = 0, t2 = 0;
      for (let i = 0; i < n; i++) {
        const d = a[i] - b[i];
        s += d * d;
        x[i] = zh[i] * d;
        sum[i] += x[i];
        t1 += zh[i] * a[i];
        t2 += zh[i] * b[i];
      }
      frob.push(s), tr1.push(t1), tr2.push(t2), xs.push(x);
      opts.onProgress?.(j + 1, m);
    }
    const f = sampleStats(frob);
    const diag = diagonalUStatistic(xs, sum);
    const st = (v: number[]): StochasticEstimate => {
      const s = sampleStats(v);
      return { estimate: s.mean, standardError: s.standardError };
    };
    return {
      method: "Hessian alignment: Hutchinson ||H1-H2||_F^2, Hutchinson diagonals, Hessian-gradient products (Hemati et al. 2023)",
      settings: {
        probes: m, seed, probe: "rademacher", block: block.name, blockOffset: block.offset, blockSize: n,
        parameters: obj1.size, dtype, domain1: obj1.description, domain2: obj2.description,
      },
      hessianFrobeniusSquared: { estimate: f.mean, standardError: f.standardError, frobenius: Math.sqrt(Math.max(0, f.mean)) },
      diagonalDistanceSquared: diag,
      traces: [st(tr1), st(tr2)],
      hgp: { distanceSquared: hgpD, norm1: hn1, norm2: hn2, cosine: hn1 > 0 && hn2 > 0 ? hostDot(hg1, hg2) / (hn1 * hn2) : NaN },
      gradients: { block: compare(b1, b2), all: compare(g1, g2) },
      cost: { hessianVectorProducts: H1.matvecs + H2.matvecs, gradients: 2, seconds: (performance.now() - t0) / 1000 },
    };
  } finally {
    H1.dispose();
    H2.dispose();
  }
}

/**
 * U = (||S||^2 - sum_j ||x_j||^2) / (m(m-1)) with S = sum_j x_j: unbiased for ||E x||^2. The
 * jackknife standard error uses the leave-one-out values in closed form:
 * U_(-j) = (||S - x_j||^2 - (Q - ||x_j||^2)) / ((m-1)(m-2)), Q = sum_j ||x_j||^2.
 */
export function diagonalUStatistic(xs: readonly Float64Array[], sum: Float64Array): StochasticEstimate & { readonly plugIn: number } {
  const m = xs.length;
  const S2 = hostDot(sum, sum);
  const norms = xs.map((x) => hostDot(x, x));
  const Q = norms.reduce((a, b) => a + b, 0);
  const U = (S2 - Q) / (m * (m - 1));
  const loo = xs.map((x, j) => (S2 - 2 * hostDot(sum, x) + norms[j] - (Q - norms[j])) / ((m - 1) * (m - 2)));
  const mean = loo.reduce((a, b) => a + b, 0) / m;
  const v = ((m - 1) / m) * loo.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { estimate: U, standardError: Math.sqrt(v), plugIn: S2 / (m * m) };
}

/** The last layer's block of a model (its classifier head): the prefix of its last parameter's name. */
export function headBlock(model: Model, name?: string): AlignmentBlock {
  const last = model.layout[model.layout.length - 1];
  const block = name ?? last.name.split(".")[0];
  const r = blockRange(model.layout, block);
  return { name: block, offset: r.offset, size: r.size };
}

/** A copy of `ds` with every row's features shifted by `shift` (length = features per row, or 1). */
export function shiftFeatures(ds: Dataset, shift: ArrayLike<number>, name?: string): Dataset {
  const d = ds.featureShape.reduce((a, b) => a * b, 1);
  if (shift.length !== d && shift.length !== 1) {
    throw optionError("shift", `expected 1 or ${d} numbers (features per row of "${ds.name}"), got ${shift.length}`);
  }
  for (let i = 0; i < shift.length; i++) if (!Number.isFinite(shift[i])) throw optionError("shift", `entry ${i} is not finite (${shift[i]})`);
  const x = ds.x instanceof Float64Array ? new Float64Array(ds.x.length) : new Float32Array(ds.x.length);
  for (let i = 0; i < x.length; i++) x[i] = ds.x[i] + shift[shift.length === 1 ? 0 : i % d];
  const label = shift.length === 1 ? String(shift[0]) : `[${Array.from(shift, (v) => Number(v.toPrecision(4))).join(",")}]`;
  return { ...ds, x, name: name ?? `${ds.name} shifted by ${label}` };
}

export interface ModelAlignmentOptions extends Omit<AlignmentOptions, "block"> {
  /** Block name; default: the last layer (the classifier head). */
  readonly block?: string;
  readonly loss?: LossName;
  /** Default "float64". */
  readonly dtype?: DTypeName;
  readonly batchSize?: number;
}

/** `hessianAlignment` of a model on two datasets, on its classifier head by default. */
export async function modelHessianAlignment(
  model: Model,
  data1: Dataset,
  data2: Dataset,
  theta: ArrayLike<number>,
  opts: ModelAlignmentOptions = {},
): Promise<AlignmentResult> {
  const block = headBlock(model, opts.block);
  const o = { loss: opts.loss, dtype: opts.dtype ?? "float64", batchSize: opts.batchSize } as const;
  const obj1 = modelObjective(model, data1, o);
  let obj2: Objective | null = null;
  try {
    obj2 = modelObjective(model, data2, o);
    return await hessianAlignment(obj1, obj2, theta, { probes: opts.probes, seed: opts.seed, onProgress: opts.onProgress, block });
  } finally {
    obj1.dispose();
    obj2?.dispose();
  }
}
