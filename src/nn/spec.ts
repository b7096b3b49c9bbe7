/**
 * Model specs (strings, as on the command line):
 * - `mlp:W0-W1-...-Wk[:ACT][:nobias]`: ACT in tanh, relu (default), gelu, linear (see mlp.ts);
 * - `cnn:lenet[:in=CxHxW,classes=N,c1=6,c2=16,k=5]` (see cnn.ts);
 * - `onnx:FILE.onnx`: a model exported to ONNX, with its stored weights as init (see onnx.ts).
 */
import { InputError } from "../errors.ts";
import { ACTIVATIONS, type ActivationName } from "./activation.ts";
import { lenet, LENET_DEFAULTS, lenetFeatureSize, type CnnConfig } from "./cnn.ts";
import { mlp } from "./mlp.ts";
import { loadOnnxModel } from "./onnx.ts";
import type { Model } from "./model.ts";

const INPUT = "--model";
const EXPECTED = 'expected "mlp:784-100-10:tanh" (widths; tanh|relu|gelu|linear; optional :nobias), "cnn:lenet" or "onnx:FILE.onnx"';

function positiveInt(text: string, what: string, spec: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new InputError(INPUT, `"${spec}": ${what} must be a positive integer, got "${text}"`);
  }
  return n;
}

export function parseModel(spec: string): Model {
  const s = spec.trim();
  const [kind, ...rest] = s.split(":");
  if (kind === "mlp") {
    if (rest.length < 1 || rest.length > 3) throw new InputError(INPUT, `unknown model spec "${spec}"; ${EXPECTED}`);
    const widths = rest[0].split("-").map((w) => positiveInt(w, "each width", spec));
    if (widths.length < 2) throw new InputError(INPUT, `"${spec}": an MLP needs at least an input and an output width`);
    let activation: ActivationName = "relu";
    let bias = true;
    for (const opt of rest.slice(1)) {
      if ((ACTIVATIONS as readonly string[]).includes(opt)) activation = opt as ActivationName;
      else if (opt === "nobias") bias = false;
      else throw new InputError(INPUT, `"${spec}": unknown option "${opt}"; expected ${ACTIVATIONS.join(", ")} or nobias`);
    }
    return mlp({ widths, activation, bias }, s);
  }
  if (kind === "cnn") {
    if (rest[0] !== "lenet" || rest.length > 2) throw new InputError(INPUT, `unknown model spec "${spec}"; ${EXPECTED}`);
    const config: { -readonly [K in keyof CnnConfig]: CnnConfig[K] } = { ...LENET_DEFAULTS };
    for (const item of rest[1] ? rest[1].split(",") : []) {
      const [key, value] = item.split("=");
      if (value === undefined) throw new InputError(INPUT, `"${spec}": expected key=value, got "${item}"`);
      if (key === "in") {
        const dims = value.split("x").map((d) => positiveInt(d, "in", spec));
        if (dims.length !== 3) throw new InputError(INPUT, `"${spec}": in must be CxHxW, got "${value}"`);
        config.inputShape = dims as [number, number, number];
      } else if (key === "classes") config.classes = positiveInt(value, key, spec);
      else if (key === "c1") config.c1 = positiveInt(value, key, spec);
      else if (key === "c2") config.c2 = positiveInt(value, key, spec);
      else if (key === "k") config.kernel = positiveInt(value, key, spec);
      else throw new InputError(INPUT, `"${spec}": unknown key "${key}"; expected in, classes, c1, c2, k`);
    }
    const [fh, fw] = lenetFeatureSize(config);
    if (fh < 1 || fw < 1) throw new InputError(INPUT, `"${spec}": input ${config.inputShape.join("x")} is too small for two ${config.kernel}x${config.kernel} conv + pool blocks`);
    return lenet(config, s);
  }
  if (kind === "onnx") {
    const file = s.slice("onnx:".length);
    if (!file) throw new InputError(INPUT, `"${spec}": expected onnx:FILE.onnx`);
    return loadOnnxModel(file);
  }
  throw new InputError(INPUT, `unknown model spec "${spec}"; ${EXPECTED}`);
}
