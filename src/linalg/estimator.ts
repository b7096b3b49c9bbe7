/**
 * What the stochastic trace and diagonal estimators (hutchinson.ts, hutchpp.ts, xtrace.ts) share:
 * their options (products to spend, seed, progress, journal) with the checks and defaults of
 * those, the progress count, the cost every result reports (products, seconds), and journaled
 * products.
 *
 * Journal: each estimator saves every product it computes (or, for Hutchinson's trace, each
 * probe's sample) under a key of its own, and a re-run with the same journal takes them back
 * instead of recomputing them. A product's values come back exactly (float32 values are exact in
 * the journal's float64), and everything after the products is a deterministic function of them
 * and of the seed: a run stopped at any point and resumed gives the numbers of an uninterrupted
 * one. A resumed result's `matvecs` counts the products of that run only.
 */
import type { LinearOperator } from "../curvature/operator.ts";
import type { Array as JaxArray } from "../engine/jax.ts";
import { dot, fromHost } from "../tree/vector.ts";
import { journaled, type Journal } from "./journal.ts";
import { applyToRows, checkFinite, checkInteger, checkOperator, checkSeed, readHost, secondsSince } from "./sampling.ts";

export interface TraceOptions {
  /** Products to spend (default 100). */
  readonly matvecs?: number;
  /** Seed of the probes (default 0). */
  readonly seed?: number;
  /** Called after each product with (products done, products planned). */
  readonly onProgress?: (done: number, total: number) => void;
  /** Saves each product (or probe sample) here and takes saved ones back (resumable runs; module comment). */
  readonly journal?: Journal;
}

export interface TraceEstimate {
  readonly method: string;
  readonly size: number;
  readonly estimate: number;
  /** Estimated standard deviation of `estimate` (see each method); null when it cannot be formed. */
  readonly standardError: number | null;
  /** The samples behind the standard error (per-probe values; see each method). */
  readonly samples: readonly number[];
  readonly matvecs: number;
  readonly seconds: number;
  readonly settings: Readonly<Record<string, number | string>>;
}

export interface DiagonalEstimate {
  readonly method: string;
  readonly size: number;
  readonly diagonal: readonly number[];
  /** Per-coordinate standard errors (see each method); null when not available. */
  readonly standardErrors: readonly number[] | null;
  /** Sum of the diagonal (a trace estimate from the same products). */
  readonly sum: number;
  readonly matvecs: number;
  readonly seconds: number;
  readonly settings: Readonly<Record<string, number | string>>;
}

/** Every estimator's defaults: 100 products, seed 0. */
export const ESTIMATOR_DEFAULTS = { matvecs: 100, seed: 0 } as const;

/** One estimator run: its checked settings, progress and cost. */
export interface EstimatorRun {
  /** Products to spend. */
  readonly m: number;
  readonly seed: number;
  readonly journal?: Journal;
  /** One more product done (a journaled one too), of `total` planned (default m). */
  tick(total?: number): void;
  /** Sets the products done (work that turned out not to be needed counts as done). */
  setDone(done: number): void;
  /** Products computed by this run and seconds since it started, as every result reports them. */
  cost(): { matvecs: number; seconds: number };
}

/**
 * Checks the operator and the options (matvecs an integer >= minMatvecs, seed an integer) and
 * starts the clock and the product count.
 */
export function startEstimator(op: LinearOperator, opts: TraceOptions, minMatvecs: number): EstimatorRun {
  checkOperator(op);
  const m = checkInteger("matvecs", opts.matvecs ?? ESTIMATOR_DEFAULTS.matvecs, minMatvecs);
  const seed = checkSeed(opts.seed ?? ESTIMATOR_DEFAULTS.seed);
  const t0 = performance.now();
  const before = op.matvecs;
  let done = 0;
  return {
    m,
    seed,
    journal: opts.journal,
    tick: (total = m) => opts.onProgress?.(++done, total),
    setDone: (d) => {
      done = d;
    },
    cost: () => ({ matvecs: op.matvecs - before, seconds: secondsSince(t0) }),
  };
}

/**
 * The products A x_i with the rows of X ([k, n], borrowed) as a new [k, n] array (applyToRows),
 * row i saved in the journal under `${key}-${i}` and taken back from it when there.
 */
export function journaledRows(op: LinearOperator, X: JaxArray, journal: Journal | undefined, key: string, onEach?: () => void): Promise<JaxArray> {
  if (!journal) return applyToRows(op, X, onEach);
  return applyToRows(op, X, onEach, (i, product) => journaledVector(journal, `${key}-${i}`, op, product));
}

/**
 * The sample u^T A u of the probe `probe()` gives, saved in the journal under `key` or taken back
 * from it; `what` names the estimator in the error when it is not finite.
 */
export async function journaledSample(journal: Journal | undefined, key: string, op: LinearOperator, probe: () => JaxArray, what: string): Promise<number> {
  const s = await journaled(journal, key, async () => {
    const u = probe();
    const au = await op.matvecAsync(u);
    const value = await dot(u, au);
    u.dispose();
    au.dispose();
    return value;
  });
  checkFinite([s], what);
  return s;
}

/** The device vector `compute()` gives, saved in the journal under `key`, or taken back from it. */
export async function journaledVector(journal: Journal | undefined, key: string, op: LinearOperator, compute: () => JaxArray | Promise<JaxArray>): Promise<JaxArray> {
  const saved = journal ? await journal.getArray(key) : undefined;
  if (saved) return fromHost(saved, op.dtype);
  const y = await compute();
  if (journal) await journal.putArray(key, await readHost(y.ref));
  return y;
}
