/**
 * A few extreme eigenpairs of a symmetric operator by the Lanczos method with full
 * reorthogonalization (Lanczos 1950; Golub & Van Loan, "Matrix Computations", 4th ed., 10.1 and
 * 10.3.1; Parlett, "The Symmetric Eigenvalue Problem", ch. 13).
 *
 * Step j (the recurrence of lanczos-tridiagonal.ts, shared with SLQ): w = A q_j; the three-term
 * step w -= alpha_j q_j + beta_{j-1} q_{j-1}; then one classical Gram-Schmidt pass against ALL
 * previous vectors (stacked on the device, krylov-basis.ts), repeated when it removed more than
 * half of w (the DGKS test of Daniel, Gragg, Kaufman & Stewart 1976, as in ARPACK: "twice is
 * enough", and the second time is only needed after cancellation; measured on the Hessians and synthetic operators of the tests, the
 * basis stays orthonormal to 6e-15 in float64 and the second pass never triggers); beta_j = ||w||,
 * q_{j+1} = w / beta_j. The tridiagonal T_m = V_m^T A V_m stays on the host, the basis V_m on the
 * device. The Ritz values theta_i (eigenvalues of T_m) and the last components s_mi of T_m's
 * eigenvectors come from the implicit QL of tridiagonal-eigen.ts rotating only the last row
 * (O(m^2) flops), after every step up to m = 64 and every ceil(m / 64) steps beyond (at most
 * ceil(m / 64) - 1 products spent past convergence), and
 *   ||A y_i - theta_i y_i|| = beta_m |s_mi|      (y_i = V_m s_i, the Ritz vector)
 * gives each pair's residual without touching the device. Full reorthogonalization keeps V_m
 * orthonormal, so the formula holds and converged eigenvalues do not come back as spurious
 * copies ("ghosts") as they do in plain three-term Lanczos.
 *
 * Stopping rule: the k wanted Ritz pairs (by `which`) all satisfy
 *   beta_m |s_mi| <= tol * max(|theta_i|, NEAR_ZERO * ||A||),    NEAR_ZERO = 1e-3,
 * i.e. a relative residual, measured against 1e-3 ||A|| for Ritz values near zero (whose
 * relative accuracy means nothing), ||A|| estimated by the largest |Ritz value| seen. The
 * residual bounds the eigenvalue error: some eigenvalue lies within beta_m |s_mi| of theta_i;
 * once the pair is separated from the rest of the spectrum by a gap g the error is about
 * residual^2 / g (tol 1e-4 on the Hessians of the tests gives eigenvalues to 1e-8).
 * Defaults: tol = 1e-8 in float64, 1e-4 in float32 (float32 products carry relative errors near
 * 1e-6); maxSteps = min(n, max(3k, k + 400)) per run, lowered for large n so that the basis
 * stays within 512 MiB (but not below max(3k, k + 50)). Outliers converge in tens of steps;
 * eigenvalues at the edge of a dense bulk need hundreds (the 10 most negative Hessian
 * eigenvalues of a 3,110-parameter MLP at init, to 1e-8: 315 steps). A run that reaches
 * maxSteps stops; the pairs that did not make it have `converged` false (no thick restart).
 *
 * Invariant subspaces: when beta_j falls below 100 unit roundoffs of ||A|| the Krylov space is
 * invariant; the run continues from a new random vector orthogonalized against the basis, with
 * beta_j = 0 (T splits into blocks), so directions the first start vector could not reach are
 * still found.
 *
 * Repeated eigenvalues: one start vector sees one direction of each eigenspace, so a single run
 * finds an eigenvalue of multiplicity 3 once (further copies appear only from rounding errors,
 * often too late: the tests show a run that converges without them). With `confirm` (default
 * true), once the k wanted pairs have converged their Ritz vectors are locked and a new run,
 * from a fresh random vector kept orthogonal to the locked ones (the deflated operator), looks
 * for eigenvalues that beat the k-th found: it converges its leading Ritz pairs that beat it,
 * and settles the first that does not (the boundary) by either test
 * - residual <= sqrt(tol) * scale, and theta + residual still does not beat the k-th;
 * - (when nothing beats the k-th) the probabilistic bound of Kuczynski & Wozniakowski (1992)
 *   for Lanczos from a random start: after m steps in a space of dimension d, the top Ritz
 *   value is below lambda_max - eps (lambda_max - lambda_min) with probability at most
 *   1.648 sqrt(d) exp(-sqrt(eps) (2m - 1)); with that probability CONFIRM_RISK = 1e-4 per end
 *   and the spread bounded by 2 ||A||, nothing was missed if nothing within eps * spread of the
 *   Ritz values beats the k-th (this settles well-separated outliers in a few tens of steps).
 * The pairs that beat the k-th are locked in turn and another run starts; a run that adds
 * nothing ends the search (`confirmed`). Cost: one more run (measured: 15-45% more products on
 * the tests' Hessians, 30-130% on synthetic spectra), plus one per missing copy; so a
 * zero eigenvalue of multiplicity 10 asked for with which "smallest" costs 10 runs (block
 * Lanczos would find the copies together; not implemented). Pairs from confirmation runs carry
 * that run's residual (the true residual adds at most the locked pairs' residuals).
 *
 * Cost and memory: one product per step; the reorthogonalization is O(m n) per step on the
 * device (one pass reads the stacked basis twice), measured against the product (Wasm, 2
 * threads, a shared machine): for the 3,110-parameter MLP (float64) 4-6 ms against 28-42 ms at
 * m = 64-256; for MLP 784-128-10 on 1,000 MNIST digits (101,770 parameters, float32) 0.7x the
 * product at m = 64, 1.0x at m = 128, 1.7x at m = 256 (memory bound; two passes every step
 * measured twice that). The host's Ritz check: 0.2 ms at m = 64, 2.3 ms at m = 256.
 * The basis holds m <= maxSteps vectors of length n, plus the locked vectors. Host work: O(m^2)
 * per check, O(m^3) once per run for the Ritz vectors. Same seed, same numbers: the start
 * vectors come from device keys drawn from hostRng(seed).
 */
import type { LinearOperator } from "../curvature/operator.ts";
import { numpy as np, type Array as JaxArray } from "../engine/jax.ts";
import { hostRng, type HostRng } from "../engine/host-rng.ts";
import type { DTypeName } from "../engine/dtype.ts";
import { InputError } from "../errors.ts";
import { gaussianDirection, scale } from "../tree/vector.ts";
import { DeviceBasis } from "./krylov-basis.ts";
import { BREAKDOWN_FACTOR as BREAKDOWN, lanczosSteps, tridiagonalEigenpairs, type LanczosStepState } from "./lanczos-tridiagonal.ts";
import { checkSeed, unitRoundoff } from "./sampling.ts";
import { applyRotations, tridiagonalEigen } from "./dense/tridiagonal-eigen.ts";
import { checkPairCount, checkTolerance, orderIndices, parseWhich, priority, withVectors, type Eigenpairs, type Which } from "./eigenpairs.ts";

/** Ritz values below this fraction of ||T|| are judged against it (see the stopping rule). */
export const NEAR_ZERO = 1e-3;
/**
 * Ritz values are checked after every step up to this basis size, then every ceil(m / 64) steps,
 * so the host's O(m^2) work stays near O(m) per step; at most ceil(m / 64) - 1 products are spent
 * past convergence (under 2%).
 */
const CHECK_EVERY_STEP = 64;
/** Probability, per end of the spectrum, that a confirmation run misses an eigenvalue (confirmVerdict). */
export const CONFIRM_RISK = 1e-4;

export interface LanczosProgress {
  /** 1 for the main run, 2... for confirmation runs. */
  readonly run: number;
  /** Steps of this run so far. */
  readonly step: number;
  readonly matvecs: number;
  /** Wanted Ritz pairs of this run, and how many of them have converged. */
  readonly wanted: number;
  readonly converged: number;
  readonly seconds: number;
}

export interface LanczosOptions {
  /** Number of eigenpairs (default 6). */
  readonly k?: number;
  /** Which end of the spectrum (default "largest"). */
  readonly which?: Which;
  /** Relative residual tolerance (default 1e-8 in float64, 1e-4 in float32; see the module comment). */
  readonly tol?: number;
  /** Cap on the basis size of each run (default: see lanczosDefaults). */
  readonly maxSteps?: number;
  /** Seed of the start vectors (default 0). */
  readonly seed?: number;
  /** Return the Ritz vectors (host, non-enumerable `vectors`; default false). */
  readonly vectors?: boolean;
  /** Look for missed copies of repeated eigenvalues with deflated runs (default true). */
  readonly confirm?: boolean;
  readonly onProgress?: (p: LanczosProgress) => void;
}

export interface LanczosSettings {
  readonly k: number;
  readonly which: Which;
  readonly tol: number;
  readonly maxSteps: number;
  readonly seed: number;
  readonly confirm: boolean;
  readonly nearZero: number;
  readonly confirmRisk: number;
  readonly reorthogonalization: string;
  readonly start: string;
}

export interface LanczosResult extends Eigenpairs {
  /** Lanczos steps over all runs (= matvecs). */
  readonly steps: number;
  /** Steps of each run: the main run first, then the confirmation runs. */
  readonly runSteps: readonly number[];
  /** Restarts from a new random vector after an invariant subspace. */
  readonly restarts: number;
  /** Steps whose Gram-Schmidt pass had to be repeated (DGKS test; module comment). */
  readonly secondPasses: number;
  /**
   * True when a confirmation run converged without finding anything to add (false when
   * `confirm` is off, or when a run hit maxSteps first).
   */
  readonly confirmed: boolean;
  readonly settings: LanczosSettings;
}

/** Default cap on the basis memory of a run (see lanczosDefaults). */
export const BASIS_BYTES = 2 ** 29;

/**
 * Defaults: tol 1e-8 (float64) or 1e-4 (float32); maxSteps = min(n, max(3k, k + 400)), lowered
 * so that the basis (maxSteps vectors of n numbers) fits in BASIS_BYTES = 512 MiB, but never
 * below max(3k, k + 50).
 */
export function lanczosDefaults(n: number, dtype: DTypeName, k = 6): { tol: number; maxSteps: number } {
  const bytes = dtype === "float64" ? 8 : 4;
  const byMemory = Math.max(3 * k, k + 50, Math.floor(BASIS_BYTES / (n * bytes)));
  return { tol: dtype === "float64" ? 1e-8 : 1e-4, maxSteps: Math.min(n, Math.max(3 * k, k + 400), byMemory) };
}

function checkOptions(op: LinearOperator, opts: LanczosOptions): LanczosSettings {
  const n = op.size;
  const k = checkPairCount(opts.k ?? 6, n);
  const which = parseWhich(opts.which ?? "largest");
  const defaults = lanczosDefaults(n, op.dtype, k);
  const tol = checkTolerance(opts.tol ?? defaults.tol);
  const maxSteps = opts.maxSteps ?? defaults.maxSteps;
  if (!Number.isInteger(maxSteps) || maxSteps < k || maxSteps > n) {
    throw new InputError("maxSteps", `expected an integer from k = ${k} to n = ${n}, got ${maxSteps}`);
  }
  const seed = checkSeed(opts.seed ?? 0);
  return {
    k,
    which,
    tol,
    maxSteps,
    seed,
    confirm: opts.confirm ?? true,
    nearZero: NEAR_ZERO,
    confirmRisk: CONFIRM_RISK,
    reorthogonalization: "full: three-term step, one classical Gram-Schmidt pass against the whole basis, a second when the DGKS test asks",
    start: "standard Gaussian vectors from device keys drawn from hostRng(seed)",
  };
}

/**
 * Ritz values (ascending) of T = tridiag(beta, alpha, beta) (alpha of length m, beta of m - 1)
 * and the residual estimates |bLast s_mi| (s_mi = last component of T's eigenvector i), with
 * O(m^2) work. The inputs are not modified.
 */
export function ritzValues(alpha: readonly number[], beta: readonly number[], bLast: number): { theta: Float64Array; residual: Float64Array } {
  const m = alpha.length;
  const d = Float64Array.from(alpha);
  const e = Float64Array.from(beta);
  // Row 0 of Z starts as e_m^T, so after the QL rotations it holds the last row of the
  // eigenvector matrix; the other rows stay zero and are never rotated.
  const Z = new Float64Array(m * m);
  Z[m - 1] = 1;
  tridiagonalEigen(d, e, Z, (cs, lo, hi, backward) => applyRotations(Z, cs, m, lo, hi, backward, 0, 1));
  const residual = new Float64Array(m);
  for (let i = 0; i < m; i++) residual[i] = Math.abs(bLast * Z[i]);
  return { theta: d, residual };
}

/** One eigenpair kept across runs; `block` row `row` is its (device) Ritz vector. */
interface Pair {
  value: number;
  residual: number;
  converged: boolean;
  block: number;
  row: number;
}

interface RunOutcome {
  steps: number;
  restarts: number;
  /** Steps that needed a second Gram-Schmidt pass. */
  secondPasses: number;
  /** All wanted pairs converged. */
  done: boolean;
  /** The wanted pairs in order of `which`; `scale` as in RitzState. */
  pairs: { value: number; residual: number; converged: boolean; scale: number }[];
  /** Their Ritz vectors [pairs, n] when asked for. */
  vectors: JaxArray | null;
  /** ||A|| as known at the end (RitzState.norm). */
  norm: number;
}

interface RunContext {
  op: LinearOperator;
  settings: LanczosSettings;
  locked: readonly JaxArray[];
  seeds: HostRng;
  run: number;
  /**
   * ||A|| as far as known (the largest |Ritz value| of earlier runs; 0 for the first). A
   * deflated run can work in a subspace where A is nearly zero: its own ||T|| would then be the
   * wrong scale for the breakdown test and the near-zero floor.
   */
  normA: number;
  t0: number;
  matvecs0: number;
  onProgress?: (p: LanczosProgress) => void;
}

/**
 * A random unit vector orthogonal to the basis, or null when the basis (numerically) spans the
 * space. Two CGS passes; the remainder is compared with the vector's norm before them.
 */
async function freshVector(basis: DeviceBasis, seeds: HostRng, n: number, dtype: DTypeName): Promise<JaxArray | null> {
  const g = gaussianDirection(seeds.int(2 ** 31), n, dtype);
  const before = g.ref.mul(g.ref).sum();
  const { w } = basis.orthogonalize(g);
  const after = w.ref.mul(w.ref).sum();
  const host = await np.stack([before, after]).data();
  const norm0 = Math.sqrt(Number(host[0])), norm1 = Math.sqrt(Number(host[1]));
  if (!(norm1 > BREAKDOWN * unitRoundoff(dtype) * Math.sqrt(n) * norm0)) {
    w.dispose();
    return null;
  }
  const q = scale(1 / norm1, w);
  w.dispose();
  return q;
}

/** The Ritz values of a run at one step, in the order of `which`. */
interface RitzState {
  /** Ascending. */
  theta: Float64Array;
  residual: Float64Array;
  /** Indices of theta in the order of `which`. */
  order: number[];
  /** Scale of each Ritz value's tolerance: max(|theta|, NEAR_ZERO ||A||); converged when residual <= tol * scale. */
  scale: Float64Array;
  /** ||A|| as known: max |theta| of this run and of earlier runs. */
  norm: number;
  /** Dimension of the space the run works in (n minus the locked vectors). */
  dim: number;
}

/** A run's verdict at one step: how many leading pairs it reports, and whether it is done. */
interface Verdict {
  take: number;
  done: boolean;
}

/**
 * One Lanczos run on the operator deflated by the locked vectors; `judge` decides after each
 * step which leading pairs the run wants and whether they are good enough.
 */
async function lanczosRun(
  ctx: RunContext,
  judge: (state: RitzState) => Verdict,
  keepVectors: boolean,
): Promise<RunOutcome> {
  const { op, settings } = ctx;
  const n = op.size;
  const dtype = op.dtype;
  const basis = new DeviceBasis(n, dtype);
  try {
    for (const B of ctx.locked) basis.pushBlock(B);
    const offset = basis.count;
    const maxSteps = Math.min(settings.maxSteps, n - offset);
    let state = null as RitzState | null;
    let take = 0;
    let convergedCount = 0;
    let done = false;
    const q = maxSteps > 0 ? await freshVector(basis, ctx.seeds, n, dtype) : null;
    const afterStep = ({ alpha, beta, b, breakdown }: LanczosStepState): boolean => {
      const m = alpha.length;
      if (m <= CHECK_EVERY_STEP || m % Math.ceil(m / CHECK_EVERY_STEP) === 0 || m >= maxSteps || breakdown) {
        const { theta, residual } = ritzValues(alpha, beta, b);
        const order = orderIndices(theta, settings.which);
        const tNorm = Math.max(Math.abs(theta[0]), Math.abs(theta[m - 1]), ctx.normA);
        const scales = theta.map((t) => Math.max(Math.abs(t), NEAR_ZERO * tNorm));
        state = { theta, residual, order, scale: scales, norm: tNorm, dim: n - offset };
        const verdict = judge(state);
        take = Math.min(verdict.take, m);
        done = verdict.done;
        convergedCount = 0;
        for (let i = 0; i < take; i++) if (residual[order[i]] <= settings.tol * scales[order[i]]) convergedCount++;
      }
      ctx.onProgress?.({
        run: ctx.run,
        step: m,
        matvecs: op.matvecs - ctx.matvecs0,
        wanted: take,
        converged: convergedCount,
        seconds: (performance.now() - ctx.t0) / 1000,
      });
      return done;
    };
    // The recurrence (lanczos-tridiagonal.ts): DGKS second passes, and a new random direction
    // after an invariant subspace.
    const t = q
      ? await lanczosSteps(op, basis, q, { maxSteps, dgks: true, normA: ctx.normA, restart: () => freshVector(basis, ctx.seeds, n, dtype), afterStep })
      : { alpha: [], beta: [], restarts: 0, secondPasses: 0, exhausted: false };
    // The basis spans the space: every Ritz pair is exact.
    if (t.exhausted) done = true;
    const { alpha, beta } = t;
    // No step ran: the locked vectors already span the space (numerically), so the deflated
    // operator has nothing left to find (a confirmation run with k near the size).
    if (state === null) return { steps: 0, restarts: 0, secondPasses: 0, done: true, pairs: [], vectors: null, norm: ctx.normA };
    const o: RitzState = state;
    const idx = o.order.slice(0, take);
    const pairs = idx.map((i) => ({ value: o.theta[i], residual: o.residual[i], converged: o.residual[i] <= settings.tol * o.scale[i], scale: o.scale[i] }));
    let vectors: JaxArray | null = null;
    if (keepVectors && idx.length > 0) {
      const { Z } = tridiagonalEigenpairs(alpha, beta.slice(0, alpha.length - 1));
      const m = alpha.length;
      const S = new Float64Array((offset + m) * idx.length);
      for (let j = 0; j < m; j++) for (let c = 0; c < idx.length; c++) S[(offset + j) * idx.length + c] = Z[j * m + idx[c]];
      vectors = basis.combine(S, idx.length, offset);
    }
    return { steps: alpha.length, restarts: t.restarts, secondPasses: t.secondPasses, done, pairs, vectors, norm: o.norm };
  } finally {
    basis.dispose();
  }
}

/** The `count` leading Ritz pairs (in the order of `which`) all meet the tolerance. */
function leadingConverged(st: RitzState, count: number, tol: number): boolean {
  if (st.order.length < count) return false;
  for (let i = 0; i < count; i++) {
    const j = st.order[i];
    if (!(st.residual[j] <= tol * st.scale[j])) return false;
  }
  return true;
}

/**
 * The verdict of a confirmation run. `margin(theta, scale) > 0` when theta beats the k-th
 * eigenvalue found so far by more than its tolerance. The run reports its leading pairs that beat
 * it, plus the first that does not (the boundary). It is done when the former have converged and
 * the boundary is settled, by either test:
 * - its residual is at most sqrt(tol) * scale and theta + residual still does not beat the k-th
 *   (an eigenvalue lies within the residual of theta and does not enter either; the boundary
 *   value is only compared, never reported, so it needs no more accuracy than that);
 * - when nothing beats the k-th yet: the probabilistic bound of Kuczynski & Wozniakowski
 *   ("Estimating the largest eigenvalue by the power and Lanczos algorithms with a random
 *   start", 1992): after m steps from a random start in a space of dimension d, the top Ritz
 *   value is below lambda_max - eps (lambda_max - lambda_min) with probability at most
 *   1.648 sqrt(d) exp(-sqrt(eps) (2m - 1)). With that probability set to CONFIRM_RISK for each
 *   end of the spectrum and the spread bounded by 2 ||A|| (||A|| estimated by the largest |Ritz
 *   value| seen), [min theta - eps S, max theta + eps S] holds the deflated spectrum; if nothing
 *   in it beats the k-th, nothing was missed. This settles well-separated outliers in a few tens
 *   of steps, where converging a bulk-edge Ritz value would take many more.
 */
function confirmVerdict(
  st: RitzState,
  k: number,
  tol: number,
  normA: number,
  margin: (theta: number, scale: number) => number,
): Verdict {
  const m = st.order.length;
  let better = 0;
  while (better < m && better < k && margin(st.theta[st.order[better]], st.scale[st.order[better]]) > 0) better++;
  if (better >= m || !leadingConverged(st, better, tol)) return { take: better + 1, done: false };
  const b = st.order[better];
  const r = st.residual[b], scale = st.scale[b];
  if (r <= tol * scale || (r <= Math.sqrt(tol) * scale && margin(st.theta[b], scale) + r <= 0)) return { take: better + 1, done: true };
  if (better === 0) {
    const eps = (Math.log((1.648 * Math.sqrt(st.dim)) / CONFIRM_RISK) / (2 * m - 1)) ** 2;
    const spread = 2 * Math.max(normA, st.norm);
    const hi = st.theta[m - 1] + eps * spread, lo = st.theta[0] - eps * spread;
    if (Math.max(margin(hi, scale), margin(lo, scale)) <= 0) return { take: 1, done: true };
  }
  return { take: better + 1, done: false };
}

/** The k extreme eigenpairs of `op` by Lanczos with full reorthogonalization (module comment). */
export async function lanczosEigs(op: LinearOperator, opts: LanczosOptions = {}): Promise<LanczosResult> {
  const settings = checkOptions(op, opts);
  const { k, which, tol } = settings;
  const t0 = performance.now();
  const matvecs0 = op.matvecs;
  const seeds = hostRng(settings.seed);
  const wantVectors = opts.vectors ?? false;
  const blocks: JaxArray[] = [];
  const runSteps: number[] = [];
  let restarts = 0;
  let secondPasses = 0;
  let confirmed = false;
  let pairs: Pair[] = [];
  let normA = 0;
  const ctx = (run: number): RunContext => ({ op, settings, locked: blocks, seeds, run, normA, t0, matvecs0, onProgress: opts.onProgress });
  try {
    const first = await lanczosRun(ctx(1), (st) => ({ take: k, done: leadingConverged(st, k, tol) }), wantVectors || settings.confirm);
    runSteps.push(first.steps);
    restarts += first.restarts;
    secondPasses += first.secondPasses;
    if (first.vectors) blocks.push(first.vectors);
    normA = first.norm;
    pairs = first.pairs.map((p, row) => ({ value: p.value, residual: p.residual, converged: p.converged, block: 0, row }));
    if (settings.confirm && first.done) {
      // Confirmation runs on the deflated operator (module comment).
      for (let run = 2; run <= k + 2; run++) {
        const kth = pairs[pairs.length - 1].value;
        // A Ritz value enters the set when it beats the k-th by more than its tolerance.
        const margin = (t: number, scale: number) => priority(which, t) - priority(which, kth) - tol * scale;
        const r = await lanczosRun(ctx(run), (st) => confirmVerdict(st, k, tol, normA, margin), true);
        normA = Math.max(normA, r.norm);
        runSteps.push(r.steps);
        restarts += r.restarts;
        secondPasses += r.secondPasses;
        // Pairs that enter: converged and beating the k-th (the boundary pair never does).
        const newRows = r.pairs.map((p, row) => ({ ...p, row })).filter((p) => p.converged && margin(p.value, p.scale) > 0);
        if (newRows.length === 0) {
          r.vectors?.dispose();
          confirmed = r.done;
          break;
        }
        // Lock only the new pairs (the boundary pair that did not enter stays free).
        const rows = newRows.map((p) => p.row);
        const V = r.vectors!;
        const kept = rows.length === r.pairs.length ? V : selectRows(V, rows, op.dtype);
        blocks.push(kept);
        const b = blocks.length - 1;
        pairs = [...pairs, ...newRows.map((p, i) => ({ value: p.value, residual: p.residual, converged: p.converged, block: b, row: i }))];
        pairs = orderIndices(pairs.map((p) => p.value), which).map((i) => pairs[i]).slice(0, k);
      }
    }
    let vectors: Float64Array[] | null = null;
    if (wantVectors) {
      const host = await Promise.all(blocks.map((B) => B.ref.data()));
      const n = op.size;
      vectors = pairs.map((p) => Float64Array.from(host[p.block].subarray(p.row * n, (p.row + 1) * n)));
    }
    const steps = runSteps.reduce((s, x) => s + x, 0);
    const result: LanczosResult = {
      method: "lanczos (full reorthogonalization)",
      operator: op.description,
      size: op.size,
      dtype: op.dtype,
      which,
      eigenvalues: pairs.map((p) => p.value),
      residuals: pairs.map((p) => p.residual),
      converged: pairs.map((p) => p.converged),
      convergedCount: pairs.filter((p) => p.converged).length,
      matvecs: op.matvecs - matvecs0,
      seconds: (performance.now() - t0) / 1000,
      steps,
      runSteps,
      restarts,
      secondPasses,
      confirmed,
      settings,
    };
    return withVectors(result, vectors);
  } finally {
    for (const B of blocks) B.dispose();
  }
}

/** Rows `rows` of X ([r, n]; consumed) as a new [rows.length, n] array. */
function selectRows(X: JaxArray, rows: readonly number[], dtype: DTypeName): JaxArray {
  const r = X.shape[0];
  const P = new Float64Array(rows.length * r);
  rows.forEach((row, i) => (P[i * r + row] = 1));
  const sel = np.array(dtype === "float64" ? P : Float32Array.from(P), { dtype: X.dtype }).reshape([rows.length, r]);
  return np.matmul(sel, X);
}
