/**
 * `curvlab train`: minibatch training of a model on a dataset (held-out split for testing),
 * with a progress bar, and with `--out DIR` a checkpoint (model.safetensors with PyTorch
 * state_dict names + checkpoint.json), the history (train.json) and the training curves
 * (curves.png, curves.svg).
 */
import { InputError } from "../errors.ts";
import { startEngine, type DeviceName } from "../engine/start.ts";
import { trainTestSplit } from "../data/split.ts";
import { train, DEFAULT_TRAIN, type TrainResult } from "../train/train.ts";
import { parseOptimizer } from "../train/optimizers.ts";
import { saveCheckpoint } from "../train/checkpoint.ts";
import type { DTypeName } from "../engine/dtype.ts";
import type { LossName } from "../nn/loss.ts";
import { formatHelp, parseArgs, type OptionSpecs } from "./args.ts";
import { loadModelDataWeights, MODEL_DATA_OPTIONS } from "./load.ts";
import { progress } from "./progress.ts";
import { writeOutputs } from "./output.ts";
import { lineChart } from "../report/figures.ts";
import { toPng, toSvg } from "../report/render.ts";

const OPTIONS: OptionSpecs = {
  ...MODEL_DATA_OPTIONS,
  weights: { type: "string", help: "start from these parameters (.safetensors or checkpoint directory) instead of the seeded initialization", meta: "FILE" },
  optimizer: { type: "string", help: "sgd | momentum[:MU] | adam[:B1,B2[,EPS]]", default: "momentum:0.9", meta: "NAME" },
  lr: { type: "number", help: "learning rate (default: 0.1 for sgd and momentum, 0.001 for adam)" },
  "weight-decay": { type: "number", help: "L2 weight decay added to the gradient, as PyTorch does", default: 0 },
  "batch-size": { type: "int", help: "examples per step", default: DEFAULT_TRAIN.batchSize },
  epochs: { type: "int", help: `passes over the train split (default ${DEFAULT_TRAIN.epochs}; or give --steps)` },
  steps: { type: "int", help: "number of optimizer steps instead of epochs" },
  "test-fraction": { type: "number", help: "held-out fraction of the data for testing (0 = none)", default: 0.2 },
  seed: { type: "int", help: "seed of the initialization, the split and the shuffles", default: 0 },
  dtype: { type: "string", help: "arithmetic precision", choices: ["float32", "float64"], default: "float32" },
  "eval-every": { type: "int", help: "evaluate every N steps (default: every epoch)", meta: "N" },
  json: { type: "boolean", help: "print the result (settings, history, final metrics) as one JSON object on stdout" },
  out: { type: "string", help: "write the checkpoint, train.json and curves.png/svg into this directory", meta: "DIR" },
  quiet: { type: "boolean", help: "no progress on stderr" },
};

export const TRAIN_HELP = formatHelp(
  "train",
  "Train a model on a dataset (a seeded train/test split), and save a checkpoint that loads in PyTorch.",
  OPTIONS,
  [
    "curvlab train --model mlp:20-64-5:tanh --data gmm:k=5,d=20,n=200,sep=3,seed=0 --out runs/gmm",
    "curvlab train --model mlp:784-100-10:tanh --data mnist:n=10000 --epochs 15 --out runs/mnist",
  ],
);

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
  const split = fraction > 0 ? trainTestSplit(loaded.data, { fraction: 1 - fraction, seed }) : null;
  await startEngine({ device });
  const totalSteps = { value: 0 };
  const bar = progress("train", { quiet: !!opts.quiet });
  let lastEval = "";
  const result: TrainResult = await train(
    {
      model: loaded.model,
      train: split ? split.train : loaded.data,
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
      onStep: (s) => {
        if (totalSteps.value === 0) totalSteps.value = expectedSteps(split ? split.train.y.length : loaded.data.y.length, opts);
        bar.update(s.step, totalSteps.value, lastEval);
      },
      onEval: (r) => {
        lastEval = `loss ${r.trainLoss.toFixed(4)} acc ${(100 * r.trainAccuracy).toFixed(1)}%${r.testAccuracy !== null ? ` test ${(100 * r.testAccuracy).toFixed(1)}%` : ""}`;
      },
    },
  );
  bar.done();
  const json = { command: "train", weights: loaded.weights, ...result };
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
    saveCheckpoint(dir, {
      model: loaded.model,
      theta: result.theta,
      dataSpec: loaded.data.name,
      loss: opts.loss as LossName,
      dtype,
      settings: { ...result.settings, testFraction: fraction },
      metrics: result.final,
    });
    writeOutputs(dir, { "train.json": JSON.stringify(json, null, 2) + "\n", "curves.svg": svg, "curves.png": png });
  }
  if (opts.json) process.stdout.write(JSON.stringify(json) + "\n");
  else {
    const f = result.final;
    process.stdout.write(
      [
        `trained ${loaded.model.spec} on ${loaded.data.name}: ${result.steps} steps, ${result.epochs} epochs, ${result.seconds.toFixed(1)} s`,
        `  train loss ${f.trainLoss.toFixed(4)}, accuracy ${(100 * f.trainAccuracy).toFixed(2)}%`,
        ...(f.testAccuracy !== null ? [`  test loss ${f.testLoss!.toFixed(4)}, accuracy ${(100 * f.testAccuracy).toFixed(2)}%`] : []),
        ...(opts.out !== undefined ? [`  wrote ${opts.out}/model.safetensors, checkpoint.json, train.json, curves.png`] : []),
        "",
      ].join("\n"),
    );
  }
  return 0;
}

function expectedSteps(n: number, opts: Record<string, unknown>): number {
  if (opts.steps !== undefined) return Number(opts.steps);
  const epochs = opts.epochs !== undefined ? Number(opts.epochs) : DEFAULT_TRAIN.epochs;
  return epochs * Math.ceil(n / Math.min(Number(opts["batch-size"]), n));
}
