/**
 * A loss problem: a model at a point theta, a loss and a dataset, split in device batches. This
 * is what curvature operators are made from. The dataset loss is the mean of per-example losses;
 * batch b contributes (sum of its losses) / N, so sums over batches are exact whatever the split.
 */
import { numpy as np, jit, grad, type Array } from "../engine/jax.ts";
import { toDType, type DTypeName } from "../engine/dtype.ts";
import { take, takeScalar } from "../engine/scope.ts";
import { jitReplaySetting } from "../engine/setup.ts";
import type { Dataset } from "../data/dataset.ts";
import { checkDataFitsModel, deviceBatches, type DeviceBatch } from "../data/device-batches.ts";
import type { Model } from "../nn/model.ts";
import { lossValue, correctCount, type LossName } from "../nn/loss.ts";
import { InputError } from "../errors.ts";
import { sumOver, sumOverAsync } from "./operator.ts";
import { chunksOf, disposeChunks, planChunkRows } from "./chunks.ts";

export interface LossProblem {
  readonly model: Model;
  readonly loss: LossName;
  readonly dtype: DTypeName;
  /** Flat parameters, length model.size. */
  readonly theta: Array;
  readonly batches: readonly DeviceBatch[];
  /** Number of examples. */
  readonly n: number;
  readonly dataName: string;
  dispose(): void;
}

export interface ProblemOptions {
  readonly loss?: LossName;
  readonly dtype?: DTypeName;
  /** Examples per batch when accumulating over the dataset (default 1000). */
  readonly batchSize?: number;
}

export function makeProblem(model: Model, data: Dataset, theta: ArrayLike<number>, opts: ProblemOptions = {}): LossProblem {
  checkDataFitsModel(model, data);
  if (theta.length !== model.size) {
    throw new InputError("theta", `expected ${model.size} parameters for "${model.spec}", got ${theta.length}`, { option: true });
  }
  const dtype = opts.dtype ?? "float32";
  const batchSize = opts.batchSize ?? 1000;
  const batches = deviceBatches(model, data, dtype, batchSize);
  const host = dtype === "float64" ? Float64Array.from(theta) : Float32Array.from(theta);
  const thetaArr = np.array(host, { dtype: toDType(dtype) });
  return {
    model,
    loss: opts.loss ?? "cross-entropy",
    dtype,
    theta: thetaArr,
    batches,
    n: data.y.length,
    dataName: data.name,
    dispose() {
      thetaArr.dispose();
      for (const b of batches) b.x.dispose(), b.targets.dispose(), b.labels.dispose();
    },
  };
}

/** The problem in words, e.g. "cross-entropy of mlp:4-8-3 on gmm (300 examples, 1 batch, float64)". */
export function describeProblem(problem: LossProblem): string {
  return `${problem.loss} of ${problem.model.spec} on ${problem.dataName} (${problem.n} examples, ${problem.batches.length} batch${problem.batches.length === 1 ? "" : "es"}, ${problem.dtype})`;
}

/**
 * A batch's contribution to the dataset loss, (sum of its losses) / N, as a function of
 * (theta, x, targets): batches are arguments, not captured constants, so one jit trace serves
 * every batch of the same size. Consumes its arguments.
 */
export function batchLoss(problem: LossProblem): (theta: Array, x: Array, targets: Array) => Array {
  const { model, loss, n } = problem;
  return (theta, x, targets) => lossValue(loss, model.apply(theta, x), targets, n);
}

/** Mean loss and accuracy over the problem's dataset at its theta. */
export async function evaluate(problem: LossProblem): Promise<{ loss: number; accuracy: number }> {
  let loss = 0;
  let correct = 0;
  for (const b of problem.batches) {
    const out = problem.model.apply(problem.theta.ref, b.x.ref);
    loss += await takeScalar(lossValue(problem.loss, out.ref, b.targets.ref, problem.n));
    correct += await takeScalar(correctCount(out, b.labels.ref));
  }
  return { loss, accuracy: correct / problem.n };
}

/**
 * Gradient of the dataset loss at theta (a new device vector), one jitted program per batch,
 * dispatched at once: the fastest where the batches' programs fit in memory together (MLPs).
 * For convolutional networks use gradientAsync.
 */
export function gradient(problem: LossProblem): Array {
  const f = jit(grad(batchLoss(problem)));
  const total = sumOver(problem.batches, (b) => f(problem.theta.ref, b.x.ref, b.targets.ref));
  f.dispose();
  return total;
}

/**
 * Floats of device memory per activation float of one example in the jitted gradient program,
 * measured on resnet:20 (float32, Wasm, 2 threads: peak resident memory 675 MiB at 16 images and
 * 1,982 MiB at 64, i.e. 27 MiB an image of 200,704 activations).
 */
const GRADIENT_FLOATS_PER_ACTIVATION = 34;

export interface GradientFunction {
  /** The gradient at the problem's theta (a new device vector). */
  compute(): Promise<Array>;
  /** Examples per chunk at most (chunks.ts). */
  readonly chunkRows: number;
  dispose(): void;
}

/**
 * The same gradient in bounded memory, for repeated use (the program is compiled once): batches
 * cut into chunks that fit chunks.ts's budget by the model's activations (`chunkRows` examples at
 * most, if given), each chunk's program awaited before the next is dispatched. Equal to
 * `gradient` up to the order of the sums.
 */
export function gradientFunction(problem: LossProblem, opts: { readonly chunkRows?: number } = {}): GradientFunction {
  const rows = opts.chunkRows ?? planChunkRows(problem, GRADIENT_FLOATS_PER_ACTIVATION);
  const chunks = chunksOf(problem, rows);
  const f = jit(grad(batchLoss(problem)));
  return {
    compute: () => sumOverAsync(chunks, (c) => f(problem.theta.ref, c.x.ref, c.targets.ref)),
    chunkRows: rows,
    dispose: () => (f.dispose(), disposeChunks(chunks)),
  };
}

/** gradientFunction's gradient, once. */
export async function gradientAsync(problem: LossProblem, opts: { readonly chunkRows?: number } = {}): Promise<Array> {
  const g = gradientFunction(problem, opts);
  try {
    return await g.compute();
  } finally {
    g.dispose();
  }
}

export async function gradientHost(problem: LossProblem): Promise<Float32Array | Float64Array> {
  return take(await gradientAsync(problem));
}


/**
 * Whether linearized products of this problem should replay through `jit`. Measured on 2 Wasm
 * threads: jit wins where dispatching one operation at a time dominates (mlp:20-32-5, 837
 * parameters x 1,000 examples: 4.4 ms vs 11-15 ms eager), and loses badly on large ones, whose
 * compiled replay is several times slower than eager (mlp:784-128-10 x 1,000: 120 ms vs 23 ms;
 * mlp:100-64-10 x 1,000: 12 ms vs 8 ms). The limit on parameters x examples per batch sits
 * between those cases.
 */
export const JIT_REPLAY_LIMIT = 4e6;

export function replaysThroughJit(problem: LossProblem): boolean {
  // CURVLAB_JIT_REPLAY=always|never overrides the choice (tests check both paths against dense).
  const forced = jitReplaySetting();
  if (forced === "always") return true;
  if (forced === "never") return false;
  const rows = Math.max(...problem.batches.map((b) => b.x.shape[0]));
  return problem.model.size * rows <= JIT_REPLAY_LIMIT;
}
