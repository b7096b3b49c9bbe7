/**
 * Spectral density by stochastic Lanczos quadrature (SLQ): Ubaru, Chen & Saad, "Fast estimation
 * of tr(f(A)) via stochastic Lanczos quadrature" (SIAM J. Matrix Anal. Appl., 2017); applied to
 * neural-network Hessians by Ghorbani, Krishnan & Xiao, "An investigation into neural net
 * optimization via Hessian eigenvalue density" (ICML 2019), as PyHessian does.
 *
 * The spectral density of A (n x n, symmetric) is phi(t) = (1/n) sum_k delta(t - lambda_k). For a
 * unit probe v, v^T f(A) v = sum_k (v . u_k)^2 f(lambda_k) is the same sum with random weights
 * whose mean is 1/n; m Lanczos steps from v give a Gauss quadrature rule (theta_i, w_i) for it,
 * exact for polynomials of degree <= 2m - 1 (lanczos-tridiagonal.ts). Averaging over p probes:
 *
 *   phi(t) ~ (1/p) sum_j sum_i w_ij delta(t - theta_ij),
 *
 * a discrete distribution of p m atoms (kept raw in the result), and, smoothed with a Gaussian
 * of width sigma, a density on a grid.
 *
 * Defaults (all printed into the result's settings):
 * - probes 10, steps 80 (PyHessian's density defaults to 1 probe and 100 steps; more probes
 *   average out the randomness of the weights). Steps are capped at n. Cost: p m products plus
 *   ~3 p m^2 n flops of full reorthogonalization; memory: the m x n Lanczos basis on the device.
 * - probes: Rademacher signs, normalized to unit length (v = z / sqrt(n)), as Ubaru et al. and
 *   PyHessian; `probe: "gaussian"` gives Gaussian vectors normalized (uniform on the sphere). For
 *   the trace, signs have the smaller variance (2 sum_{i != j} a_ij^2 instead of 2 ||A||_F^2).
 * - sigma = (theta_max - theta_min) / steps, the spread of all nodes of the run divided by m
 *   (if all nodes coincide: |theta| / steps, or 1 / steps when theta = 0).
 *   Why: m Lanczos steps match 2m - 1 moments, and polynomials of degree ~2m on an interval of
 *   length R resolve details of size ~R / m (Jackson's theorem), so features narrower than R / m
 *   are not in the data: a narrower kernel draws the individual Gauss nodes as spikes (artifacts
 *   of m, not of the spectrum), a wider one blurs what the run did resolve. For m = 80 it is
 *   1.25% of the range; PyHessian instead fixes the variance at 1e-5 max(1, R), which depends on
 *   the units of A. The range is dominated by outliers in a Hessian, so the bulk comes out as a
 *   bump of width ~R / m: look at the raw nodes, or at the log scale below, for its shape.
 * - grid 1000 points on [theta_min - 4 sigma, theta_max + 4 sigma]; the values are a density
 *   (they integrate to ~1; the result reports the trapezoid integral).
 * - logScale (off by default): the density of log10|lambda|, for spectra spread over decades.
 *   For a signed spectrum it has two parts on the same grid of u = log10|lambda|: `positive`
 *   (the atoms theta > 0 at log10 theta) and `negative` (the atoms theta < 0 at log10 |theta|),
 *   in probability per decade, plus `zeroMass`, the weight of atoms with |theta| <= floor, where
 *   floor = logFloor max|theta| (logFloor default 1e-6: about ten float32 roundoffs of ||A||,
 *   below which Ritz values of a float32 run are noise). The three masses sum to 1. The kernel
 *   width in decades is (log10 max|theta| - log10 floor) / steps by the same rule as sigma.
 *   The zero mass is meaningful when zero is an end of the spectrum (positive semidefinite
 *   Gauss-Newton or Fisher matrices), where Ritz values converge first; a cluster at zero inside
 *   an indefinite spectrum (a Hessian) converges slowly, and its weight sits on nearby Ritz
 *   values on either side of zero.
 *
 * Trace and Frobenius norm from the same run: sum_i w_ij theta_ij = v_j^T A v_j and
 * sum_i w_ij theta_ij^2 = ||A v_j||^2 (the first for any m, the second for m >= 2 steps), so
 * tr(A) ~ n mean_j sum_i w_ij theta_ij and ||A||_F^2 ~ n mean_j sum_i w_ij theta_ij^2 are unbiased
 * (E[v v^T] = I / n for both probe kinds), with standard errors n std_j / sqrt(p) over probes.
 */
import type { LinearOperator } from "../curvature/operator.ts";
import { InputError } from "../errors.ts";
import { gaussQuadrature, lanczosTridiagonal } from "./lanczos-tridiagonal.ts";
import {
  checkInteger,
  checkOperator,
  checkPositive,
  checkSeed,
  PROBE_KINDS,
  probeSeeds,
  probeVector,
  sampleStats,
  secondsSince,
  type ProbeKind,
} from "./sampling.ts";
import { journaled, type Journal } from "./journal.ts";

export interface SpectralDensityOptions {
  /** Number of probe vectors (default 10). */
  readonly probes?: number;
  /** Lanczos steps per probe (default 80; capped at the operator's size). */
  readonly steps?: number;
  /** Seed of the probes (default 0). */
  readonly seed?: number;
  /** Probe distribution (default "rademacher"), normalized to unit length. */
  readonly probe?: ProbeKind;
  /** Gaussian broadening width (default: (max node - min node) / steps). */
  readonly sigma?: number;
  /** Grid points of the density (default 1000). */
  readonly grid?: number;
  /** Also compute the density of log10|lambda| (default false). */
  readonly logScale?: boolean;
  /** |lambda| <= logFloor * max|theta| counts as zero on the log scale (default 1e-6). */
  readonly logFloor?: number;
  /** Broadening width on the log scale, in decades (default: the decades spanned / steps). */
  readonly logSigma?: number;
  /** Called after each product with (products done, products planned). */
  readonly onProgress?: (done: number, total: number) => void;
  /** Saves each probe's rule as it finishes and takes saved ones back (resumable runs). */
  readonly journal?: Journal;
}

/** The quadrature rule of one probe: the raw SLQ output. */
export interface SlqQuadrature {
  /** Ritz values, ascending. */
  readonly nodes: readonly number[];
  /** Their weights (positive, summing to 1). */
  readonly weights: readonly number[];
  readonly steps: number;
  /** Residual norm after the last step (0 at an invariant subspace). */
  readonly residual: number;
  /** Stopped early on an invariant subspace (the rule is then exact for this probe). */
  readonly breakdown: boolean;
}

export interface GridDensity {
  /** Grid points. */
  readonly x: readonly number[];
  /** Density values at x. */
  readonly y: readonly number[];
  readonly sigma: number;
  /** Trapezoid integral of y over the grid (~1). */
  readonly integral: number;
}

export interface LogDensity {
  /** Grid of u = log10|lambda|. */
  readonly x: readonly number[];
  /** Density (per decade) of log10(theta) over the atoms theta > floor. */
  readonly positive: readonly number[];
  /** Density (per decade) of log10(-theta) over the atoms theta < -floor. */
  readonly negative: readonly number[];
  /** Width of the kernel, in decades. */
  readonly sigma: number;
  /** |theta| <= floor counts as zero. */
  readonly floor: number;
  readonly positiveMass: number;
  readonly negativeMass: number;
  readonly zeroMass: number;
}

export interface MomentEstimate {
  readonly estimate: number;
  /** Standard error over probes; null with one probe. */
  readonly standardError: number | null;
  /** The per-probe estimates. */
  readonly samples: readonly number[];
}

export interface SpectralDensitySettings {
  readonly probes: number;
  readonly steps: number;
  readonly seed: number;
  readonly probe: ProbeKind;
  readonly sigma: number;
  readonly sigmaRule: string;
  readonly grid: number;
  readonly logScale: boolean;
  readonly logFloor: number;
  readonly logSigma: number | null;
}

export interface SpectralDensity {
  readonly method: string;
  readonly size: number;
  readonly settings: SpectralDensitySettings;
  /** One rule per probe. */
  readonly quadrature: readonly SlqQuadrature[];
  /** Smallest and largest node over all probes (estimates of the extreme eigenvalues). */
  readonly range: { readonly min: number; readonly max: number };
  readonly density: GridDensity;
  readonly logDensity: LogDensity | null;
  /** tr(A) = n mean_j sum_i w_ij theta_ij. */
  readonly trace: MomentEstimate;
  /** ||A||_F^2 = n mean_j sum_i w_ij theta_ij^2. */
  readonly frobeniusSquared: MomentEstimate;
  readonly matvecs: number;
  readonly seconds: number;
}

export const SLQ_DEFAULTS = { probes: 10, steps: 80, seed: 0, probe: "rademacher", grid: 1000, logFloor: 1e-6 } as const;
const SIGMA_RULE = "(max node - min node) / steps";
const PAD = 4; // grid margin in sigmas: a Gaussian keeps 1 - 6e-5 of its mass within 4 sigma

/**
 * The quadrature rule of probe `index` of the run with this seed: what `spectralDensity` computes
 * for each probe, exposed so that a long run can be done (or resumed) probe by probe and then
 * summarized with `summarizeSlq`.
 */
export async function slqQuadrature(
  op: LinearOperator,
  opts: { readonly seed: number; readonly index: number; readonly steps: number; readonly probe?: ProbeKind; readonly onStep?: () => void },
): Promise<SlqQuadrature> {
  const probeSeed = probeSeeds(opts.seed, opts.index + 1)[opts.index];
  const v = probeVector(opts.probe ?? SLQ_DEFAULTS.probe, probeSeed, op.size, op.dtype);
  try {
    const t = await lanczosTridiagonal(op, v, opts.steps, opts.onStep);
    const q = gaussQuadrature(t.alpha, t.beta);
    return { nodes: Array.from(q.nodes), weights: Array.from(q.weights), steps: t.steps, residual: t.residual, breakdown: t.breakdown };
  } finally {
    v.dispose();
  }
}

export async function spectralDensity(op: LinearOperator, opts: SpectralDensityOptions = {}): Promise<SpectralDensity> {
  checkOperator(op);
  const probes = checkInteger("probes", opts.probes ?? SLQ_DEFAULTS.probes, 1);
  const steps = checkInteger("steps", opts.steps ?? SLQ_DEFAULTS.steps, 1);
  const seed = checkSeed(opts.seed ?? SLQ_DEFAULTS.seed);
  const probe = opts.probe ?? SLQ_DEFAULTS.probe;
  if (!PROBE_KINDS.includes(probe)) throw new InputError("probe", `expected one of ${PROBE_KINDS.join(", ")}, got "${probe}"`);
  if (opts.sigma !== undefined) checkPositive("sigma", opts.sigma);
  const grid = checkInteger("grid", opts.grid ?? SLQ_DEFAULTS.grid, 2);
  const logFloor = opts.logFloor ?? SLQ_DEFAULTS.logFloor;
  if (!(logFloor > 0 && logFloor < 1)) throw new InputError("logFloor", `expected a number in (0, 1), got ${logFloor}`);
  if (opts.logSigma !== undefined) checkPositive("logSigma", opts.logSigma);

  const t0 = performance.now();
  const before = op.matvecs;
  const m = Math.min(steps, op.size);
  const total = probes * m;
  const quadrature: SlqQuadrature[] = [];
  let done = 0;
  for (let j = 0; j < probes; j++) {
    const q = await journaled(opts.journal, `slq-probe-${j}`, () =>
      slqQuadrature(op, { seed, index: j, steps, probe, onStep: () => opts.onProgress?.(++done, total) }),
    );
    // A probe that broke down used fewer products than planned: report progress as complete.
    done = (j + 1) * m;
    quadrature.push(q);
  }
  const summary = summarizeSlq(op.size, quadrature, { steps: m, sigma: opts.sigma, grid, logScale: opts.logScale ?? false, logFloor, logSigma: opts.logSigma });
  return {
    method: `stochastic Lanczos quadrature (${probes} ${probe} probes x ${m} steps, full reorthogonalization)`,
    size: op.size,
    settings: {
      probes,
      steps: m,
      seed,
      probe,
      sigma: summary.density.sigma,
      sigmaRule: opts.sigma !== undefined ? "given" : SIGMA_RULE,
      grid,
      logScale: opts.logScale ?? false,
      logFloor,
      logSigma: summary.logDensity?.sigma ?? null,
    },
    quadrature,
    ...summary,
    // Products of this run (probes taken from a journal cost nothing now).
    matvecs: op.matvecs - before,
    seconds: secondsSince(t0),
  };
}

export interface SlqSummaryOptions {
  /** Lanczos steps per probe (for the default widths). */
  readonly steps: number;
  readonly sigma?: number;
  readonly grid: number;
  readonly logScale: boolean;
  readonly logFloor: number;
  readonly logSigma?: number;
}

/**
 * Densities and moment estimates from the rules of a run (e.g. rules saved by an interrupted run
 * and completed later). `n` is the operator's size.
 */
export function summarizeSlq(
  n: number,
  quadrature: readonly SlqQuadrature[],
  opts: SlqSummaryOptions,
): Pick<SpectralDensity, "range" | "density" | "logDensity" | "trace" | "frobeniusSquared"> {
  const p = quadrature.length;
  if (p === 0) throw new InputError("quadrature", "expected at least one probe's rule");
  let min = Infinity, max = -Infinity;
  for (const q of quadrature) for (const t of q.nodes) {
    min = Math.min(min, t);
    max = Math.max(max, t);
  }
  const tr = quadrature.map((q) => n * q.nodes.reduce((s, t, i) => s + q.weights[i] * t, 0));
  const fro = quadrature.map((q) => n * q.nodes.reduce((s, t, i) => s + q.weights[i] * t * t, 0));
  const moment = (samples: number[]): MomentEstimate => {
    const s = sampleStats(samples);
    return { estimate: s.mean, standardError: s.standardError, samples };
  };
  const span = max > min ? max - min : Math.abs(max) > 0 ? Math.abs(max) : 1;
  const sigma = opts.sigma ?? span / opts.steps;
  const atoms = quadrature.flatMap((q) => q.nodes.map((t, i) => [t, q.weights[i] / p] as const));
  return {
    range: { min, max },
    density: broaden(atoms, sigma, min - PAD * sigma, max + PAD * sigma, opts.grid),
    logDensity: opts.logScale ? logBroaden(atoms, opts) : null,
    trace: moment(tr),
    frobeniusSquared: moment(fro),
  };
}

/** sum_a w_a N(x; t_a, sigma^2) on `grid` points of [lo, hi]. */
function gaussianSum(atoms: readonly (readonly [number, number])[], sigma: number, lo: number, hi: number, grid: number): { x: number[]; y: number[]; integral: number } {
  const h = (hi - lo) / (grid - 1);
  const x = Array.from({ length: grid }, (_, k) => lo + k * h);
  const y = new Float64Array(grid);
  const c = 1 / (sigma * Math.sqrt(2 * Math.PI));
  const reach = 9 * sigma; // exp(-40.5) ~ 3e-18 of the peak: negligible beyond
  for (const [t, w] of atoms) {
    if (w === 0) continue;
    const k0 = Math.max(0, Math.ceil((t - reach - lo) / h));
    const k1 = Math.min(grid - 1, Math.floor((t + reach - lo) / h));
    for (let k = k0; k <= k1; k++) {
      const z = (x[k] - t) / sigma;
      y[k] += w * c * Math.exp(-0.5 * z * z);
    }
  }
  let integral = 0;
  for (let k = 0; k < grid; k++) integral += (k === 0 || k === grid - 1 ? 0.5 : 1) * y[k] * h;
  return { x, y: Array.from(y), integral };
}

function broaden(atoms: readonly (readonly [number, number])[], sigma: number, lo: number, hi: number, grid: number): GridDensity {
  const g = gaussianSum(atoms, sigma, lo, hi, grid);
  return { x: g.x, y: g.y, sigma, integral: g.integral };
}

function logBroaden(atoms: readonly (readonly [number, number])[], opts: SlqSummaryOptions): LogDensity {
  let maxAbs = 0;
  for (const [t] of atoms) maxAbs = Math.max(maxAbs, Math.abs(t));
  const floor = opts.logFloor * maxAbs;
  const pos: [number, number][] = [], neg: [number, number][] = [];
  let zeroMass = 0, positiveMass = 0, negativeMass = 0;
  for (const [t, w] of atoms) {
    if (Math.abs(t) <= floor) zeroMass += w;
    else if (t > 0) { pos.push([Math.log10(t), w]); positiveMass += w; }
    else { neg.push([Math.log10(-t), w]); negativeMass += w; }
  }
  // An all-zero spectrum: one decade below "1" so that the grid is still an interval.
  const uHi = maxAbs > 0 ? Math.log10(maxAbs) : 0;
  const uLo = maxAbs > 0 ? Math.log10(floor) : -1;
  const sigma = opts.logSigma ?? (uHi - uLo) / opts.steps;
  const lo = uLo - PAD * sigma, hi = uHi + PAD * sigma;
  const p = gaussianSum(pos, sigma, lo, hi, opts.grid);
  const nn = gaussianSum(neg, sigma, lo, hi, opts.grid);
  return { x: p.x, positive: p.y, negative: nn.y, sigma, floor, positiveMass, negativeMass, zeroMass };
}
