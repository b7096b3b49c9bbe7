/**
 * Gradient coherence: how much the per-example gradients of a sample agree. Chatterjee 2020,
 * "Coherent Gradients: An Approach to Understanding Generalization in Gradient Descent-based
 * Optimization" (ICLR 2020), and the metric of Chatterjee & Zielinski 2022, "On the
 * Generalization Mystery in Deep Learning".
 *
 * Definitions used, exactly. For a sample of m examples with per-example loss gradients
 * g_i = grad_theta loss(f(x_i; theta), y_i) (each example's OWN loss, not divided by m), with
 * E_i the uniform average over the m examples:
 *   alpha        = ||E_i g_i||^2 / E_i ||g_i||^2
 *                = ||sum_i g_i||^2 / (m sum_i ||g_i||^2),           alpha in [0, 1];
 *   alpha_perp   = 1 / m   (alpha of m mutually orthogonal gradients of equal norm);
 *   normalized   = alpha / alpha_perp = m alpha,                       in [0, m].
 * alpha = 1 when all gradients are identical, 1/m when they are orthogonal with equal norms, and
 * it is scale-free (a common factor on every g_i cancels). Chatterjee & Zielinski read
 * alpha / alpha_perp >> 1 as "coherent" (gradients of different examples reinforce each other,
 * so a step on one example helps the others: generalization), and ~ 1 as incoherent
 * (memorization, e.g. random labels).
 *
 * Computation: per-example gradients by `vmap(grad(one example's loss))` under `jit`, in chunks
 * of `chunk` examples (a chunk is a [chunk, P] device array), so memory is bounded by
 * chunk x P numbers whatever m is. Per chunk only the sum of the rows (a P-vector) and the sum of
 * the squared row norms (a scalar) are kept, so nothing of size m x P is ever formed. The
 * gradient-covariance operators (src/curvature/gradient-covariance.ts) avoid per-example
 * gradients by working through J^T r products; coherence needs the per-example NORMS, i.e. the
 * trace of the empirical Fisher, which those products give only stochastically, so an exact
 * per-example pass is used here (m per-example gradients cost about one batch gradient of m
 * examples plus the per-example materialization).
 *
 * Defaults: float64 arithmetic; cross-entropy; chunk chosen so that chunk x P <= 2e6 numbers
 * (16 MB in float64); coherenceOverTraining records every 10 steps on a sample of 128 training
 * examples (seed 0), from step 0.
 *
 * The algorithm (`gradientCoherence`) sees only a `PerExampleGradients` source: a model
 * (`modelPerExampleGradients`) or a given matrix (`matrixPerExampleGradients`, closed-form tests).
 */
import { grad, jit, numpy as np, vmap, type Array } from "../engine/jax.ts";
import { toDType, type DTypeName } from "../engine/dtype.ts";
import { takeScalar } from "../engine/scope.ts";
import { hostRng } from "../engine/host-rng.ts";
import type { Dataset } from "../data/dataset.ts";
import { subset } from "../data/split.ts";
import type { Model } from "../nn/model.ts";
import { lossValue, type LossName } from "../nn/loss.ts";
import { checkDataFitsModel, deviceBatches, type DeviceBatch } from "../data/device-batches.ts";
import { fromHost } from "../tree/vector.ts";
import { InputError, optionError } from "../errors.ts";
import { train, type EvalRecord, type TrainConfig, type TrainResult } from "../train/train.ts";

/** A source of per-example gradients at any theta, in chunks. */
export interface PerExampleGradients {
  /** Number of parameters P. */
  readonly size: number;
  /** Number of examples m. */
  readonly count: number;
  readonly dtype: DTypeName;
  readonly description: string;
  /** Per-example gradients at theta as [c, P] device arrays (chunks in order; caller consumes each). */
  chunks(theta: ArrayLike<number>): Iterable<Array>;
  dispose(): void;
}

export interface PerExampleOptions {
  /** Default "cross-entropy". */
  readonly loss?: LossName;
  /** Default "float64". */
  readonly dtype?: DTypeName;
  /** Examples per vmapped chunk (default: the largest with chunk x P <= 2e6, at least 1). */
  readonly chunk?: number;
}

export const COHERENCE_DEFAULTS = { maxChunkNumbers: 2e6, every: 10, sampleSize: 128, seed: 0 } as const;

/** Per-example gradients of a model's loss on `data` (every row of it). */
export function modelPerExampleGradients(model: Model, data: Dataset, opts: PerExampleOptions = {}): PerExampleGradients {
  checkDataFitsModel(model, data);
  const dtype = opts.dtype ?? "float64";
  const loss = opts.loss ?? "cross-entropy";
  const m = data.y.length;
  if (m < 1) throw optionError("data", "expected at least one example for gradient coherence, got none");
  const chunk = opts.chunk ?? Math.max(1, Math.floor(COHERENCE_DEFAULTS.maxChunkNumbers / model.size));
  if (!Number.isSafeInteger(chunk) || chunk < 1) throw new InputError("chunk", `expected a positive integer, got ${chunk}`);
  const batches: DeviceBatch[] = deviceBatches(model, data, dtype, Math.min(chunk, m));
  // One example's own loss (denominator 1), vmapped over the rows of a chunk: one trace per
  // chunk size (at most two: full chunks and the last one).
  const one = (theta: Array, x: Array, t: Array): Array =>
    lossValue(loss, model.apply(theta, x.reshape([1, ...model.inputShape])), t.reshape([1, model.outputDim]), 1);
  const perExample = jit(vmap(grad(one), [null, 0, 0]));
  return {
    size: model.size,
    count: m,
    dtype,
    description: `per-example gradients of ${loss} of ${model.spec} on ${data.name} (${m} examples)`,
    *chunks(theta) {
      if (theta.length !== model.size) throw optionError("theta", `expected ${model.size} parameters for "${model.spec}", got ${theta.length}`);
      const t = fromHost(theta, dtype);
      try {
        for (const b of batches) yield perExample(t.ref, b.x.ref, b.targets.ref);
      } finally {
        t.dispose();
      }
    },
    dispose() {
      perExample.dispose();
      for (const b of batches) b.x.dispose(), b.targets.dispose(), b.labels.dispose();
    },
  };
}

/** Given per-example gradients (host, row-major m x P): for closed-form tests. theta is ignored. */
export function matrixPerExampleGradients(rows: ArrayLike<number>, m: number, dtype: DTypeName = "float64"): PerExampleGradients {
  const P = rows.length / m;
  if (!Number.isInteger(P) || P < 1) throw new Error(`matrixPerExampleGradients: ${rows.length} numbers are not ${m} rows`);
  const host = dtype === "float64" ? Float64Array.from(rows) : Float32Array.from(rows);
  return {
    size: P,
    count: m,
    dtype,
    description: `given ${m} x ${P} per-example gradients`,
    *chunks() {
      yield np.array(host, { dtype: toDType(dtype) }).reshape([m, P]);
    },
    dispose() {},
  };
}

export interface CoherenceResult {
  readonly method: string;
  /** Examples in the sample (m). */
  readonly examples: number;
  readonly parameters: number;
  /** ||E_i g_i||^2 / E_i ||g_i||^2. */
  readonly alpha: number;
  /** 1/m: alpha of orthogonal equal-norm gradients. */
  readonly alphaPerp: number;
  /** alpha / alpha_perp = m alpha. */
  readonly normalized: number;
  /** ||E_i g_i||^2 (the squared norm of the sample's mean gradient). */
  readonly meanGradientSquaredNorm: number;
  /** E_i ||g_i||^2 (the trace of the sample's empirical Fisher). */
  readonly meanSquaredGradientNorm: number;
  readonly settings: { readonly dtype: DTypeName; readonly source: string };
  readonly cost: { readonly perExampleGradients: number; readonly chunks: number; readonly seconds: number };
}

/** The coherence of the per-example gradients at theta (module comment for the definitions). */
export async function gradientCoherence(source: PerExampleGradients, theta: ArrayLike<number>): Promise<CoherenceResult> {
  const t0 = performance.now();
  let sum: Array | null = null;
  let sq: Array | null = null;
  let chunks = 0, rows = 0;
  for (const G of source.chunks(theta)) {
    chunks++;
    rows += G.shape[0];
    const s = G.ref.sum(0);
    const q = G.ref.mul(G).sum();
    sum = sum ? sum.add(s) : s;
    sq = sq ? sq.add(q) : q;
  }
  if (!sum || !sq) throw new Error("gradientCoherence: no per-example gradients");
  const m = rows;
  const sumSq = await takeScalar(sum.ref.mul(sum).sum());
  const q = await takeScalar(sq);
  const meanGrad = sumSq / (m * m);
  const meanSq = q / m;
  // All gradients zero (a perfect fit in float arithmetic): coherence is undefined.
  const alpha = meanSq > 0 ? meanGrad / meanSq : NaN;
  return {
    method: "gradient coherence alpha = ||E g_i||^2 / E ||g_i||^2 (Chatterjee & Zielinski 2022)",
    examples: m,
    parameters: source.size,
    alpha,
    alphaPerp: 1 / m,
    normalized: alpha * m,
    meanGradientSquaredNorm: meanGrad,
    meanSquaredGradientNorm: meanSq,
    settings: { dtype: source.dtype, source: source.description },
    cost: { perExampleGradients: m, chunks, seconds: (performance.now() - t0) / 1000 },
  };
}

/** `size` distinct rows of 0..n-1 (seeded partial Fisher-Yates), ascending; all rows if size >= n. */
export function sampleRows(n: number, size: number, seed: number): Int32Array {
  if (size >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const rng = hostRng(seed);
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < size; i++) {
    const j = i + rng.int(n - i);
    const t = p[i]; p[i] = p[j]; p[j] = t;
  }
  return p.slice(0, size).sort();
}

export interface CoherenceTrackingOptions {
  /** Record every this many steps (default 10), and at step 0 and the last step. */
  readonly every?: number;
  /** Training examples in the coherence sample (default 128; all when larger than the set). */
  readonly sampleSize?: number;
  /** Seed of the sample (default 0). */
  readonly seed?: number;
  /** Arithmetic of the coherence computation (default "float64"; training keeps its own). */
  readonly dtype?: DTypeName;
  readonly chunk?: number;
  /** Called after each recorded point. */
  readonly onPoint?: (p: CoherencePoint) => void;
  /** Called after each evaluation of the training run. */
  readonly onEval?: (r: EvalRecord) => void;
}

export interface CoherencePoint {
  readonly step: number;
  readonly alpha: number;
  readonly normalized: number;
  readonly meanGradientSquaredNorm: number;
  readonly meanSquaredGradientNorm: number;
  /** Mean minibatch loss of this step (null at step 0). */
  readonly batchLoss: number | null;
}

export interface CoherenceTrack {
  readonly settings: {
    readonly every: number;
    readonly sampleSize: number;
    readonly seed: number;
    readonly dtype: DTypeName;
    readonly definition: string;
  };
  readonly points: readonly CoherencePoint[];
  /** The training run (JSON: settings, history, final metrics). */
  readonly training: Omit<TrainResult, "theta">;
  readonly cost: { readonly perExampleGradients: number; readonly coherenceSeconds: number; readonly seconds: number };
}

/**
 * Trains as `train(config)` does and records the coherence of a fixed sample of training examples
 * (with the labels the run trains on) at step 0, every `every` steps (through TrainCallbacks.onStep)
 * and after the last step. The final parameters are `theta` on the result (non-enumerable).
 */
export async function coherenceOverTraining(
  config: TrainConfig,
  opts: CoherenceTrackingOptions = {},
): Promise<CoherenceTrack & { readonly theta: Float32Array | Float64Array }> {
  const t0 = performance.now();
  const every = opts.every ?? COHERENCE_DEFAULTS.every;
  if (!Number.isSafeInteger(every) || every < 1) throw optionError("every", `expected a positive integer, got ${every}`);
  const sampleSize = opts.sampleSize ?? COHERENCE_DEFAULTS.sampleSize;
  if (!Number.isSafeInteger(sampleSize) || sampleSize < 2) throw optionError("sample", `expected an integer >= 2, got ${sampleSize}`);
  const seed = opts.seed ?? COHERENCE_DEFAULTS.seed;
  const dtype = opts.dtype ?? "float64";
  const rows = sampleRows(config.train.y.length, sampleSize, seed);
  const sample = subset(config.train, rows, `${config.train.name} (coherence sample of ${rows.length})`);
  const source = modelPerExampleGradients(config.model, sample, { loss: config.loss, dtype, chunk: opts.chunk });
  const points: CoherencePoint[] = [];
  let coherenceMs = 0, perExample = 0;
  const measure = async (step: number, theta: ArrayLike<number>, batchLoss: number | null) => {
    const c0 = performance.now();
    const c = await gradientCoherence(source, theta);
    coherenceMs += performance.now() - c0;
    perExample += c.cost.perExampleGradients;
    const p: CoherencePoint = {
      step, alpha: c.alpha, normalized: c.normalized,
      meanGradientSquaredNorm: c.meanGradientSquaredNorm, meanSquaredGradientNorm: c.meanSquaredGradientNorm, batchLoss,
    };
    points.push(p);
    opts.onPoint?.(p);
  };
  try {
    const init = config.initTheta ?? config.model.init(config.seed ?? 0);
    await measure(0, init, null);
    let lastStep = 0;
    let lastLoss = NaN;
    const result = await train(config, {
      onStep: async (s) => {
        lastStep = s.step;
        lastLoss = s.batchLoss;
        // theta is borrowed: read a copy (data() consumes the extra reference).
        if (s.step % every === 0) await measure(s.step, (await s.theta.ref.data()) as Float32Array | Float64Array, s.batchLoss);
      },
      onEval: (r) => opts.onEval?.(r),
    });
    // The final parameters, when the last step was not on the grid.
    if (points[points.length - 1]!.step !== lastStep) await measure(lastStep, result.theta, lastLoss);
    const theta = result.theta;
    const training: Omit<TrainResult, "theta"> = { ...result }; // theta is non-enumerable: left out
    const track: CoherenceTrack = {
      settings: {
        every, sampleSize: rows.length, seed, dtype,
        definition: "alpha = ||mean_i g_i||^2 / mean_i ||g_i||^2 over the sample; normalized = alpha / alpha_perp with alpha_perp = 1/m",
      },
      points,
      training,
      cost: { perExampleGradients: perExample, coherenceSeconds: coherenceMs / 1000, seconds: (performance.now() - t0) / 1000 },
    };
    return Object.defineProperty(track, "theta", { value: theta, enumerable: false }) as CoherenceTrack & { theta: Float32Array | Float64Array };
  } finally {
    source.dispose();
  }
}
