/**
 * What several commands share: model, data and weights from their options, all checked before
 * the engine starts (so bad input fails fast, with nothing written).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.ts";
import { loadModel } from "../data/model-file.ts";
import type { Model } from "../nn/model.ts";
import { loadData, parseDataSpec } from "../data/spec.ts";
import { checkMemory, estimateDataBytes } from "./resources.ts";
import { checkInputPath } from "./paths.ts";
import type { Dataset } from "../data/dataset.ts";
import { checkDataFitsModel } from "../data/device-batches.ts";
import { withFlags } from "./flags.ts";
import { loadModelWeights, META_FILE } from "../train/checkpoint.ts";
import { trainTestSplit } from "../data/split.ts";
import type { OptionSpecs, ParsedOptions } from "./args.ts";

export const MODEL_DATA_OPTIONS: OptionSpecs = {
  model: {
    type: "string",
    help:
      "model spec: mlp:784-100-10:tanh (widths; tanh|relu|gelu|linear; :nobias) | cnn:lenet[:in=1x28x28,classes=10] | " +
      "resnet:20[:width=16,in=3x32x32,bn=eval|batch] (PyHessian's CIFAR ResNet, depth 6n+2; BatchNorm running statistics (eval, default) or batch statistics) | " +
      "vit:patch=4,dim=64,depth=2,heads=4[,mlp=128,pool=cls|mean] (a small vision transformer) | onnx:FILE.onnx; see the README",
    meta: "SPEC",
  },
  onnx: { type: "string", path: "file", help: "a model exported to ONNX (torch.onnx.export), its stored weights as the point; same as --model onnx:FILE", meta: "FILE" },
  data: { type: "string", help: "data spec: gmm:k=5,d=20 | mnist:n=10000 | cifar10:DIR[,n=N,split=test] | npy:X.npy,y.npy | npz:D.npz | csv:D.csv", meta: "SPEC" },
  loss: { type: "string", help: "loss", choices: ["cross-entropy", "mse"], default: "cross-entropy" },
};

/**
 * `--split` for the commands that measure a point: which part of `--data` they measure on. A
 * checkpoint that `curvlab train` wrote records its held-out fraction and seed, so the same
 * split is drawn again; after such a checkpoint the default is its training split (a Hessian or
 * a sharpness is a property of the loss that was minimized), otherwise all of the data.
 */
export const SPLIT_OPTION: OptionSpecs = {
  split: {
    type: "string",
    help: "which part of --data to measure on: the training or held-out split of the train run whose checkpoint is --weights, or all (default: train after curvlab train, else all)",
    choices: ["train", "test", "all"],
  },
};

export type SplitName = "train" | "test" | "all";

/** The held-out fraction and seed a train checkpoint directory records, or null. */
function trainSplitOf(weights: string): { fraction: number; seed: number; data: string } | null {
  const meta = join(weights, META_FILE);
  if (!existsSync(weights) || !statSync(weights).isDirectory() || !existsSync(meta)) return null;
  let parsed: { data?: unknown; settings?: { testFraction?: unknown; seed?: unknown } };
  try {
    parsed = JSON.parse(readFileSync(meta, "utf8"));
  } catch {
    return null;
  }
  const fraction = parsed.settings?.testFraction, seed = parsed.settings?.seed;
  if (typeof fraction !== "number" || typeof seed !== "number" || typeof parsed.data !== "string") return null;
  return { fraction, seed, data: parsed.data };
}

/** The dataset a command measures on, by --split (see SPLIT_OPTION). */
function selectSplit(data: Dataset, opts: ParsedOptions): { data: Dataset; split: SplitName } {
  const recorded = opts.weights !== undefined ? trainSplitOf(String(opts.weights)) : null;
  const held = recorded && recorded.fraction > 0 ? recorded : null;
  const sameData = held !== null && held.data === String(opts.data);
  const split = (opts.split as SplitName | undefined) ?? (sameData ? "train" : "all");
  if (split === "all") return { data, split };
  if (!held) {
    throw new InputError("--split", `${split} needs --weights to be a checkpoint directory of "curvlab train" with a held-out fraction (its checkpoint.json records the split); use --split all`);
  }
  if (!sameData) {
    throw new InputError("--split", `the checkpoint was trained on --data ${held.data}, not ${String(opts.data)}: its split applies only to the same data`);
  }
  const parts = trainTestSplit(data, { fraction: 1 - held.fraction, seed: held.seed });
  return { data: split === "train" ? parts.train : parts.test, split };
}

export interface Loaded {
  /** The model; with --weights, bound to the buffers (BatchNorm running statistics) of the file. */
  readonly model: Model;
  readonly data: Dataset;
  readonly theta: Float64Array;
  /** Where the parameters came from: a file, or "init:SEED". */
  readonly weights: string;
  /** The part of --data measured on (SPLIT_OPTION); the dataset's name says it too. */
  readonly split: SplitName;
}

/** A --weights value: a .safetensors or .npz file, or a checkpoint directory holding model.safetensors. */
export function resolveWeightsPath(path: string): string {
  if (!existsSync(path)) throw new InputError(path, "weights file not found");
  checkInputPath("--weights", path, { folder: true });
  if (statSync(path).isDirectory()) {
    const inner = join(path, "model.safetensors");
    if (!existsSync(inner)) throw new InputError(path, "is a directory without model.safetensors (expected a checkpoint directory, a .safetensors or a .npz file)");
    return inner;
  }
  return path;
}

/** `splits`: the command takes SPLIT_OPTION (commands that measure a point; not train). */
export function loadModelDataWeights(opts: ParsedOptions, command: string, seed: number, splits = false): Loaded {
  if (opts.onnx !== undefined && opts.model !== undefined) throw new InputError("--onnx", "give --onnx FILE or --model SPEC, not both");
  if (opts.model === undefined && opts.onnx === undefined) {
    throw new InputError("--model", `is required by "curvlab ${command}" (e.g. --model mlp:20-64-5:tanh, or --onnx model.onnx)`);
  }
  if (opts.data === undefined) throw new InputError("--data", `is required by "curvlab ${command}" (e.g. --data gmm:k=5,d=20,n=200,sep=3,seed=0)`);
  const model = loadModel(opts.onnx !== undefined ? `onnx:${opts.onnx}` : String(opts.model));
  for (const w of model.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
  const dataSpec = parseDataSpec(String(opts.data));
  const dataBytes = estimateDataBytes(dataSpec);
  const vectors = Number(opts.steps ?? opts["max-steps"] ?? 0);
  const needs = { dataBytes, parameters: model.size, vectors: Number.isFinite(vectors) ? vectors : 0 };
  const byData = dataBytes > 6 * model.size * 8;
  checkMemory(byData ? `--data ${String(opts.data)}` : `--model ${model.spec}`, needs, opts["memory-limit"] as number | undefined);
  const all = loadData(String(opts.data));
  const { data, split } = splits ? selectSplit(all, opts) : { data: all, split: "all" as const };
  withFlags(() => checkDataFitsModel(model, data));
  if (opts.weights !== undefined) {
    const path = resolveWeightsPath(String(opts.weights));
    const loaded = loadModelWeights(path, model);
    return { model: loaded.model, data, theta: loaded.theta, weights: path, split };
  }
  // An imported model starts from the weights stored with it; the built-in ones from init(seed).
  const imported = model.spec.startsWith("onnx:");
  return { model, data, theta: model.init(seed), weights: imported ? model.spec : `init:${seed}`, split };
}
