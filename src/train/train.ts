/**
 * Minibatch training of a model on a dataset: the loop that produces the solutions whose
 * curvature the rest of curvlab measures.
 *
 * Each step is ONE jitted function of (theta, optimizer state, step scalars, x, targets) that
 * computes the minibatch loss (mean over the batch, as PyTorch's default reduction), its gradient,
 * and the optimizer update (optimizers.ts). Batches are arguments, so every batch of one size
 * reuses one trace (with lastBatch "keep", a smaller final batch adds a second); nested autodiff
 * under jit does not leak (eager does), so memory stays flat over any number of steps.
 *
 * Batches: epoch e is a permutation seeded by (seed, e) cut into batches (data/batches.ts), so a
 * run is reproducible from its seed; theta starts at model.init(seed) unless `initTheta` is given.
 *
 * Evaluation: the full train set (and test set) at the current theta, in batches of
 * `evalBatchSize` kept on the device for the whole run, with one jitted function; recorded at step
 * 0, then after every epoch (or every `evalEvery` steps), and always after the last step. Each
 * record also has the mean minibatch loss since the previous record (the running loss PyTorch
 * loops usually print).
 *
 * Defaults (DEFAULT_TRAIN): cross-entropy, SGD momentum 0.9 lr 0.1, batch 64, 30 epochs,
 * seed 0, float32, last partial batch kept. Chosen to serve both standard examples: the mixture
 * gmm:k=5,d=20,n=200,sep=3 (1000 points, 16 steps per epoch) needs about 25 epochs for
 * mlp:20-64-5:tanh to fit it (>= 97% train accuracy; 99.9% at 30, about 1-2 s); MNIST (10,000
 * digits, 80/20 split, 125 steps per epoch) with mlp:784-100-10:tanh reaches 95% test accuracy by
 * epoch 12 and stays there (95.1% at 30; 20-30 s on 2 Wasm threads, where small batches are
 * dispatch-bound: 1 thread took 19 s). Fewer epochs or larger batches under-fit the mixture;
 * lr 0.1 at batch 32 is noisy on MNIST.
 */
import { numpy as np, jit, valueAndGrad, type Array } from "../engine/jax.ts";
import { toDType, DTYPES, type DTypeName } from "../engine/dtype.ts";
import { engineInfo, type DeviceName } from "../engine/start.ts";
import { take, takeScalar } from "../engine/scope.ts";
import type { Dataset } from "../data/dataset.ts";
import { epochBatches, gather, numBatches, type LastBatch } from "../data/batches.ts";
import type { Model } from "../nn/model.ts";
import { lossValue, correctCount, LOSSES, type LossName } from "../nn/loss.ts";
import { checkDataFitsModel, deviceBatches, type DeviceBatch } from "../data/device-batches.ts";
import { InputError, optionError } from "../errors.ts";
import { checkPositiveInteger } from "../validate.ts";
import { DEFAULT_OPTIMIZER, makeOptimizer, type OptimizerConfig, type OptimizerSettings } from "./optimizers.ts";

export interface TrainConfig {
  readonly model: Model;
  readonly train: Dataset;
  /** Held-out data, evaluated beside the train set (optional). */
  readonly test?: Dataset;
  /** Default "cross-entropy". */
  readonly loss?: LossName;
  /** Default SGD momentum 0.9, lr 0.1 (optimizers.ts). */
  readonly optimizer?: OptimizerConfig | OptimizerSettings;
  /** Examples per step (default 64; larger than the train set = full batch). */
  readonly batchSize?: number;
  /** Passes over the train set (default 30). Give `epochs` or `steps`, not both. */
  readonly epochs?: number;
  /** Number of optimizer steps, crossing epochs as needed (instead of `epochs`). */
  readonly steps?: number;
  /** Seeds the initialization and the shuffles (default 0). */
  readonly seed?: number;
  /** Default "float32". */
  readonly dtype?: DTypeName;
  /** Starting parameters (host, length model.size) instead of model.init(seed). */
  readonly initTheta?: ArrayLike<number>;
  /** Evaluate every this many steps (default: after every epoch). */
  readonly evalEvery?: number;
  /** The last partial batch of an epoch: "keep" (default, PyTorch's drop_last=False) or "drop". */
  readonly lastBatch?: LastBatch;
  /** Examples per forward pass when evaluating (default 1000). */
  readonly evalBatchSize?: number;
}

export const DEFAULT_TRAIN = {
  loss: "cross-entropy" as LossName,
  optimizer: DEFAULT_OPTIMIZER,
  batchSize: 64,
  epochs: 30,
  seed: 0,
  dtype: "float32" as DTypeName,
  lastBatch: "keep" as LastBatch,
  evalBatchSize: 1000,
} as const;

/** Every setting of a run, resolved: what the result records (JSON). */
export interface TrainSettings {
  readonly model: string;
  readonly data: string;
  readonly testData: string | null;
  readonly loss: LossName;
  readonly optimizer: OptimizerSettings;
  readonly batchSize: number;
  /** Epochs asked for, or null when `steps` was. */
  readonly epochs: number | null;
  /** Steps asked for, or null when `epochs` was. */
  readonly steps: number | null;
  readonly seed: number;
  readonly dtype: DTypeName;
  /** Steps between evaluations, or null for once per epoch. */
  readonly evalEvery: number | null;
  readonly lastBatch: LastBatch;
  readonly evalBatchSize: number;
  /** "model.init(seed)" or "given". */
  readonly init: "model.init(seed)" | "given";
  readonly trainExamples: number;
  readonly testExamples: number | null;
  readonly device: DeviceName;
  readonly threads: number;
}

/** One evaluation. Metrics are over the whole set at theta after `step` steps. */
export interface EvalRecord {
  readonly step: number;
  /** Epochs done, fractional (step / steps per epoch). */
  readonly epoch: number;
  /** Seconds since training began (evaluations included). */
  readonly seconds: number;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly testLoss: number | null;
  readonly testAccuracy: number | null;
  /** Mean minibatch loss over the steps since the previous record (null at step 0). */
  readonly batchLoss: number | null;
}

export interface StepInfo {
  /** Steps done, counting this one (1-based). */
  readonly step: number;
  /** The 0-based epoch this step belongs to. */
  readonly epoch: number;
  /** The minibatch loss at theta before this step's update. */
  readonly batchLoss: number;
  /**
   * theta after the update, BORROWED: do not dispose it or keep it past the callback; take
   * `theta.ref` to pass it to jax-js functions (they consume their arguments).
   */
  readonly theta: Array;
}

export interface TrainCallbacks {
  /** After every step; awaited when it returns a promise. */
  onStep?(info: StepInfo): void | Promise<void>;
  /** After every evaluation (including step 0 and the final one). */
  onEval?(record: EvalRecord): void | Promise<void>;
}

export interface TrainMetrics {
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly testLoss: number | null;
  readonly testAccuracy: number | null;
}

/**
 * The result. JSON-serializable: `JSON.stringify(result)` writes settings, history, final,
 * steps, epochs and seconds. The final parameters are in `theta`, a NON-ENUMERABLE property
 * (left out of JSON and of object spread; read it as `result.theta`).
 */
export interface TrainResult {
  readonly settings: TrainSettings;
  readonly history: readonly EvalRecord[];
  /** Metrics at the final theta (the last history record). */
  readonly final: TrainMetrics;
  readonly steps: number;
  /** Epochs done, fractional. */
  readonly epochs: number;
  /** Wall-clock seconds of the whole run; `evalSeconds` of them spent evaluating. */
  readonly seconds: number;
  readonly evalSeconds: number;
  /** Final parameters (host, the run's dtype), non-enumerable. */
  readonly theta: Float32Array | Float64Array;
}

function positiveInt(v: number | undefined, input: string, dflt?: number): number | undefined {
  return v === undefined ? dflt : checkPositiveInteger(input, v);
}

/** Checks and completes a config; InputError naming the setting at fault. */
export function resolveTrainConfig(c: TrainConfig): TrainSettings {
  const loss = c.loss ?? DEFAULT_TRAIN.loss;
  if (!LOSSES.includes(loss)) throw optionError("loss", `expected one of ${LOSSES.join(", ")}, got "${loss}"`);
  const dtype = c.dtype ?? DEFAULT_TRAIN.dtype;
  if (!DTYPES.includes(dtype)) throw optionError("dtype", `expected float32 or float64, got "${dtype}"`);
  if (c.epochs !== undefined && c.steps !== undefined) {
    throw optionError("steps", "give the number of epochs or of steps, not both");
  }
  const steps = positiveInt(c.steps, "steps") ?? null;
  const epochs = steps === null ? positiveInt(c.epochs, "epochs", DEFAULT_TRAIN.epochs)! : null;
  const seed = c.seed ?? DEFAULT_TRAIN.seed;
  if (!Number.isSafeInteger(seed) || seed < 0) throw optionError("seed", `expected an integer >= 0, got ${seed}`);
  const lastBatch = c.lastBatch ?? DEFAULT_TRAIN.lastBatch;
  if (lastBatch !== "keep" && lastBatch !== "drop") throw new InputError("last batch", `expected "keep" or "drop", got "${lastBatch}"`);
  checkDataFitsModel(c.model, c.train);
  if (c.test) checkDataFitsModel(c.model, c.test);
  const n = c.train.y.length;
  // A batch larger than the data is the full batch (PyTorch's DataLoader does the same).
  const batchSize = Math.min(positiveInt(c.batchSize, "batchSize", DEFAULT_TRAIN.batchSize)!, n);
  if (c.initTheta) {
    if (c.initTheta.length !== c.model.size) {
      throw optionError("theta", `expected ${c.model.size} parameters for "${c.model.spec}", got ${c.initTheta.length}`);
    }
    for (let i = 0; i < c.initTheta.length; i++) {
      if (!Number.isFinite(c.initTheta[i]!)) throw optionError("theta", `parameter ${i} is not finite (${c.initTheta[i]})`);
    }
  }
  const info = engineInfo();
  return {
    model: c.model.spec,
    data: c.train.name,
    testData: c.test?.name ?? null,
    loss,
    optimizer: makeOptimizer(c.optimizer ?? DEFAULT_TRAIN.optimizer).settings,
    batchSize,
    epochs,
    steps,
    seed,
    dtype,
    evalEvery: positiveInt(c.evalEvery, "evalEvery") ?? null,
    lastBatch,
    evalBatchSize: positiveInt(c.evalBatchSize, "eval batch size", DEFAULT_TRAIN.evalBatchSize)!,
    init: c.initTheta ? "given" : "model.init(seed)",
    trainExamples: n,
    testExamples: c.test ? c.test.y.length : null,
    device: info.device,
    threads: info.threads,
  };
}

/** A host minibatch on the device: inputs [m, ...inputShape] and one-hot targets [m, classes]. */
function hostBatch(model: Model, data: Dataset, indices: Int32Array, dtype: DTypeName): { x: Array; targets: Array } {
  const g = gather(data, indices, { dtype });
  const m = indices.length;
  const c = model.outputDim;
  const onehot = dtype === "float64" ? new Float64Array(m * c) : new Float32Array(m * c);
  for (let r = 0; r < m; r++) onehot[r * c + g.y[r]!] = 1;
  const dt = toDType(dtype);
  return {
    x: np.array(g.x, { dtype: dt }).reshape([m, ...model.inputShape]),
    targets: np.array(onehot, { dtype: dt }).reshape([m, c]),
  };
}

/** Evaluator of one dataset: its batches stay on the device for the run. */
interface Evaluator {
  run(theta: Array): Promise<{ loss: number; accuracy: number }>;
  dispose(): void;
}

function makeEvaluator(
  model: Model, data: Dataset, loss: LossName, dtype: DTypeName, batchSize: number,
  fn: (theta: Array, x: Array, targets: Array, labels: Array) => [Array, Array],
): Evaluator {
  const batches: DeviceBatch[] = deviceBatches(model, data, dtype, batchSize);
  return {
    async run(theta) {
      // Queue every batch, then read: the reads wait for work already under way.
      const parts = batches.map((b) => fn(theta.ref, b.x.ref, b.targets.ref, b.labels.ref));
      let lossSum = 0;
      let correct = 0;
      for (const [l, c] of parts) {
        lossSum += await takeScalar(l);
        correct += await takeScalar(c);
      }
      return { loss: lossSum, accuracy: correct / data.y.length };
    },
    dispose() {
      for (const b of batches) b.x.dispose(), b.targets.dispose(), b.labels.dispose();
    },
  };
}

/** Trains `config.model` on `config.train` (module comment); see TrainResult. */
export async function train(config: TrainConfig, callbacks: TrainCallbacks = {}): Promise<TrainResult> {
  const settings = resolveTrainConfig(config);
  const { model } = config;
  const { loss, dtype, batchSize, seed, lastBatch } = settings;
  const opt = makeOptimizer(settings.optimizer);
  const n = settings.trainExamples;
  const perEpoch = numBatches(n, batchSize, lastBatch);
  const totalSteps = settings.steps ?? settings.epochs! * perEpoch;
  const t0 = performance.now();
  let evalMs = 0;

  // Sum of losses over the batch / the batch size: PyTorch's mean reduction.
  const batchLoss = (theta: Array, x: Array, targets: Array): Array => lossValue(loss, model.apply(theta, x), targets);
  const step = jit((theta: Array, state: Array[], h: Array, x: Array, targets: Array) => {
    const [value, g] = valueAndGrad(batchLoss)(theta.ref, x, targets);
    const [next, nextState] = opt.update(theta, g, state, h);
    return [next, nextState, value] as [Array, Array[], Array];
  });
  // Loss over the whole set = sum over batches of (sum of the batch's losses) / N.
  const evalJit = (nTotal: number) =>
    jit((theta: Array, x: Array, targets: Array, labels: Array) => {
      const out = model.apply(theta, x);
      return [lossValue(loss, out.ref, targets, nTotal), correctCount(out, labels)] as [Array, Array];
    });
  const evalFns = new Map<number, ReturnType<typeof evalJit>>();
  const evalFn = (nTotal: number) => {
    let f = evalFns.get(nTotal);
    if (!f) evalFns.set(nTotal, (f = evalJit(nTotal)));
    return f;
  };
  const evaluators: Evaluator[] = [];
  let theta: Array | null = null;
  let state: Array[] = [];
  let scalars: Array | null = null;
  try {
    const trainEval = makeEvaluator(model, config.train, loss, dtype, settings.evalBatchSize, evalFn(n));
    evaluators.push(trainEval);
    const testEval = config.test
      ? makeEvaluator(model, config.test, loss, dtype, settings.evalBatchSize, evalFn(config.test.y.length))
      : null;
    if (testEval) evaluators.push(testEval);

    const init = config.initTheta ?? model.init(seed);
    theta = np.array(dtype === "float64" ? Float64Array.from(init) : Float32Array.from(init), { dtype: toDType(dtype) });
    state = opt.initState(model.size, dtype);

    // The step scalars on the device, uploaded again only when they change (Adam: every step).
    let hostScalars: Float64Array | null = null;
    const scalarsFor = (t: number): Array => {
      const hs = opt.scalars(t);
      if (!hostScalars || hs.some((v, i) => v !== hostScalars![i])) {
        scalars?.dispose();
        scalars = np.array(dtype === "float64" ? hs : Float32Array.from(hs), { dtype: toDType(dtype) });
        hostScalars = hs;
      }
      return scalars!.ref;
    };

    const history: EvalRecord[] = [];
    let lossSinceEval = 0;
    let stepsSinceEval = 0;
    const record = async (stepsDone: number): Promise<void> => {
      const e0 = performance.now();
      const tr = await trainEval.run(theta!);
      const te = testEval ? await testEval.run(theta!) : null;
      evalMs += performance.now() - e0;
      const rec: EvalRecord = {
        step: stepsDone,
        epoch: stepsDone / perEpoch,
        seconds: (performance.now() - t0) / 1000,
        trainLoss: tr.loss,
        trainAccuracy: tr.accuracy,
        testLoss: te ? te.loss : null,
        testAccuracy: te ? te.accuracy : null,
        batchLoss: stepsSinceEval > 0 ? lossSinceEval / stepsSinceEval : null,
      };
      lossSinceEval = 0;
      stepsSinceEval = 0;
      history.push(rec);
      await callbacks.onEval?.(rec);
    };

    await record(0);
    let done = 0;
    for (let epoch = 0; done < totalSteps; epoch++) {
      for (const indices of epochBatches(n, epoch, { batchSize, seed, lastBatch })) {
        const { x, targets } = hostBatch(model, config.train, indices, dtype);
        const [next, nextState, value]: [Array, Array[], Array] = step(theta!, state, scalarsFor(done + 1), x, targets);
        theta = next;
        state = nextState;
        done++;
        // Reading the loss waits for this step: it also keeps the host from queueing steps ahead.
        const l = await takeScalar(value);
        lossSinceEval += l;
        stepsSinceEval++;
        if (callbacks.onStep) await callbacks.onStep({ step: done, epoch, batchLoss: l, theta: next });
        const due = settings.evalEvery !== null ? done % settings.evalEvery === 0 : done % perEpoch === 0;
        if (due || done === totalSteps) await record(done);
        if (done === totalSteps) break;
      }
    }

    const finalTheta = await take(theta!);
    theta = null;
    const last = history[history.length - 1]!;
    const result: Omit<TrainResult, "theta"> = {
      settings,
      history,
      final: { trainLoss: last.trainLoss, trainAccuracy: last.trainAccuracy, testLoss: last.testLoss, testAccuracy: last.testAccuracy },
      steps: done,
      epochs: done / perEpoch,
      seconds: (performance.now() - t0) / 1000,
      evalSeconds: evalMs / 1000,
    };
    return Object.defineProperty(result, "theta", { value: finalTheta, enumerable: false }) as TrainResult;
  } finally {
    // After an error inside a step, some of these may already be consumed.
    for (const a of [theta, scalars, ...state]) if (a && a.refCount > 0) a.dispose();
    for (const e of evaluators) e.dispose();
    step.dispose();
    for (const f of evalFns.values()) f.dispose();
  }
}
