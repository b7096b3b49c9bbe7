/**
 * Model specs (strings, as on the command line):
 * - `mlp:W0-W1-...-Wk[:ACT][:nobias]`: ACT in tanh, relu (default), gelu, linear (see mlp.ts);
 * - `cnn:lenet[:in=CxHxW,classes=N,c1=6,c2=16,k=5]` (see cnn.ts);
 * - `resnet:DEPTH[:width=16,classes=10,in=3x32x32,bn=eval|batch]`: PyHessian's CIFAR ResNet,
 *   DEPTH = 6n + 2 (see resnet.ts; BatchNorm semantics in batchnorm.ts);
 * - `vit:patch=4,dim=64,depth=2,heads=4[,mlp=2*dim,pool=cls|mean,classes=10,in=3x32x32]`: a small
 *   vision transformer (see vit.ts);
 * - `onnx:FILE.onnx`: a model exported to ONNX, with its stored weights as init (see onnx.ts).
 * Options of resnet and vit are key=value, separated by commas (or colons).
 */
import { InputError, optionError } from "../errors.ts";
import { checkPositiveInteger } from "../validate.ts";
import { ACTIVATIONS, type ActivationName } from "./activation.ts";
import { lenet, LENET_DEFAULTS, lenetFeatureSize, type CnnConfig } from "./cnn.ts";
import { mlp } from "./mlp.ts";
import { onnxModel } from "./onnx.ts";
import type { Model } from "./model.ts";
import { resnet, RESNET_DEFAULTS, type ResNetConfig } from "./resnet.ts";
import { vit, VIT_DEFAULTS, type VitConfig, type VitPool } from "./vit.ts";
import { BATCHNORM_MODES, type BatchNormMode } from "./batchnorm.ts";

const INPUT = "model";
const EXPECTED =
  'expected "mlp:784-100-10:tanh" (widths; tanh|relu|gelu|linear; optional :nobias), "cnn:lenet", "resnet:20[:width=16,bn=eval|batch]", ' +
  '"vit:patch=4,dim=64,depth=2,heads=4" or "onnx:FILE.onnx"';

function positiveInt(text: string, what: string, spec: string): number {
  const n = Number(text);
  try {
    if (!/^\d+$/.test(text)) throw new Error();
    return checkPositiveInteger(what, n);
  } catch {
    throw optionError(INPUT, `"${spec}": ${what} must be a positive integer, got "${text}"`);
  }
}

function inputShape(value: string, spec: string): [number, number, number] {
  const dims = value.split("x").map((d) => positiveInt(d, "each size of in", spec));
  if (dims.length !== 3) throw optionError(INPUT, `"${spec}": in must be CxHxW, got "${value}"`);
  return dims as [number, number, number];
}

/** key=value options separated by commas or colons; an InputError for an unknown key or a repeat. */
function keyValues(parts: readonly string[], keys: readonly string[], spec: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of parts.join(",").split(",")) {
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq < 0) throw optionError(INPUT, `"${spec}": expected key=value, got "${item}"`);
    const key = item.slice(0, eq), value = item.slice(eq + 1);
    if (!keys.includes(key)) throw optionError(INPUT, `"${spec}": unknown key "${key}"; expected ${keys.join(", ")}`);
    if (out.has(key)) throw optionError(INPUT, `"${spec}": "${key}" given twice`);
    out.set(key, value);
  }
  return out;
}

function parseResNet(spec: string, rest: readonly string[]): Model {
  if (rest.length < 1 || rest[0] === "") throw optionError(INPUT, `"${spec}": expected resnet:DEPTH (6n + 2: 8, 14, 20, 32, 44, 56, 110, ...)`);
  const depth = positiveInt(rest[0], "the depth", spec);
  if (depth < 8 || (depth - 2) % 6 !== 0) {
    throw optionError(INPUT, `"${spec}": the depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, 44, 56, 110, ...), got ${depth}`);
  }
  const opts = keyValues(rest.slice(1), ["width", "classes", "in", "bn"], spec);
  const bn = opts.get("bn") ?? RESNET_DEFAULTS.batchNorm;
  if (!(BATCHNORM_MODES as readonly string[]).includes(bn)) throw optionError(INPUT, `"${spec}": bn must be ${BATCHNORM_MODES.join(" or ")}, got "${bn}"`);
  const config: ResNetConfig = {
    depth,
    width: opts.has("width") ? positiveInt(opts.get("width")!, "width", spec) : RESNET_DEFAULTS.width,
    classes: opts.has("classes") ? positiveInt(opts.get("classes")!, "classes", spec) : RESNET_DEFAULTS.classes,
    inputShape: opts.has("in") ? inputShape(opts.get("in")!, spec) : RESNET_DEFAULTS.inputShape,
    batchNorm: bn as BatchNormMode,
  };
  return resnet(config, spec.trim());
}

function parseVit(spec: string, rest: readonly string[]): Model {
  const opts = keyValues(rest, ["patch", "dim", "depth", "heads", "mlp", "pool", "classes", "in"], spec);
  const int = (key: "patch" | "dim" | "depth" | "heads" | "classes") => (opts.has(key) ? positiveInt(opts.get(key)!, key, spec) : VIT_DEFAULTS[key]);
  const dim = int("dim");
  const heads = int("heads");
  const patch = int("patch");
  const pool = opts.get("pool") ?? VIT_DEFAULTS.pool;
  if (pool !== "cls" && pool !== "mean") throw optionError(INPUT, `"${spec}": pool must be cls or mean, got "${pool}"`);
  const shape = opts.has("in") ? inputShape(opts.get("in")!, spec) : VIT_DEFAULTS.inputShape;
  if (dim % heads !== 0) throw optionError(INPUT, `"${spec}": heads (${heads}) must divide dim (${dim})`);
  if (shape[1] % patch !== 0 || shape[2] % patch !== 0) {
    throw optionError(INPUT, `"${spec}": patch (${patch}) must divide the image size ${shape[1]}x${shape[2]}`);
  }
  const config: VitConfig = {
    patch,
    dim,
    depth: int("depth"),
    heads,
    mlp: opts.has("mlp") ? positiveInt(opts.get("mlp")!, "mlp", spec) : 2 * dim,
    pool: pool as VitPool,
    classes: int("classes"),
    inputShape: shape,
  };
  return vit(config, spec.trim());
}

export interface ModelSpecOptions {
  /**
   * Reads the file of an `onnx:FILE` spec (data/model-file.ts's loadModel passes one): this layer
   * reads no files.
   */
  readonly readFile?: (path: string) => Uint8Array;
}

export function parseModel(spec: string, opts: ModelSpecOptions = {}): Model {
  const s = spec.trim();
  const [kind, ...rest] = s.split(":");
  if (kind === "mlp") {
    if (rest.length < 1 || rest.length > 3) throw optionError(INPUT, `unknown model spec "${spec}"; ${EXPECTED}`);
    const widths = rest[0].split("-").map((w) => positiveInt(w, "each width", spec));
    if (widths.length < 2) throw optionError(INPUT, `"${spec}": an MLP needs at least an input and an output width`);
    let activation: ActivationName = "relu";
    let bias = true;
    for (const opt of rest.slice(1)) {
      if ((ACTIVATIONS as readonly string[]).includes(opt)) activation = opt as ActivationName;
      else if (opt === "nobias") bias = false;
      else throw optionError(INPUT, `"${spec}": unknown option "${opt}"; expected ${ACTIVATIONS.join(", ")} or nobias`);
    }
    return mlp({ widths, activation, bias }, s);
  }
  if (kind === "cnn") {
    if (rest[0] !== "lenet" || rest.length > 2) throw optionError(INPUT, `unknown model spec "${spec}"; ${EXPECTED}`);
    const config: { -readonly [K in keyof CnnConfig]: CnnConfig[K] } = { ...LENET_DEFAULTS };
    for (const item of rest[1] ? rest[1].split(",") : []) {
      const [key, value] = item.split("=");
      if (value === undefined) throw optionError(INPUT, `"${spec}": expected key=value, got "${item}"`);
      if (key === "in") {
        const dims = value.split("x").map((d) => positiveInt(d, "in", spec));
        if (dims.length !== 3) throw optionError(INPUT, `"${spec}": in must be CxHxW, got "${value}"`);
        config.inputShape = dims as [number, number, number];
      } else if (key === "classes") config.classes = positiveInt(value, key, spec);
      else if (key === "c1") config.c1 = positiveInt(value, key, spec);
      else if (key === "c2") config.c2 = positiveInt(value, key, spec);
      else if (key === "k") config.kernel = positiveInt(value, key, spec);
      else throw optionError(INPUT, `"${spec}": unknown key "${key}"; expected in, classes, c1, c2, k`);
    }
    const [fh, fw] = lenetFeatureSize(config);
    if (fh < 1 || fw < 1) throw optionError(INPUT, `"${spec}": input ${config.inputShape.join("x")} is too small for two ${config.kernel}x${config.kernel} conv + pool blocks`);
    return lenet(config, s);
  }
  if (kind === "resnet") return parseResNet(spec, rest);
  if (kind === "vit") return parseVit(spec, rest);
  if (kind === "onnx") {
    const file = s.slice("onnx:".length);
    if (!file) throw optionError(INPUT, `"${spec}": expected onnx:FILE.onnx`);
    if (!opts.readFile) throw optionError(INPUT, `"${spec}": an ONNX model is read from its file by loadModel (data/model-file.ts), not parseModel`);
    return onnxModel(opts.readFile(file), file);
  }
  throw optionError(INPUT, `unknown model spec "${spec}"; ${EXPECTED}`);
}
