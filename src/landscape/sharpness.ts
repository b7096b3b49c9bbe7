/**
 * Sharpness of the loss at a point theta: four measures, each on an `Objective` (so each is
 * tested on a quadratic with known Hessian), and `sharpness()` that reports them together.
 *
 * - Top Hessian eigenvalue lambda_max: Lanczos with full reorthogonalization (linalg/lanczos.ts,
 *   k = 1, which "largest"). The curvature along the sharpest direction; what the linear
 *   stability of gradient descent depends on (stability.ts).
 * - Hessian trace tr(H): Hutchinson's estimator (linalg/hutchinson.ts, Rademacher probes), with
 *   its standard error. Default 20 probes: a landscape survey wants the order of magnitude;
 *   ask for more probes for a tighter error bar.
 * - epsilon-sharpness of Keskar, Mudigere, Nocedal, Smelyanskiy & Tang, "On Large-Batch Training
 *   for Deep Learning: Generalization Gap and Sharp Minima" (ICLR 2017), the full-space variant
 *   (their A = I_n): with the box C_eps = { y : |y_i| <= eps (|x_i| + 1) },
 *       phi_eps(x) = 100 (max_{y in C_eps} f(x + y) - f(x)) / (1 + f(x)).
 *   Keskar et al. solve the inner maximization with L-BFGS-B. Here: projected sign-gradient
 *   ascent in the box (the l_inf PGD of Madry et al. 2018) with a step of two half-widths, so
 *   each step lands on the vertex y = r * sign(grad f(x + y)) (r_i = eps (|x_i| + 1)), the box's
 *   maximizer of the linearized loss: the conditional-gradient (Frank-Wolfe) step with unit step
 *   length. For a convex f each step cannot decrease f (f(y') >= f(y) + g^T (y' - y) >= f(y)),
 *   and near a minimum with eps ~ 1e-3 the loss is close to its convex quadratic model; the
 *   maximum of a convex quadratic over a box is at a vertex. A vertex that repeats ends the
 *   start. Starts: y = 0 (the first step goes to the vertex of the gradient at x; when that
 *   gradient is ~0, see `isFlat`, a seeded random vertex instead), then `restarts` seeded random
 *   vertices. Maximizing a convex quadratic over a box is NP-hard in general (it contains
 *   max-cut), so any method, L-BFGS-B included, returns a lower bound on the true maximum: the
 *   best point evaluated is reported, with its vertex hits. Defaults: eps 1e-3 (Keskar et al. use
 *   1e-3 and 5e-4), 10 steps, 2 restarts. Cost: one evaluation and one gradient per step.
 * - SAM worst-case loss of Foret, Kleiner, Mobahi & Neyshabur, "Sharpness-Aware Minimization for
 *   Efficiently Improving Generalization" (ICLR 2021): max_{||e|| <= rho} f(x + e), and the
 *   SAM sharpness (that maximum - f(x)). SAM takes ONE step e = rho g / ||g||. Here: `steps`
 *   steps of normalized gradient ascent projected onto the ball with an unbounded step, i.e.
 *   e <- rho grad f(x + e) / ||grad f(x + e)||, the ball's maximizer of the linearized loss (the
 *   conditional-gradient step again; monotone for convex f). On a quadratic this is the
 *   iteration e <- rho (g + A e) / ||g + A e||, whose fixed point is the trust-region solution
 *   ((mu I - A) e = g, ||e|| = rho, mu >= lambda_max); at a stationary point it is power
 *   iteration, converging to 0.5 lambda_max rho^2. The first step's value (SAM's own estimate)
 *   is reported too. Start when the gradient is ~0 (`isFlat`): the given direction (sharpness()
 *   passes Lanczos's top eigenvector, the exact answer for a quadratic at its minimum), else a
 *   seeded Gaussian direction. Defaults: rho 0.05 (Foret et al.'s default), 10 steps. Cost: one
 *   evaluation and one gradient per step.
 *
 * "~0 gradient" (isFlat): rho ||g|| <= 1e-12 max(1, |f(x)|), a first-order gain below the
 * roundoff of the loss, where the gradient's direction is noise.
 *
 * All results are readonly JSON with their settings, values, cost (evaluations, gradients,
 * curvature products) and seconds. Thetas are host vectors.
 */
import type { Objective } from "./objective.ts";
import { hostNorm } from "./objective.ts";
import { lanczosEigs } from "../linalg/lanczos.ts";
import { hutchinsonTrace } from "../linalg/hutchinson.ts";
import { hostRng } from "../engine/host-rng.ts";
import { InputError } from "../errors.ts";
import { checkInteger, checkPositive } from "../validate.ts";

export interface SharpnessCost {
  readonly evaluations: number;
  readonly gradients: number;
  /** Curvature (Hessian-vector) products. */
  readonly matvecs: number;
  readonly seconds: number;
}

export const SHARPNESS_DEFAULTS = {
  /** Lanczos relative residual tolerance (float64; float32 objectives get 1e-4). */
  lanczosTol: 1e-8,
  traceProbes: 20,
  epsilon: 1e-3,
  boxSteps: 10,
  boxRestarts: 2,
  rho: 0.05,
  ballSteps: 10,
  seed: 0,
} as const;

/** Relative size of rho ||g|| against the loss below which the gradient counts as zero. */
export const FLAT_GRADIENT = 1e-12;

export function isFlat(gradNorm: number, loss: number, radius: number): boolean {
  return !(radius * gradNorm > FLAT_GRADIENT * Math.max(1, Math.abs(loss)));
}

function checkTheta(objective: Objective, theta: ArrayLike<number>): void {
  if (theta.length !== objective.size) throw new InputError("theta", `expected ${objective.size} parameters, got ${theta.length}`);
  for (let i = 0; i < theta.length; i++) {
    if (!Number.isFinite(theta[i])) throw new InputError("theta", `parameter ${i} is not finite (${theta[i]})`);
  }
}

const positive = checkPositive;

function count(name: string, v: number, min: number): number {
  return checkInteger(name, v, { min });
}

/** Cost counters of an objective, to difference around one measure. */
function meter(objective: Objective) {
  const t0 = performance.now(), e0 = objective.evaluations, g0 = objective.gradients;
  return (matvecs = 0): SharpnessCost => ({
    evaluations: objective.evaluations - e0,
    gradients: objective.gradients - g0,
    matvecs,
    seconds: (performance.now() - t0) / 1000,
  });
}

// ---------------------------------------------------------------------------------------------
// Top eigenvalue

export interface TopEigenvalueOptions {
  readonly tol?: number;
  readonly maxSteps?: number;
  readonly seed?: number;
}

export interface TopEigenvalue {
  readonly method: string;
  readonly value: number;
  /** ||H y - lambda y|| of the Ritz pair. */
  readonly residual: number;
  readonly converged: boolean;
  readonly settings: { readonly tol: number; readonly seed: number };
  readonly cost: SharpnessCost;
  /** Unit eigenvector (host); non-enumerable (not in JSON). */
  readonly vector?: Float64Array;
}

export async function topEigenvalue(objective: Objective, theta: ArrayLike<number>, opts: TopEigenvalueOptions = {}): Promise<TopEigenvalue> {
  checkTheta(objective, theta);
  const m = meter(objective);
  const tol = opts.tol ?? (objective.dtype === "float64" ? SHARPNESS_DEFAULTS.lanczosTol : 1e-4);
  const seed = opts.seed ?? SHARPNESS_DEFAULTS.seed;
  const op = objective.curvature(theta);
  try {
    // k = 1 with confirmation: a repeated top eigenvalue is still found once, which is all we need.
    const r = await lanczosEigs(op, { k: 1, which: "largest", tol, seed, maxSteps: opts.maxSteps, vectors: true });
    const result: TopEigenvalue = {
      method: r.method,
      value: r.eigenvalues[0]!,
      residual: r.residuals[0]!,
      converged: r.converged[0]!,
      settings: { tol, seed },
      cost: m(op.matvecs),
    };
    return Object.defineProperty(result, "vector", { value: r.vectors?.[0], enumerable: false });
  } finally {
    op.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Trace

export interface HessianTraceOptions {
  readonly probes?: number;
  readonly seed?: number;
}

export interface HessianTrace {
  readonly method: string;
  readonly value: number;
  /** Standard error of `value` (sample std / sqrt(probes)); null with one probe. */
  readonly standardError: number | null;
  readonly settings: { readonly probes: number; readonly seed: number };
  readonly cost: SharpnessCost;
}

export async function hessianTrace(objective: Objective, theta: ArrayLike<number>, opts: HessianTraceOptions = {}): Promise<HessianTrace> {
  checkTheta(objective, theta);
  const m = meter(objective);
  const probes = count("probes", opts.probes ?? SHARPNESS_DEFAULTS.traceProbes, 1);
  const seed = opts.seed ?? SHARPNESS_DEFAULTS.seed;
  const op = objective.curvature(theta);
  try {
    const r = await hutchinsonTrace(op, { matvecs: probes, seed });
    return { method: r.method, value: r.estimate, standardError: r.standardError, settings: { probes, seed }, cost: m(op.matvecs) };
  } finally {
    op.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Keskar et al.'s epsilon-sharpness

export interface EpsilonSharpnessOptions {
  /** Box size relative to |x_i| + 1 (default 1e-3). */
  readonly epsilon?: number;
  /** Ascent steps per start (default 10). */
  readonly steps?: number;
  /** Random-vertex starts after the gradient start (default 2). */
  readonly restarts?: number;
  readonly seed?: number;
}

export interface EpsilonSharpness {
  readonly method: string;
  /** 100 (maxLoss - loss) / (1 + loss). */
  readonly value: number;
  readonly loss: number;
  /** The best f(x + y) found over the box. */
  readonly maxLoss: number;
  /** Whether the first start began at a random vertex (gradient ~0). */
  readonly randomStart: boolean;
  /** Ascent steps taken over all starts. */
  readonly steps: number;
  readonly settings: { readonly epsilon: number; readonly steps: number; readonly restarts: number; readonly seed: number };
  readonly cost: SharpnessCost;
  /** The maximizing offset y (host); non-enumerable. */
  readonly offset?: Float64Array;
}

export async function epsilonSharpness(objective: Objective, theta: ArrayLike<number>, opts: EpsilonSharpnessOptions = {}): Promise<EpsilonSharpness> {
  checkTheta(objective, theta);
  const m = meter(objective);
  const epsilon = positive("epsilon", opts.epsilon ?? SHARPNESS_DEFAULTS.epsilon);
  const steps = count("steps", opts.steps ?? SHARPNESS_DEFAULTS.boxSteps, 1);
  const restarts = count("restarts", opts.restarts ?? SHARPNESS_DEFAULTS.boxRestarts, 0);
  const seed = opts.seed ?? SHARPNESS_DEFAULTS.seed;
  const n = objective.size;
  const r = Float64Array.from(theta, (x) => epsilon * (Math.abs(x) + 1));
  const rng = hostRng(seed);
  const randomVertex = () => Float64Array.from(r, (ri) => ri * rng.sign());
  const at = (y: Float64Array) => Float64Array.from(theta, (x, i) => x + y[i]);

  const loss = (await objective.evaluate(theta)).loss;
  const g0 = await objective.gradient(theta);
  const randomStart = isFlat(hostNorm(g0), loss, hostNorm(r));
  let best = loss;
  let bestY = new Float64Array(n);
  let taken = 0;
  // The vertex r * sign(g); coordinates with g_i = 0 keep their current value.
  const vertexOf = (y: Float64Array, g: ArrayLike<number>) => Float64Array.from(y, (yi, i) => (g[i] > 0 ? r[i] : g[i] < 0 ? -r[i] : yi));
  for (let s = 0; s <= restarts; s++) {
    let y = s === 0 && !randomStart ? vertexOf(new Float64Array(n), g0) : randomVertex();
    for (let k = 0; k < steps; k++) {
      taken++;
      const x = at(y);
      const f = (await objective.evaluate(x)).loss;
      if (f > best) best = f, bestY = y;
      if (k === steps - 1) break;
      const next = vertexOf(y, await objective.gradient(x));
      if (next.every((v, i) => v === y[i])) break; // a fixed point of the ascent
      y = next;
    }
  }
  const result: EpsilonSharpness = {
    method: "Keskar et al. (2017) epsilon-sharpness, full space; inner max by projected sign-gradient ascent (vertex steps) with restarts",
    value: (100 * (best - loss)) / (1 + loss),
    loss,
    maxLoss: best,
    randomStart,
    steps: taken,
    settings: { epsilon, steps, restarts, seed },
    cost: m(),
  };
  return Object.defineProperty(result, "offset", { value: bestY, enumerable: false });
}

// ---------------------------------------------------------------------------------------------
// SAM worst case in an L2 ball

export interface SamOptions {
  /** Ball radius (default 0.05). */
  readonly rho?: number;
  /** Ascent steps (default 10; 1 = SAM's own single step). */
  readonly steps?: number;
  readonly seed?: number;
  /** Start direction when the gradient is ~0 (default: a seeded Gaussian direction). */
  readonly flatStart?: ArrayLike<number>;
}

export interface SamSharpness {
  readonly method: string;
  readonly loss: number;
  /** The best f(x + e), ||e|| = rho, found. */
  readonly worstLoss: number;
  /** worstLoss - loss. */
  readonly value: number;
  /** f(x + e_1) after SAM's single step (Foret et al.'s estimate). */
  readonly firstStepLoss: number;
  /** ||grad f(x)||. */
  readonly gradientNorm: number;
  /** "gradient", "given" or "random". */
  readonly start: "gradient" | "given" | "random";
  readonly settings: { readonly rho: number; readonly steps: number; readonly seed: number };
  readonly cost: SharpnessCost;
  /** The maximizing perturbation e (host); non-enumerable. */
  readonly perturbation?: Float64Array;
}

export async function samSharpness(objective: Objective, theta: ArrayLike<number>, opts: SamOptions = {}): Promise<SamSharpness> {
  checkTheta(objective, theta);
  const m = meter(objective);
  const rho = positive("rho", opts.rho ?? SHARPNESS_DEFAULTS.rho);
  const steps = count("steps", opts.steps ?? SHARPNESS_DEFAULTS.ballSteps, 1);
  const seed = opts.seed ?? SHARPNESS_DEFAULTS.seed;
  const n = objective.size;
  const onSphere = (d: ArrayLike<number>): Float64Array | null => {
    const s = hostNorm(d);
    return s > 0 && Number.isFinite(s) ? Float64Array.from(d, (v) => (rho * v) / s) : null;
  };
  const loss = (await objective.evaluate(theta)).loss;
  const g0 = await objective.gradient(theta);
  const gradientNorm = hostNorm(g0);
  let start: SamSharpness["start"] = "gradient";
  let e: Float64Array | null = null;
  if (!isFlat(gradientNorm, loss, rho)) e = onSphere(g0);
  else if (opts.flatStart) {
    if (opts.flatStart.length !== n) throw new InputError("flatStart", `expected ${n} entries, got ${opts.flatStart.length}`);
    e = onSphere(opts.flatStart), start = "given";
  }
  if (!e) {
    const rng = hostRng(seed);
    e = onSphere(Float64Array.from({ length: n }, () => rng.normal()))!;
    start = "random";
  }
  let best = -Infinity, bestE = e, firstStepLoss = NaN;
  for (let k = 0; k < steps; k++) {
    const x = Float64Array.from(theta, (t, i) => t + e![i]);
    const f = (await objective.evaluate(x)).loss;
    if (k === 0) firstStepLoss = f;
    if (f > best) best = f, bestE = e;
    if (k === steps - 1) break;
    const next = onSphere(await objective.gradient(x));
    if (!next) break; // a stationary point on the sphere's interior side: nothing to follow
    e = next;
  }
  const result: SamSharpness = {
    method: "Foret et al. (2021) worst-case loss in an L2 ball; normalized gradient ascent projected onto the ball (unbounded step)",
    loss,
    worstLoss: best,
    value: best - loss,
    firstStepLoss,
    gradientNorm,
    start,
    settings: { rho, steps, seed },
    cost: m(),
  };
  return Object.defineProperty(result, "perturbation", { value: bestE, enumerable: false });
}

// ---------------------------------------------------------------------------------------------
// All together

export interface SharpnessOptions {
  readonly lanczos?: TopEigenvalueOptions;
  readonly trace?: HessianTraceOptions;
  readonly epsilon?: EpsilonSharpnessOptions;
  readonly sam?: Omit<SamOptions, "flatStart">;
}

export interface SharpnessReport {
  readonly objective: string;
  readonly size: number;
  readonly loss: number;
  readonly topEigenvalue: TopEigenvalue;
  readonly trace: HessianTrace;
  readonly epsilonSharpness: EpsilonSharpness;
  readonly sam: SamSharpness;
  readonly cost: SharpnessCost;
}

/**
 * Every measure at theta, in one JSON-able report. The SAM ascent starts from Lanczos's top
 * eigenvector when the gradient is ~0 (the exact maximizer of the quadratic model there).
 */
export async function sharpness(objective: Objective, theta: ArrayLike<number>, opts: SharpnessOptions = {}): Promise<SharpnessReport> {
  checkTheta(objective, theta);
  const m = meter(objective);
  const top = await topEigenvalue(objective, theta, opts.lanczos);
  const trace = await hessianTrace(objective, theta, opts.trace);
  const eps = await epsilonSharpness(objective, theta, opts.epsilon);
  const sam = await samSharpness(objective, theta, { ...opts.sam, flatStart: top.vector });
  return {
    objective: objective.description,
    size: objective.size,
    loss: eps.loss,
    topEigenvalue: top,
    trace,
    epsilonSharpness: eps,
    sam,
    cost: m(top.cost.matvecs + trace.cost.matvecs),
  };
}
