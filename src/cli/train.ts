/**
 * `curvlab train`: minibatch training of a model on a dataset (held-out split for testing),
 * with a progress bar, and with `--out DIR` a checkpoint (model.safetensors with PyTorch
 * state_dict names + checkpoint.json), the history (train.json) and the training curves
 * (curves.png, curves.svg). With `--track lmax,trace,density` (needs --out), curvature of the
 * full-batch loss on the train split every `--every N` steps (default: once per epoch, i.e. every
 * ceil(train examples / batch size) steps), recorded by landscape/tracking.ts into tracking.json
 * with its figure tracking.svg/png (lambda_max against the 2/lr stability threshold, trace).
 * A model with BatchNorm in batch mode (resnet:...,bn=batch) is checkpointed with its running
 * statistics re-estimated from the train split (withTrainedBuffers below).
 */
import { InputError } from "../errors.ts";
import { startEngine, type DeviceName } from "../engine/start.ts";
import { trainTestSplit } from "../data/split.ts";
import { train, DEFAULT_TRAIN, type TrainMetrics, type TrainResult, type TrainSettings } from "../train/train.ts";
import { parseOptimizer } from "../train/optimizers.ts";
import { saveCheckpoint, type CheckpointMeta } from "../train/checkpoint.ts";
import { toDType, type DTypeName } from "../engine/dtype.ts";
import { numpy as np } from "../engine/jax.ts";
import type { Model } from "../nn/model.ts";
import type { Dataset } from "../data/dataset.ts";
import { updateBatchNormStatistics } from "../nn/batchnorm.ts";
import { deviceBatches } from "../data/device-batches.ts";
import type { LossName } from "../nn/loss.ts";
import { formatHelp, parseArgs, type OptionSpecs } from "./args.ts";
import { loadModelDataWeights, MODEL_DATA_OPTIONS } from "./load.ts";
import { progress } from "./progress.ts";
import { writeOutputs } from "./output.ts";
import { lineChart } from "../report/figures.ts";
import { toPng, toSvg } from "../report/render.ts";
import { numBatches } from "../data/batches.ts";
import { curvatureTracker, parseTrackList, TRACK_QUANTITIES, type CurvatureTracker } from "../landscape/tracking.ts";
import { trackingFigure } from "../report/tracking-figures.ts";

const OPTIONS: OptionSpecs = {
  ...MODEL_DATA_OPTIONS,
  weights: { type: "string", path: "file-or-folder", help: "start from these parameters (.safetensors or .npz file, or checkpoint directory) instead of the seeded initialization", meta: "FILE" },
  optimizer: { type: "string", help: "sgd | momentum[:MU] | adam[:B1,B2[,EPS]]", default: "momentum:0.9", meta: "NAME" },
  lr: { type: "number", bounds: { above: 0 }, help: "learning rate (default: 0.1 for sgd and momentum, 0.001 for adam)" },
  "weight-decay": { type: "number", bounds: { min: 0 }, help: "L2 weight decay added to the gradient, as PyTorch does", default: 0 },
  "batch-size": { type: "int", bounds: { min: 1 }, help: "examples per step", default: DEFAULT_TRAIN.batchSize },
  epochs: { type: "int", bounds: { min: 1 }, help: `passes over the train split (default ${DEFAULT_TRAIN.epochs}; or give --steps)` },
  steps: { type: "int", bounds: { min: 1 }, help: "number of optimizer steps instead of epochs" },
  "test-fraction": { type: "number", bounds: { min: 0, below: 1 }, help: "held-out fraction of the data for testing (0 = none)", default: 0.2 },
  seed: { type: "int", bounds: { min: 0 }, help: "seed of the initialization, the split and the shuffles", default: 0 },
  dtype: { type: "string", help: "arithmetic precision", choices: ["float32", "float64"], default: "float32" },
  "eval-every": { type: "int", bounds: { min: 1 }, help: "evaluate every N steps (default: every epoch)", meta: "N" },
  json: { type: "boolean", help: "print the result (settings, history, final metrics) as one JSON object on stdout" },
  out: { type: "string", path: "out", help: "write the checkpoint, train.json and curves.png/svg into this directory", meta: "DIR" },
  track: { type: "string", help: `record curvature during training (comma list among ${TRACK_QUANTITIES.join(", ")}) into tracking.json and tracking.png/svg; needs --out`, meta: "LIST" },
  every: { type: "int", bounds: { min: 1 }, help: "with --track: measure every N steps (default: once per epoch)", meta: "N" },
  quiet: { type: "boolean", help: "no progress on stderr" },
};

export const TRAIN_HELP = formatHelp(
  "train",
  "Train a model on a dataset (a seeded train/test split), and save a checkpoint that loads in PyTorch.",
  OPTIONS,
  [
    "curvlab train --model mlp:20-64-5:tanh --data gmm:k=5,d=20,n=200,sep=3,seed=0 --out runs/gmm",
    "curvlab train --model mlp:784-100-10:tanh --data mnist:n=10000 --epochs 15 --out runs/mnist",
    "curvlab train --model mlp:4-16-3:tanh --data gmm:k=3,d=4,n=30,sep=2,seed=1 --loss mse --optimizer sgd --lr 0.5 --batch-size 1000 --steps 200 --test-fraction 0 --track lmax,trace --every 10 --out runs/eos",
  ],
);

/**
 * The result of `curvlab train` (train.json, and stdout with --json): the run's settings, its
 * evaluation history and final metrics, and where the starting parameters came from.
 */
export interface TrainCommandResult extends Omit<TrainResult, "theta"> {
  readonly command: "train";
  /** Where the starting parameters came from: a file, a checkpoint directory, or the seeded initialization. */
  readonly weights: string;
}

/** The training settings a checkpoint written by `curvlab train` records. */
export interface TrainCheckpointSettings extends TrainSettings {
  /** Held-out fraction of the data (0 = none). */
  readonly testFraction: number;
}

/** checkpoint.json as `curvlab train --out DIR` writes it: settings and metrics are the run's. */
export interface TrainCheckpointMeta extends Omit<CheckpointMeta, "settings" | "metrics"> {
  readonly settings: TrainCheckpointSettings;
  /** Metrics at the final parameters. */
  readonly metrics: TrainMetrics;
}

export async function trainCommand(argv: readonly string[]): Promise<number> {
  const opts = parseArgs(argv, OPTIONS, "train");
  if (opts.help) {
    process.stdout.write(TRAIN_HELP);
    return 0;
  }
  const seed = Number(opts.seed);
  const loaded = loadModelDataWeights(opts, "train", seed);
  const optimizer = parseOptimizer(String(opts.optimizer), opts.lr as number | undefined, Number(opts["weight-decay"]));
  const fraction = Number(opts["test-fraction"]);
  if (!(fraction >= 0 && fraction < 1)) throw new InputError("--test-fraction", `expected a number in [0, 1), got ${fraction}`);
  const dtype = opts.dtype as DTypeName;
  const device = opts.device as DeviceName;
  if (device === "webgpu" && dtype === "float64") throw new InputError("--dtype", "webgpu has no float64");
  const track = opts.track !== undefined ? parseTrackList(String(opts.track)) : null;
  if (track && opts.out === undefined) throw new InputError("--track", "needs --out DIR to write tracking.json and its figure");
  if (opts.every !== undefined && !track) throw new InputError("--every", "only applies with --track");
  if (opts.every !== undefined && !(Number(opts.every) >= 1)) throw new InputError("--every", `expected a positive integer, got ${opts.every}`);
  const split = fraction > 0 ? trainTestSplit(loaded.data, { fraction: 1 - fraction, seed }) : null;
  const trainData = split ? split.train : loaded.data;
  await startEngine({ device });
  let tracker: CurvatureTracker | null = null;
  if (track) {
    const n = trainData.y.length;
    const perEpoch = numBatches(n, Math.min(Number(opts["batch-size"]), n), "keep");
    tracker = curvatureTracker(loaded.model, trainData, {
      track,
      every: opts.every !== undefined ? Number(opts.every) : perEpoch,
      optimizer,
      stepsPerEpoch: perEpoch,
      loss: opts.loss as LossName,
      // Curvature differences want float64; webgpu has only float32.
      dtype: device === "webgpu" ? "float32" : "float64",
      seed,
    });
  }
  const totalSteps = { value: 0 };
  const bar = progress("train", { quiet: !!opts.quiet });
  let lastEval = "";
  let result: TrainResult;
  try {
    result = await train(
      {
        model: loaded.model,
        train: trainData,
        test: split?.test,
        loss: opts.loss as LossName,
        optimizer,
        batchSize: Number(opts["batch-size"]),
        epochs: opts.epochs as number | undefined,
        steps: opts.steps as number | undefined,
        seed,
        dtype,
        initTheta: opts.weights !== undefined ? loaded.theta : undefined,
        evalEvery: opts["eval-every"] as number | undefined,
      },
      {
        onStep: async (s) => {
          if (totalSteps.value === 0) totalSteps.value = expectedSteps(trainData.y.length, opts);
          if (tracker) await tracker.callbacks.onStep(s);
          bar.update(s.step, totalSteps.value, lastEval);
        },
        onEval: (r) => {
          lastEval = `loss ${r.trainLoss.toFixed(4)} acc ${(100 * r.trainAccuracy).toFixed(1)}%${r.testAccuracy !== null ? ` test ${(100 * r.testAccuracy).toFixed(1)}%` : ""}`;
        },
      },
    );
  } finally {
    tracker?.dispose();
  }
  bar.done();
  const tracking = tracker ? tracker.result() : null;
  const json: TrainCommandResult = { command: "train", weights: loaded.weights, ...result };
  if (opts.out !== undefined) {
    const dir = String(opts.out);
    const spec = lineChart({
      title: `training: ${loaded.model.spec}`,
      subtitle: `${loaded.data.name}, ${result.settings.optimizer.name}, batch ${result.settings.batchSize}`,
      xTitle: "epoch",
      yTitle: "loss",
      logY: true,
      series: [
        { name: "train loss", x: result.history.map((h) => h.epoch), y: result.history.map((h) => h.trainLoss) },
        ...(split ? [{ name: "test loss", x: result.history.map((h) => h.epoch), y: result.history.map((h) => h.testLoss ?? NaN) }] : []),
      ],
    });
    const [svg, png] = await Promise.all([toSvg(spec), toPng(spec)]);
    const trackFiles: Record<string, string | Uint8Array> = {};
    if (tracking) {
      trackFiles["tracking.json"] = JSON.stringify(tracking, null, 2) + "\n";
      if (tracking.records.length > 0) {
        const tspec = trackingFigure(tracking, `curvature during training: ${loaded.model.spec}`);
        [trackFiles["tracking.svg"], trackFiles["tracking.png"]] = await Promise.all([toSvg(tspec), toPng(tspec)]);
      }
    }
    const checkpointSettings: TrainCheckpointSettings = { ...result.settings, testFraction: fraction };
    const checkpointMetrics: TrainMetrics = result.final;
    saveCheckpoint(dir, {
      model: await withTrainedBuffers(loaded.model, result.theta, trainData, dtype, result.settings.batchSize),
      theta: result.theta,
      dataSpec: loaded.data.name,
      loss: opts.loss as LossName,
      dtype,
      settings: checkpointSettings,
      metrics: checkpointMetrics,
    });
    writeOutputs(dir, { "train.json": JSON.stringify(json, null, 2) + "\n", "curves.svg": svg, "curves.png": png, ...trackFiles });
  }
  if (opts.json) process.stdout.write(JSON.stringify(json) + "\n");
  else {
    const f = result.final;
    process.stdout.write(
      [
        `trained ${loaded.model.spec} on ${loaded.data.name}: ${result.steps} steps, ${result.epochs} epochs, ${result.seconds.toFixed(1)} s`,
        `  train loss ${f.trainLoss.toFixed(4)}, accuracy ${(100 * f.trainAccuracy).toFixed(2)}%`,
        ...(f.testAccuracy !== null ? [`  test loss ${f.testLoss!.toFixed(4)}, accuracy ${(100 * f.testAccuracy).toFixed(2)}%`] : []),
        ...(opts.out !== undefined ? [`  wrote ${opts.out}/model.safetensors, checkpoint.json, train.json, curves.png${tracking ? `, tracking.json${tracking.records.length ? ", tracking.png" : ""}` : ""}`] : []),
        ...(tracking && tracking.records.length ? [`  tracked ${tracking.settings.track.join(", ")} at ${tracking.records.length} steps (${tracking.matvecs} Hessian-vector products, ${tracking.seconds.toFixed(1)} s)`] : []),
        "",
      ].join("\n"),
    );
  }
  return 0;
}

/**
 * The model to checkpoint: with bn=batch, training ignored the running statistics, so they are
 * re-estimated from the train split as PyTorch's update_bn does (nn/batchnorm.ts), in batches of
 * the training batch size, for the checkpoint to serve model.eval() too. Other models as they are.
 */
async function withTrainedBuffers(model: Model, theta: ArrayLike<number>, data: Dataset, dtype: DTypeName, batchSize: number): Promise<Model> {
  if (model.buffers?.batchNorm !== "batch") return model;
  const batches = deviceBatches(model, data, dtype, batchSize);
  const t = np.array(dtype === "float64" ? Float64Array.from(theta) : Float32Array.from(theta), { dtype: toDType(dtype) });
  try {
    return await updateBatchNormStatistics(model, t, batches.map((b) => b.x));
  } finally {
    t.dispose();
    for (const b of batches) b.x.dispose(), b.targets.dispose(), b.labels.dispose();
  }
}

function expectedSteps(n: number, opts: Record<string, unknown>): number {
  if (opts.steps !== undefined) return Number(opts.steps);
  const epochs = opts.epochs !== undefined ? Number(opts.epochs) : DEFAULT_TRAIN.epochs;
  return epochs * Math.ceil(n / Math.min(Number(opts["batch-size"]), n));
}
