/**
 * Intrinsic dimension of an objective landscape (Li, Farkhoor, Liu, Yosinski 2018, "Measuring
 * the Intrinsic Dimension of Objective Landscapes"): train only d coordinates z of a random
 * subspace, theta = theta0 + P z (theta0 = model.init(seed), z starts at 0, P a fixed random
 * D x d projection, subspace.ts), and find the smallest d at which the trained model reaches
 * `threshold` (default 0.9) of the accuracy of the model trained in all D parameters: d_int90.
 *
 * `trainInSubspace` runs its own jitted step (train.ts trains theta directly): one jitted
 * function of (z, optimizer state, step scalars, P's constants, theta0, x, targets) computes the
 * minibatch loss at theta0 + P z, its gradient with respect to z (P^T g, by autodiff through the
 * projection) and the optimizer update of optimizers.ts on z. Batches follow train.ts (epoch e
 * shuffled by (seed, e), last partial batch kept). The model is evaluated once, at the end, on the
 * train set and the test set (when given).
 *
 * Defaults (DEFAULT_SUBSPACE_TRAIN): Adam lr 0.03, batch 64, 10 epochs, float32, cross-entropy,
 * projection "auto", seed 0 (theta0 = model.init(0), P seeded by the same seed). Why Adam and a
 * larger lr than the full model's (SGD lr would have to follow the size of P^T g, which depends on
 * d / D): Adam's per-coordinate scaling lets one learning rate serve a wide range of d (on MNIST
 * MLPs lr 0.01 under-trained in 10 epochs and lr 0.1 lost accuracy at d = 3200; see the study's
 * settings.ts for the measurements).
 *
 * `intrinsicDimensionSweep` trains the full model once with train() (the baseline: same data,
 * seed, batch size and epochs unless `baseline` says otherwise; train()'s default optimizer, SGD
 * momentum 0.9 lr 0.1), then the subspace model at each d of the grid. The metric is the test
 * accuracy when test data are given (as Li et al., who use validation accuracy), else the train
 * accuracy. d_int is read off the grid: the smallest grid d whose accuracy reaches
 * target = threshold x baseline (`dIntGrid`), refined by linear interpolation of the accuracy in
 * log d between that d and the grid point before it (`dInt`): the d where the straight line in
 * (log d, accuracy) crosses the target. When the smallest d of the grid already reaches the target,
 * dInt = that d and `bracket` is "below-grid" (d_int is at most it); when no d does, dInt is null
 * and `bracket` is "above-grid". With `refine` = r, the cell [d0, d1] of the first crossing is
 * bisected r times in log d (at round(sqrt(d0 d1)), keeping the half where the target is first
 * reached), and d_int is read as above from all the measured points. Each trained point and the
 * baseline can be kept in a journal
 * (keys "<prefix>baseline", "<prefix>d-<d>"), so an interrupted sweep resumes.
 */
import { numpy as np, jit, valueAndGrad, type Array } from "../engine/jax.ts";
import { toDType, DTYPES, type DTypeName } from "../engine/dtype.ts";
import { take, takeScalar } from "../engine/scope.ts";
import type { Dataset } from "../data/dataset.ts";
import { epochBatches, numBatches } from "../data/batches.ts";
import type { Model } from "../nn/model.ts";
import { lossValue, LOSSES, type LossName } from "../nn/loss.ts";
import { evaluate, makeProblem } from "../curvature/problem.ts";
import { checkDataFitsModel, toDeviceBatch } from "../data/device-batches.ts";
import { makeOptimizer, type OptimizerConfig, type OptimizerSettings } from "../train/optimizers.ts";
import { train, DEFAULT_TRAIN } from "../train/train.ts";
import { journaled, type Journal } from "../linalg/journal.ts";
import { InputError, optionError } from "../errors.ts";
import { checkPositiveInteger } from "../validate.ts";
import { makeProjection, parseProjection, type ProjectionName, type ProjectionSettings } from "./subspace.ts";
import { hostNorm } from "./objective.ts";

export interface SubspaceTrainOptions {
  /** Default "auto" (subspace.ts). */
  readonly projection?: ProjectionName;
  /** Seeds theta0 = model.init(seed), the shuffles, and P (default 0). */
  readonly seed?: number;
  /** Seeds P instead of `seed` (default: `seed`). */
  readonly projectionSeed?: number;
  /** Passes over the train set (default 10). */
  readonly epochs?: number;
  /** Examples per step (default 64; larger than the data = full batch). */
  readonly batchSize?: number;
  /** The optimizer of z (default Adam lr 0.03). */
  readonly optimizer?: OptimizerConfig | OptimizerSettings;
  /** Held-out data, evaluated at the end. */
  readonly test?: Dataset;
  /** Default "cross-entropy". */
  readonly loss?: LossName;
  /** Default "float32". */
  readonly dtype?: DTypeName;
  /** Examples per forward pass of the final evaluation (default 1000). */
  readonly evalBatchSize?: number;
  /** After every step (1-based step count, minibatch loss before the update). */
  readonly onStep?: (step: number, totalSteps: number, batchLoss: number) => void | Promise<void>;
}

export const DEFAULT_SUBSPACE_TRAIN = {
  projection: "auto" as ProjectionName,
  seed: 0,
  epochs: 10,
  batchSize: 64,
  optimizer: { name: "adam", lr: 0.03 } as OptimizerConfig,
  loss: "cross-entropy" as LossName,
  dtype: "float32" as DTypeName,
  evalBatchSize: 1000,
} as const;

export interface SubspaceTrainSettings {
  readonly model: string;
  readonly data: string;
  readonly testData: string | null;
  /** Subspace dimension and parameter count. */
  readonly d: number;
  readonly D: number;
  readonly projection: ProjectionSettings;
  readonly optimizer: OptimizerSettings;
  readonly epochs: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly loss: LossName;
  readonly dtype: DTypeName;
  readonly init: "model.init(seed)";
}

/** The outcome of one subspace training (JSON); z itself is a non-enumerable property. */
export interface SubspaceTrainResult {
  readonly settings: SubspaceTrainSettings;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly testLoss: number | null;
  readonly testAccuracy: number | null;
  /** Mean minibatch loss of each epoch. */
  readonly epochLosses: readonly number[];
  /** ||z|| and ||theta - theta0|| = ||P z|| at the end. */
  readonly zNorm: number;
  readonly displacement: number;
  readonly steps: number;
  readonly seconds: number;
  /** The trained coordinates (host, float64), non-enumerable. */
  readonly z?: Float64Array;
}

function positiveInt(v: number | undefined, input: string, dflt: number): number {
  return checkPositiveInteger(input, v ?? dflt);
}

/** Final loss and accuracy of the model at a host theta over a dataset (float64 evaluation off). */
async function evaluateAt(model: Model, data: Dataset, theta: ArrayLike<number>, loss: LossName, dtype: DTypeName, batchSize: number) {
  const p = makeProblem(model, data, theta, { loss, dtype, batchSize });
  try {
    return await evaluate(p);
  } finally {
    p.dispose();
  }
}

/** Trains z in theta = theta0 + P z (module comment); returns the final metrics. */
export async function trainInSubspace(model: Model, data: Dataset, d: number, opts: SubspaceTrainOptions = {}): Promise<SubspaceTrainResult> {
  const t0 = performance.now();
  const D = model.size;
  const loss = opts.loss ?? DEFAULT_SUBSPACE_TRAIN.loss;
  if (!LOSSES.includes(loss)) throw optionError("loss", `expected one of ${LOSSES.join(", ")}, got "${loss}"`);
  const dtype = opts.dtype ?? DEFAULT_SUBSPACE_TRAIN.dtype;
  if (!DTYPES.includes(dtype)) throw optionError("dtype", `expected float32 or float64, got "${dtype}"`);
  const seed = opts.seed ?? DEFAULT_SUBSPACE_TRAIN.seed;
  if (!Number.isSafeInteger(seed) || seed < 0) throw optionError("seed", `expected an integer >= 0, got ${seed}`);
  const epochs = positiveInt(opts.epochs, "epochs", DEFAULT_SUBSPACE_TRAIN.epochs);
  const n = data.y.length;
  checkDataFitsModel(model, data);
  if (opts.test) checkDataFitsModel(model, opts.test);
  const batchSize = Math.min(positiveInt(opts.batchSize, "batchSize", DEFAULT_SUBSPACE_TRAIN.batchSize), n);
  const evalBatchSize = positiveInt(opts.evalBatchSize, "eval batch size", DEFAULT_SUBSPACE_TRAIN.evalBatchSize);
  const requested = parseProjection(opts.projection ?? DEFAULT_SUBSPACE_TRAIN.projection);
  const opt = makeOptimizer(opts.optimizer ?? DEFAULT_SUBSPACE_TRAIN.optimizer);
  const proj = makeProjection(d, D, { kind: requested, seed: opts.projectionSeed ?? seed, dtype });
  const dt = toDType(dtype);
  const host = (a: ArrayLike<number>) => np.array(dtype === "float64" ? Float64Array.from(a) : Float32Array.from(a), { dtype: dt });
  const settings: SubspaceTrainSettings = {
    model: model.spec, data: data.name, testData: opts.test?.name ?? null, d, D, projection: proj.settings,
    optimizer: opt.settings, epochs, batchSize, seed, loss, dtype, init: "model.init(seed)",
  };

  const theta0Host = model.init(seed);
  const batchLoss = (z: Array, params: Array[], theta0: Array, x: Array, targets: Array): Array =>
    lossValue(loss, model.apply(theta0.add(proj.project(params, z)), x), targets);
  const step = jit((z: Array, state: Array[], h: Array, params: Array[], theta0: Array, x: Array, targets: Array) => {
    const [value, g] = valueAndGrad(batchLoss)(z.ref, params, theta0, x, targets);
    const [next, nextState] = opt.update(z, g, state, h);
    return [next, nextState, value] as [Array, Array[], Array];
  });
  let theta0: Array | null = null;
  let z: Array | null = null;
  let state: Array[] = [];
  let scalars: Array | null = null;
  try {
    theta0 = host(theta0Host);
    z = np.zeros([d], { dtype: dt });
    state = opt.initState(d, dtype);
    let hostScalars: Float64Array | null = null;
    const scalarsFor = (t: number): Array => {
      const hs = opt.scalars(t);
      if (!hostScalars || hs.some((v, i) => v !== hostScalars![i])) {
        scalars?.dispose();
        scalars = host(hs);
        hostScalars = hs;
      }
      return scalars!.ref;
    };
    const perEpoch = numBatches(n, batchSize, "keep");
    const totalSteps = epochs * perEpoch;
    const epochLosses: number[] = [];
    let done = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      let sum = 0;
      for (const indices of epochBatches(n, epoch, { batchSize, seed, lastBatch: "keep" })) {
        const b = toDeviceBatch(model, data, indices, dtype);
        b.labels.dispose();
        const [next, nextState, value]: [Array, Array[], Array] = step(
          z!, state, scalarsFor(done + 1), proj.params.map((p) => p.ref), theta0!.ref, b.x, b.targets,
        );
        z = next;
        state = nextState;
        done++;
        // Reading the loss waits for the step, so the host does not queue steps ahead.
        const l = await takeScalar(value);
        sum += l;
        if (opts.onStep) await opts.onStep(done, totalSteps, l);
      }
      epochLosses.push(sum / perEpoch);
    }
    const zHost = Float64Array.from(await take(z!.ref));
    const delta = Float64Array.from(await take(proj.apply(z!)));
    z = null;
    const theta = Float64Array.from(theta0Host, (v, i) => v + delta[i]!);
    const tr = await evaluateAt(model, data, theta, loss, dtype, evalBatchSize);
    const te = opts.test ? await evaluateAt(model, opts.test, theta, loss, dtype, evalBatchSize) : null;
    const result: SubspaceTrainResult = {
      settings,
      trainLoss: tr.loss,
      trainAccuracy: tr.accuracy,
      testLoss: te ? te.loss : null,
      testAccuracy: te ? te.accuracy : null,
      epochLosses,
      zNorm: hostNorm(zHost),
      displacement: hostNorm(delta),
      steps: done,
      seconds: (performance.now() - t0) / 1000,
    };
    return Object.defineProperty(result, "z", { value: zHost, enumerable: false });
  } finally {
    for (const a of [z, theta0, scalars, ...state]) if (a && a.refCount > 0) a.dispose();
    step.dispose();
    proj.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// The sweep

export interface BaselineOptions {
  /** Default: the sweep's epochs. */
  readonly epochs?: number;
  /** Default: the sweep's batch size. */
  readonly batchSize?: number;
  /** Default: train()'s (SGD momentum 0.9, lr 0.1). */
  readonly optimizer?: OptimizerConfig | OptimizerSettings;
}

export interface SweepOptions extends Omit<SubspaceTrainOptions, "onStep"> {
  /** Fraction of the baseline accuracy to reach (default 0.9). */
  readonly threshold?: number;
  /** How the full model is trained. */
  readonly baseline?: BaselineOptions;
  /** Keeps the baseline and each point (keys "<prefix>baseline", "<prefix>d-<d>"). */
  readonly journal?: Journal;
  /** Prefix of the journal keys (default ""); letters, digits, '.', '_', '-'. */
  readonly journalPrefix?: string;
  /** After the baseline and after each point (done counts the baseline). */
  readonly onProgress?: (done: number, total: number, label: string) => void | Promise<void>;
  /** Per-step progress of the training under way. */
  readonly onStep?: (label: string, step: number, totalSteps: number) => void;
  /**
   * Bisections (in log d) of the grid cell where the target is first reached, each one more
   * trained point (default 0): a coarse grid (doubling d) then no longer puts every d_int of a
   * family in one cell.
   */
  readonly refine?: number;
}

/** One d of the sweep. */
export interface SweepPoint {
  readonly d: number;
  readonly projection: ProjectionSettings["kind"];
  /** The metric (test accuracy when test data are given, else train accuracy). */
  readonly accuracy: number;
  /** accuracy / baseline accuracy. */
  readonly fraction: number;
  readonly reached: boolean;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly testLoss: number | null;
  readonly testAccuracy: number | null;
  readonly displacement: number;
  readonly steps: number;
  readonly seconds: number;
}

export interface BaselineResult {
  readonly accuracy: number;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly testLoss: number | null;
  readonly testAccuracy: number | null;
  readonly optimizer: OptimizerSettings;
  readonly epochs: number;
  readonly batchSize: number;
  readonly steps: number;
  readonly seconds: number;
}

export interface IntrinsicDimensionResult {
  readonly settings: {
    readonly model: string;
    readonly data: string;
    readonly testData: string | null;
    /** Parameter count. */
    readonly D: number;
    /** The grid, ascending. */
    readonly dims: readonly number[];
    /** The d added by refinement, in the order trained (empty without `refine`). */
    readonly refined: readonly number[];
    readonly threshold: number;
    readonly metric: "test accuracy" | "train accuracy";
    readonly interpolation: string;
    readonly subspace: {
      readonly projection: ProjectionName;
      readonly optimizer: OptimizerSettings;
      readonly epochs: number;
      readonly batchSize: number;
      readonly seed: number;
      readonly projectionSeed: number;
      readonly loss: LossName;
      readonly dtype: DTypeName;
    };
  };
  readonly baseline: BaselineResult;
  /** threshold x baseline accuracy. */
  readonly target: number;
  /** Every measured d, ascending (grid and refinement). */
  readonly points: readonly SweepPoint[];
  /** The smallest measured d (grid or refinement) reaching the target, or null. */
  readonly dIntGrid: number | null;
  /** Interpolated (module comment), or null when no d of the grid reaches the target. */
  readonly dInt: number | null;
  readonly bracket: "within" | "below-grid" | "above-grid";
  /** Trainings run now (the rest came from the journal). */
  readonly trainings: number;
  readonly seconds: number;
}

const INTERPOLATION =
  "smallest measured d (grid, then `refine` bisections of the crossing cell) reaching the target, refined by linear interpolation of the accuracy in log d between it and the measured point before it";

/**
 * d_int from a grid (ascending dims) and accuracies: see the module comment. Exported for tests
 * and for studies that rebuild it from stored points.
 */
export function interpolateCrossing(
  dims: readonly number[], accuracy: readonly number[], target: number,
): { readonly dIntGrid: number | null; readonly dInt: number | null; readonly bracket: "within" | "below-grid" | "above-grid" } {
  const i = accuracy.findIndex((a) => a >= target);
  if (i < 0) return { dIntGrid: null, dInt: null, bracket: "above-grid" };
  if (i === 0) return { dIntGrid: dims[0]!, dInt: dims[0]!, bracket: "below-grid" };
  const [d0, d1, a0, a1] = [dims[i - 1]!, dims[i]!, accuracy[i - 1]!, accuracy[i]!];
  const t = (target - a0) / (a1 - a0); // a0 < target <= a1, so 0 < t <= 1
  const dInt = Math.exp(Math.log(d0) + t * (Math.log(d1) - Math.log(d0)));
  return { dIntGrid: d1, dInt, bracket: "within" };
}

/** Trains the full model once and the subspace model at each d; finds d_int (module comment). */
export async function intrinsicDimensionSweep(
  model: Model, data: Dataset, dims: readonly number[], opts: SweepOptions = {},
): Promise<IntrinsicDimensionResult> {
  const t0 = performance.now();
  const threshold = opts.threshold ?? 0.9;
  if (!(Number.isFinite(threshold) && threshold > 0 && threshold <= 1)) {
    throw optionError("threshold", `expected a number in (0, 1], got ${threshold}`);
  }
  if (dims.length === 0) throw optionError("dims", "expected at least one subspace dimension, got none");
  const grid = [...new Set(dims)].sort((a, b) => a - b);
  for (const d of grid) {
    if (!Number.isSafeInteger(d) || d < 1 || d > model.size) {
      throw optionError("dims", `expected integers in 1..${model.size} (the parameter count of ${model.spec}), got ${d}`);
    }
  }
  const prefix = opts.journalPrefix ?? "";
  if (!/^[A-Za-z0-9_.-]*$/.test(prefix)) throw new InputError("journal prefix", `expected letters, digits, '.', '_' or '-', got "${prefix}"`);
  const seed = opts.seed ?? DEFAULT_SUBSPACE_TRAIN.seed;
  const epochs = opts.epochs ?? DEFAULT_SUBSPACE_TRAIN.epochs;
  const batchSize = opts.batchSize ?? DEFAULT_SUBSPACE_TRAIN.batchSize;
  const dtype = opts.dtype ?? DEFAULT_SUBSPACE_TRAIN.dtype;
  const loss = opts.loss ?? DEFAULT_SUBSPACE_TRAIN.loss;
  const subOptimizer = makeOptimizer(opts.optimizer ?? DEFAULT_SUBSPACE_TRAIN.optimizer).settings;
  const baseOptimizer = makeOptimizer(opts.baseline?.optimizer ?? DEFAULT_TRAIN.optimizer).settings;
  const metric = opts.test ? "test accuracy" : "train accuracy";
  let total = grid.length + 1;
  let trainings = 0;

  const baseEpochs = opts.baseline?.epochs ?? epochs;
  const baseBatch = opts.baseline?.batchSize ?? batchSize;
  const baseline = await journaled<BaselineResult>(opts.journal, `${prefix}baseline`, async () => {
    trainings++;
    const r = await train({
      model, train: data, test: opts.test, loss, optimizer: baseOptimizer, batchSize: baseBatch, epochs: baseEpochs, seed, dtype,
    }, opts.onStep ? { onStep: (s) => opts.onStep!("baseline", s.step, baseEpochs * numBatches(data.y.length, Math.min(baseBatch, data.y.length))) } : {});
    const f = r.final;
    return {
      accuracy: opts.test ? f.testAccuracy! : f.trainAccuracy,
      trainLoss: f.trainLoss, trainAccuracy: f.trainAccuracy, testLoss: f.testLoss, testAccuracy: f.testAccuracy,
      optimizer: r.settings.optimizer, epochs: baseEpochs, batchSize: r.settings.batchSize, steps: r.steps, seconds: r.seconds,
    };
  });
  await opts.onProgress?.(1, total, "baseline");
  const target = threshold * baseline.accuracy;

  const refine = opts.refine ?? 0;
  if (!Number.isInteger(refine) || refine < 0 || refine > 20) throw optionError("refine", `expected an integer from 0 to 20, got ${refine}`);
  const points: SweepPoint[] = [];
  const measure = async (d: number) => {
    const p = await journaled<SweepPoint>(opts.journal, `${prefix}d-${d}`, async () => {
      trainings++;
      const r = await trainInSubspace(model, data, d, {
        ...opts, seed, epochs, batchSize, dtype, loss, optimizer: subOptimizer,
        onStep: opts.onStep ? (s, t) => opts.onStep!(`d = ${d}`, s, t) : undefined,
      });
      const accuracy = opts.test ? r.testAccuracy! : r.trainAccuracy;
      return {
        d, projection: r.settings.projection.kind, accuracy, fraction: 0, reached: false,
        trainLoss: r.trainLoss, trainAccuracy: r.trainAccuracy, testLoss: r.testLoss, testAccuracy: r.testAccuracy,
        displacement: r.displacement, steps: r.steps, seconds: r.seconds,
      };
    });
    // Fraction and reached depend on the baseline: recomputed, not trusted from the journal.
    const point = { ...p, fraction: baseline.accuracy > 0 ? p.accuracy / baseline.accuracy : 0, reached: p.accuracy >= target };
    points.push(point);
    await opts.onProgress?.(points.length + 1, total, `d = ${d}`);
    return point;
  };
  for (const d of grid) await measure(d);
  // Refinement: bisect the cell [d0, d1] of the first crossing at round(sqrt(d0 d1)).
  const refined: number[] = [];
  let cell = interpolateCrossing(grid, points.map((p) => p.accuracy), target);
  if (cell.bracket === "within" && refine > 0) {
    let hi = cell.dIntGrid!, lo = grid[grid.indexOf(hi) - 1]!;
    for (let r = 0; r < refine; r++) {
      const mid = Math.round(Math.sqrt(lo * hi));
      if (mid <= lo || mid >= hi) break;
      total++;
      refined.push(mid);
      if ((await measure(mid)).reached) hi = mid;
      else lo = mid;
    }
    points.sort((a, b) => a.d - b.d);
    cell = interpolateCrossing(points.map((p) => p.d), points.map((p) => p.accuracy), target);
  }
  const crossing = cell;
  return {
    settings: {
      model: model.spec, data: data.name, testData: opts.test?.name ?? null, D: model.size, dims: grid, refined, threshold, metric,
      interpolation: INTERPOLATION,
      subspace: {
        projection: opts.projection ?? DEFAULT_SUBSPACE_TRAIN.projection, optimizer: subOptimizer, epochs, batchSize, seed,
        projectionSeed: opts.projectionSeed ?? seed, loss, dtype,
      },
    },
    baseline,
    target,
    points,
    ...crossing,
    trainings,
    seconds: (performance.now() - t0) / 1000,
  };
}
