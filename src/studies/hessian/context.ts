/**
 * What every part of the Hessian study shares: the settings, a journal that makes the study
 * resumable (trained parameters and finished parts are stored under keys; a re-run finds them
 * and skips the work), progress lines, and the few compositions the parts repeat: train a model
 * on a dataset, and take the dense spectrum of a curvature operator of the trained model.
 */
import type { Journal } from "../../linalg/journal.ts";
import { InputError } from "../../errors.ts";
import { parseModel } from "../../nn/spec.ts";
import type { Model } from "../../nn/model.ts";
import { loadData } from "../../data/spec.ts";
import type { Dataset } from "../../data/dataset.ts";
import type { LossName } from "../../nn/loss.ts";
import { train } from "../../train/train.ts";
import { makeProblem, evaluate, type LossProblem } from "../../curvature/problem.ts";
import { curvatureOperator, type OperatorName } from "../../curvature/make.ts";
import { materialize } from "../../curvature/dense.ts";
import { eigh } from "../../linalg/dense/eigh.ts";
import { eigenvectorsOf } from "../../spectrum/overlap.ts";
import type { HessianStudySettings } from "./settings.ts";

export interface StudyContext {
  readonly settings: HessianStudySettings;
  readonly journal: Journal;
  /** One progress line (the CLI prints it on stderr). */
  log(message: string): void;
  /** Progress of a long step, (done, total); the CLI draws a bar. Optional. */
  progress?(label: string): (done: number, total: number) => void;
}

/** The context's progress callback for a step, or a no-op. */
export function stepProgress(ctx: StudyContext, label: string): (done: number, total: number) => void {
  return ctx.progress ? ctx.progress(label) : () => {};
}

export interface TrainRequest {
  /** Journal key of the trained parameters, unique per (model, data, training). */
  readonly key: string;
  readonly model: string;
  readonly data: string;
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly momentum?: number;
  readonly seed: number;
  /** The training loss, also the loss whose curvature is measured (default cross-entropy). */
  readonly loss?: LossName;
  /** Start from these parameters instead of model.init(seed). */
  readonly initTheta?: ArrayLike<number>;
}

export interface TrainedModel {
  readonly model: Model;
  readonly data: Dataset;
  readonly theta: Float64Array;
  /** The loss trained on and measured. */
  readonly objective: LossName;
  /** Train loss and accuracy at theta (float64, whole set). */
  readonly loss: number;
  readonly accuracy: number;
  /** Seconds spent training now (0 when found in the journal). */
  readonly seconds: number;
}

const datasets = new Map<string, Dataset>();

/** Loads a data spec once per process (MNIST parsing is not free). */
export function cachedData(spec: string): Dataset {
  let ds = datasets.get(spec);
  if (!ds) {
    ds = loadData(spec);
    datasets.set(spec, ds);
  }
  return ds;
}

/** Trains (or finds in the journal) a model; float32 training, parameters kept as float64. */
export async function trainedModel(ctx: Pick<StudyContext, "journal" | "log">, req: TrainRequest): Promise<TrainedModel> {
  const model = parseModel(req.model);
  const data = cachedData(req.data);
  const key = `theta-${req.key}`;
  let theta = await ctx.journal.getArray(key);
  let seconds = 0;
  if (!theta || theta.length !== model.size) {
    ctx.log(`training ${req.model} on ${req.data} (${req.epochs} epochs, batch ${req.batchSize})`);
    const r = await train({
      model,
      train: data,
      epochs: req.epochs,
      batchSize: req.batchSize,
      loss: req.loss ?? "cross-entropy",
      optimizer: (req.momentum ?? 0.9) > 0 ? { name: "momentum", lr: req.lr, momentum: req.momentum ?? 0.9 } : { name: "sgd", lr: req.lr },
      seed: req.seed,
      initTheta: req.initTheta,
    });
    theta = Float64Array.from(r.theta);
    seconds = r.seconds;
    await ctx.journal.putArray(key, theta);
  }
  const objective = req.loss ?? "cross-entropy";
  const problem = makeProblem(model, data, theta, { dtype: "float64", loss: objective });
  const m = await evaluate(problem);
  problem.dispose();
  if (!Number.isFinite(m.loss)) {
    throw new InputError("training", `${req.model} on ${req.data} diverged (train loss ${m.loss} after ${req.epochs} epochs at lr ${req.lr}); lower the learning rate`);
  }
  return { model, data, theta, objective, loss: m.loss, accuracy: m.accuracy, seconds };
}

export interface DenseSpectrum {
  /** Ascending. */
  readonly eigenvalues: Float64Array;
  /** Unit eigenvectors of the `vectors` largest eigenvalues, largest first (when asked). */
  readonly top: readonly Float64Array[];
  readonly matvecs: number;
  readonly seconds: number;
}

/**
 * The dense spectrum of one curvature operator at theta, in float64 (Wasm): materialize, then
 * the dense symmetric eigensolver. `vectors` > 0 also returns that many top eigenvectors.
 */
export async function denseSpectrum(
  problem: LossProblem,
  operator: OperatorName,
  opts: { readonly vectors?: number; readonly onProgress?: (done: number, total: number) => void } = {},
): Promise<DenseSpectrum> {
  const t0 = performance.now();
  const op = curvatureOperator(problem, { operator });
  try {
    const A = await materialize(op, { onProgress: opts.onProgress });
    const k = opts.vectors ?? 0;
    const r = eigh({ n: A.n, data: A.data }, { vectors: k > 0, overwrite: true });
    const top = k > 0 ? eigenvectorsOf(r, Math.min(k, r.n), "largest") : [];
    return { eigenvalues: Float64Array.from(r.values), top, matvecs: op.matvecs, seconds: (performance.now() - t0) / 1000 };
  } finally {
    op.dispose();
  }
}

/**
 * All Hessian eigenvalues (ascending, float64, dense) of a trained model, kept in the journal
 * under the training key: parts share models (the base model is part a's, part b's middle width,
 * part c's base k and separation), and a resumed study does not recompute them.
 */
export async function hessianEigenvalues(ctx: StudyContext, key: string, tm: TrainedModel): Promise<Float64Array> {
  const jkey = `hessian-${key}`;
  const saved = await ctx.journal.getArray(jkey);
  if (saved && saved.length === tm.model.size) return saved;
  const problem = makeProblem(tm.model, tm.data, tm.theta, { dtype: "float64", loss: tm.objective });
  try {
    const spec = await denseSpectrum(problem, "hessian", { onProgress: stepProgress(ctx, `Hessian columns (${tm.model.size})`) });
    await ctx.journal.putArray(jkey, spec.eigenvalues);
    return spec.eigenvalues;
  } finally {
    problem.dispose();
  }
}

/** Journal key of a (model, data) pair: file-safe. */
export function modelKey(model: string, data: string): string {
  return `${model}@${data}`.replace(/[^A-Za-z0-9_.-]/g, "_");
}

export { sig } from "../study.ts";
