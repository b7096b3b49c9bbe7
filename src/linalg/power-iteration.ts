/**
 * The k largest-magnitude eigenpairs of a symmetric operator by deflated power iteration: the
 * classic baseline, as PyHessian computes top Hessian eigenvalues (Yao, Gholami, Keutzer,
 * Mahoney, "PyHessian: Neural Networks Through the Lens of the Hessian", 2020;
 * `hessian.eigenvalues(maxIter=100, tol=1e-3, top_n)`).
 *
 * For each pair i = 1..k in turn: start from a random unit vector; repeat
 *   v <- v orthogonalized against the i - 1 vectors found (one Gram-Schmidt pass), normalized;
 *   theta <- v^T A v;  v <- A v / ||A v||
 * until the relative change of the estimate |theta - theta_prev| / (|theta_prev| + 1e-6) falls
 * below tol (PyHessian's test, absolute guard 1e-6 included), or maxIter products. Defaults are
 * PyHessian's: tol = 1e-3, maxIter = 100.
 *
 * Differences from PyHessian, none of which changes the number of products: the Gram-Schmidt pass
 * uses the found vectors stacked in one device matrix (classical rather than modified
 * Gram-Schmidt: the same in exact arithmetic, one kernel instead of i); the estimate returned is
 * the last Rayleigh quotient (PyHessian returns the one before it, which is less accurate); the
 * residual ||A v - theta v|| = sqrt(||A v||^2 - theta^2) of the last iterate comes for free and is
 * reported. The vector kept for deflation and returned is A v / ||A v||, as in PyHessian.
 *
 * What to expect: the relative change is not the error. Near convergence the error shrinks by the
 * factor r = (lambda_{i+1} / lambda_i)^2 per product, so when the change falls below tol the error
 * is about tol * r / (1 - r): with close eigenvalues (r near 1) the rule stops far from the
 * eigenvalue, and the products needed grow like 1 / (1 - r). The errors of the vectors found
 * first also leak into later pairs through the deflation. Measured on the Hessian of a trained
 * 3,110-parameter MLP (top 10): PyHessian's defaults stop after 201 products 1.3% off; 1e-4
 * relative takes tol 3e-6, maxIter 1,000 and 965 products, against 54 for Lanczos (lanczos.ts).
 * Power iteration converges to the largest |lambda| (`which` is "magnitude") and finds a repeated
 * eigenvalue once per copy (each copy after deflating the previous ones).
 */
import type { LinearOperator } from "../curvature/operator.ts";
import { numpy as np, type Array as JaxArray } from "../engine/jax.ts";
import { hostRng } from "../engine/host-rng.ts";
import { InputError } from "../errors.ts";
import { gaussianDirection } from "../tree/vector.ts";
import { checkPairCount, checkTolerance, orderIndices, withVectors, type Eigenpairs } from "./eigenpairs.ts";
import { checkSeed } from "./sampling.ts";

/** PyHessian's guard in the relative change: |theta - prev| / (|prev| + GUARD). */
export const PYHESSIAN_GUARD = 1e-6;

export interface PowerIterationProgress {
  /** Pair being computed (1-based). */
  readonly pair: number;
  readonly iteration: number;
  readonly estimate: number;
  readonly matvecs: number;
  readonly seconds: number;
}

export interface PowerIterationOptions {
  /** Number of eigenpairs (default 1, PyHessian's top_n). */
  readonly k?: number;
  /** Relative change of the estimate that stops a pair (default 1e-3). */
  readonly tol?: number;
  /** Products per pair at most (default 100). */
  readonly maxIter?: number;
  readonly seed?: number;
  /** Return the eigenvectors (host, non-enumerable `vectors`; default false). */
  readonly vectors?: boolean;
  readonly onProgress?: (p: PowerIterationProgress) => void;
}

export interface PowerIterationSettings {
  readonly k: number;
  readonly tol: number;
  readonly maxIter: number;
  readonly seed: number;
  readonly guard: number;
  readonly start: string;
}

export interface PowerIterationResult extends Eigenpairs {
  /** Products spent on each pair (in the order of `eigenvalues`). */
  readonly iterations: readonly number[];
  readonly settings: PowerIterationSettings;
}

function checkOptions(op: LinearOperator, opts: PowerIterationOptions): PowerIterationSettings {
  const n = op.size;
  const k = checkPairCount(opts.k ?? 1, n);
  const tol = checkTolerance(opts.tol ?? 1e-3);
  const maxIter = opts.maxIter ?? 100;
  if (!Number.isInteger(maxIter) || maxIter < 2) throw new InputError("maxIter", `expected an integer >= 2, got ${maxIter}`);
  const seed = checkSeed(opts.seed ?? 0);
  return { k, tol, maxIter, seed, guard: PYHESSIAN_GUARD, start: "standard Gaussian vectors from device keys drawn from hostRng(seed)" };
}

/** v / ||v|| on the device (no host read). Consumes v. */
function normalize(v: JaxArray): JaxArray {
  const norm = np.sqrt(v.ref.mul(v.ref).sum());
  return v.div(norm);
}

/** Deflated power iteration (module comment). */
export async function powerIteration(op: LinearOperator, opts: PowerIterationOptions = {}): Promise<PowerIterationResult> {
  const settings = checkOptions(op, opts);
  const { k, tol, maxIter } = settings;
  const n = op.size;
  const t0 = performance.now();
  const matvecs0 = op.matvecs;
  const seeds = hostRng(settings.seed);
  let found: JaxArray | null = null; // [i, n], the vectors found so far
  const eigenvalues: number[] = [];
  const residuals: number[] = [];
  const converged: boolean[] = [];
  const iterations: number[] = [];
  let v: JaxArray | null = null; // the current iterate (disposed on errors too)
  try {
    for (let pair = 1; pair <= k; pair++) {
      v = normalize(gaussianDirection(seeds.int(2 ** 31), n, op.dtype));
      let prev: number | null = null;
      let theta = NaN;
      let residual = NaN;
      let ok = false;
      let it = 0;
      while (it < maxIter) {
        if (found) v = normalize(v.sub(np.matmul(np.matmul(found.ref, v.ref), found.ref)));
        const Av = await op.matvecAsync(v);
        it++;
        const host: ArrayLike<number> = await np.stack([Av.ref.mul(v.ref).sum(), Av.ref.mul(Av.ref).sum()]).data();
        v.dispose();
        v = null;
        theta = Number(host[0]);
        const norm2 = Number(host[1]);
        if (!Number.isFinite(theta) || !Number.isFinite(norm2)) {
          Av.dispose();
          throw new Error(`power iteration: the operator returned non-finite values (pair ${pair}, iteration ${it})`);
        }
        residual = Math.sqrt(Math.max(norm2 - theta * theta, 0));
        v = norm2 > 0 ? Av.div(np.array(Math.sqrt(norm2), { dtype: Av.dtype })) : Av;
        opts.onProgress?.({ pair, iteration: it, estimate: theta, matvecs: op.matvecs - matvecs0, seconds: (performance.now() - t0) / 1000 });
        if (prev !== null && Math.abs(theta - prev) / (Math.abs(prev) + PYHESSIAN_GUARD) < tol) {
          ok = true;
          break;
        }
        prev = theta;
      }
      eigenvalues.push(theta);
      residuals.push(residual);
      converged.push(ok);
      iterations.push(it);
      const row = v!.reshape([1, n]);
      v = null;
      found = found ? np.concatenate([found, row], 0) : row;
    }
    // Largest |theta| first (the order found, unless a pair stopped early and out of order).
    const order = orderIndices(eigenvalues, "magnitude");
    const sorted = <T>(xs: readonly T[]) => order.map((i) => xs[i]);
    let vectors: Float64Array[] | null = null;
    if (opts.vectors) {
      const host = await found!.ref.data();
      vectors = order.map((i) => Float64Array.from(host.subarray(i * n, (i + 1) * n)));
    }
    const result: PowerIterationResult = {
      method: "deflated power iteration (PyHessian)",
      operator: op.description,
      size: n,
      dtype: op.dtype,
      which: "magnitude",
      eigenvalues: sorted(eigenvalues),
      residuals: sorted(residuals),
      converged: sorted(converged),
      convergedCount: converged.filter(Boolean).length,
      matvecs: op.matvecs - matvecs0,
      seconds: (performance.now() - t0) / 1000,
      iterations: sorted(iterations),
      settings,
    };
    return withVectors(result, vectors);
  } finally {
    v?.dispose();
    found?.dispose();
  }
}
