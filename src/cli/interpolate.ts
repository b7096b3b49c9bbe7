/**
 * `curvlab interpolate`: the loss and accuracy along the straight line between two checkpoints
 * (Goodfellow, Vinyals & Saxe 2015), its barrier (Frankle et al. 2020; Entezari et al. 2022), and
 * with --match the same after permuting the second model's hidden units to match the first's
 * (weight matching, Ainsworth, Hayase & Srinivasa 2023: linear mode connectivity modulo
 * permutations). Writes path.json and path.svg/png (both paths on one figure with --match).
 *
 * --from / --to: checkpoint directories (model.safetensors + checkpoint.json) or .safetensors
 * files. --model and --data default to those named by the --from checkpoint; a checkpoint whose
 * model differs from --model (or from the other checkpoint's) is an InputError. The loss is the
 * mean over the whole --data dataset, in float64 by default. Defaults: 25 points from 0 to 1
 * (--range A:B extrapolates; 0 and 1 are always evaluated).
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.ts";
import { startEngine, type DeviceName } from "../engine/start.ts";
import type { DTypeName } from "../engine/dtype.ts";
import { loadModel } from "../data/model-file.ts";
import type { Model } from "../nn/model.ts";
import type { LossName } from "../nn/loss.ts";
import { loadData } from "../data/spec.ts";
import { checkDataFitsModel } from "../data/device-batches.ts";
import { withFlags } from "./flags.ts";
import { loadCheckpoint, loadWeights, META_FILE, WEIGHTS_FILE } from "../train/checkpoint.ts";
import { modelObjective } from "../landscape/objective.ts";
import { interpolatePath, pathAlphas, type InterpolationResult } from "../landscape/interpolation.ts";
import { matchWeights, mlpLayers, permuteHiddenUnits, type WeightMatchingResult } from "../landscape/weight-matching.ts";
import { pathChart, type PathPanel } from "../report/path-figures.ts";
import { toPng, toSvg } from "../report/render.ts";
import { formatHelp, parseArgs, type OptionSpecs } from "./args.ts";
import { MODEL_DATA_OPTIONS } from "./load.ts";
import { progress } from "./progress.ts";
import { writeOutputs } from "./output.ts";

const OPTIONS: OptionSpecs = {
  ...MODEL_DATA_OPTIONS,
  model: { type: "string", help: "model spec (default: the one in the --from checkpoint)", meta: "SPEC" },
  data: { type: "string", help: "data spec the loss is measured on (default: the one in the --from checkpoint)", meta: "SPEC" },
  from: { type: "string", path: "file-or-folder", help: "first model, alpha = 0: a checkpoint directory or a .safetensors file", meta: "A" },
  to: { type: "string", path: "file-or-folder", help: "second model, alpha = 1: a checkpoint directory or a .safetensors file", meta: "B" },
  match: { type: "boolean", help: "also permute B's hidden units to match A's (weight matching; MLPs only) and walk that path too" },
  points: { type: "int", bounds: { min: 1 }, help: "evenly spaced alphas over the range (0 and 1 are always added)", default: 25, meta: "N" },
  range: { type: "string", help: "alphas from A to B, e.g. -0.5:1.5 to extrapolate beyond both models", default: "0:1", meta: "A:B" },
  seed: { type: "int", bounds: { min: 0 }, help: "seed of the layer order in weight matching", default: 0 },
  dtype: { type: "string", help: "arithmetic precision of the loss", choices: ["float32", "float64"], default: "float64" },
  json: { type: "boolean", help: "print the result as one JSON object on stdout" },
  out: { type: "string", path: "out", help: "write path.json and path.svg/png into this directory", meta: "DIR" },
  quiet: { type: "boolean", help: "no progress on stderr" },
};

export const INTERPOLATE_HELP = formatHelp(
  "interpolate",
  "Loss and accuracy along the straight line between two models, its barrier, and with --match the same after aligning hidden units by weight matching (linear mode connectivity).",
  OPTIONS,
  [
    "curvlab interpolate --from runs/a --to runs/b --out runs/a-b",
    "curvlab interpolate --model mlp:20-64-5:tanh --data gmm:k=5,d=20,n=200,sep=3,seed=0 --from a.safetensors --to b.safetensors --match --range -0.5:1.5 --out runs/lmc",
  ],
);

interface Endpoint {
  readonly path: string;
  /** The model its checkpoint.json names (null for a bare .safetensors file). */
  readonly model: Model | null;
  readonly data: string | null;
  /** Weights read later, once the model is settled. */
  readonly read: (model: Model) => Float64Array;
}

function endpoint(option: "--from" | "--to", value: string | number | boolean | undefined): Endpoint {
  if (value === undefined) throw new InputError(option, `is required by "curvlab interpolate" (a checkpoint directory or a .safetensors file)`);
  const path = String(value);
  if (!existsSync(path)) throw new InputError(option, `"${path}" not found (expected a checkpoint directory or a .safetensors file)`);
  if (statSync(path).isDirectory()) {
    if (existsSync(join(path, META_FILE))) {
      const c = loadCheckpoint(path);
      return { path, model: c.model, data: c.meta.data, read: () => c.theta };
    }
    const inner = join(path, WEIGHTS_FILE);
    if (!existsSync(inner)) throw new InputError(option, `"${path}" is a directory without ${WEIGHTS_FILE} (expected a checkpoint directory or a .safetensors file)`);
    return { path, model: null, data: null, read: (m) => loadWeights(inner, m) };
  }
  return { path, model: null, data: null, read: (m) => loadWeights(path, m) };
}

function parseRange(text: string): { from: number; to: number } {
  const parts = text.split(":");
  const [from, to] = parts.map((p) => (p.trim() === "" ? NaN : Number(p)));
  if (parts.length !== 2 || !Number.isFinite(from) || !Number.isFinite(to) || !(from < to)) {
    throw new InputError("--range", `expected A:B with finite A < B (e.g. -0.5:1.5), got "${text}"`);
  }
  return { from, to };
}

export interface InterpolateOutput {
  readonly command: "interpolate";
  readonly model: string;
  readonly data: string;
  readonly from: string;
  readonly to: string;
  readonly naive: InterpolationResult;
  readonly matching: WeightMatchingResult | null;
  readonly matched: InterpolationResult | null;
}

export async function interpolateCommand(argv: readonly string[]): Promise<number> {
  const opts = parseArgs(argv, OPTIONS, "interpolate");
  if (opts.help) {
    process.stdout.write(INTERPOLATE_HELP);
    return 0;
  }
  // Everything is checked before the engine starts: bad input fails fast, with nothing written.
  const points = Number(opts.points);
  if (points < 2) throw new InputError("--points", `expected at least 2, got ${points}`);
  const { from, to } = parseRange(String(opts.range));
  const A = endpoint("--from", opts.from), B = endpoint("--to", opts.to);
  let model: Model;
  if (opts.model !== undefined) model = loadModel(String(opts.model));
  else if (A.model || B.model) model = (A.model ?? B.model)!;
  else throw new InputError("--model", `is required when neither --from nor --to is a checkpoint directory (e.g. --model mlp:20-64-5:tanh)`);
  for (const [option, e] of [["--from", A], ["--to", B]] as const) {
    if (e.model && e.model.torch !== model.torch) {
      throw new InputError(option, `checkpoint "${e.path}" holds ${e.model.spec}, not ${model.spec}${opts.model !== undefined ? " (--model)" : " (the other model)"}`);
    }
  }
  // Each endpoint has its own running statistics, and a point between them has none that is
  // right: BatchNorm in eval mode is refused rather than run with the wrong statistics.
  if (model.buffers?.batchNorm === "eval") {
    throw new InputError("--model", `"${model.spec}" uses BatchNorm running statistics (bn=eval), which differ per endpoint; interpolate it with bn=batch (each batch's statistics)`);
  }
  if (opts.match) mlpLayers(model, "--match");
  const dataSpec = opts.data !== undefined ? String(opts.data) : (A.data ?? B.data);
  if (dataSpec === null) throw new InputError("--data", `is required when neither --from nor --to is a checkpoint directory (e.g. --data gmm:k=5,d=20,n=200,sep=3,seed=0)`);
  const data = loadData(dataSpec);
  withFlags(() => checkDataFitsModel(model, data));
  const thetaA = A.read(model), thetaB = B.read(model);
  const dtype = opts.dtype as DTypeName;
  const device = opts.device as DeviceName;
  if (device === "webgpu" && dtype === "float64") throw new InputError("--dtype", "webgpu has no float64 (use --dtype float32)");
  const alphas = pathAlphas({ points, from, to });

  await startEngine({ device });
  const bar = progress("interpolate", { quiet: !!opts.quiet });
  const total = alphas.length * (opts.match ? 2 : 1);
  let done = 0;
  const onPoint = (_d: number, _t: number, alpha: number, loss: number) => bar.update(++done, total, `alpha ${alpha.toFixed(3)} loss ${loss.toPrecision(4)}`);
  const objective = modelObjective(model, data, { loss: opts.loss as LossName, dtype });
  let naive: InterpolationResult, matching: WeightMatchingResult | null = null, matched: InterpolationResult | null = null;
  try {
    naive = await interpolatePath(objective, thetaA, thetaB, { points, from, to, onPoint });
    if (opts.match) {
      matching = matchWeights(model, thetaA, thetaB, { seed: Number(opts.seed) });
      matched = await interpolatePath(objective, thetaA, permuteHiddenUnits(model, thetaB, matching.perms), { points, from, to, onPoint });
    }
  } finally {
    objective.dispose();
  }
  bar.done();
  const result: InterpolateOutput = { command: "interpolate", model: model.spec, data: data.name, from: A.path, to: B.path, naive, matching, matched };

  if (opts.out !== undefined) {
    const paths = matched ? [["naive", naive], ["matched", matched]] as const : [["loss", naive]] as const;
    const panels: PathPanel[] = [{ yTitle: "loss", series: paths.map(([name, r]) => ({ name, values: r.loss })), logY: true }];
    if (naive.accuracy.every((a) => a !== null)) {
      panels.push({ yTitle: "accuracy", series: paths.map(([name, r]) => ({ name: name === "loss" ? "accuracy" : name, values: r.accuracy as number[] })) });
    }
    const barriers = matched ? `barrier ${naive.barrier.toPrecision(3)} (naive), ${matched.barrier.toPrecision(3)} (matched)` : `barrier ${naive.barrier.toPrecision(3)}`;
    const spec = pathChart({
      alpha: naive.alphas,
      title: `Interpolation: ${model.spec}`,
      subtitle: `${data.name}; ${barriers}`,
      markers: [{ alpha: 0, label: "A (--from)" }, { alpha: 1, label: "B (--to)" }],
      panels,
    });
    const [svg, png] = await Promise.all([toSvg(spec), toPng(spec)]);
    writeOutputs(String(opts.out), { "path.json": JSON.stringify(result, null, 2) + "\n", "path.svg": svg, "path.png": png });
  }
  if (opts.json) process.stdout.write(JSON.stringify(result) + "\n");
  else {
    const line = (name: string, r: InterpolationResult) =>
      `  ${name}: barrier ${r.barrier.toPrecision(4)} at alpha ${r.barrierAlpha.toFixed(3)}; losses ${r.lossA.toPrecision(4)} (A), ${r.lossB.toPrecision(4)} (B); distance ${r.distance.toPrecision(4)}`;
    process.stdout.write(
      [
        `interpolated ${model.spec} on ${data.name}: ${naive.alphas.length} points from ${naive.alphas[0]} to ${naive.alphas[naive.alphas.length - 1]}`,
        line("naive", naive),
        ...(matched && matching
          ? [line("matched", matched), `  weight matching: distance ${matching.distanceBefore.toPrecision(4)} -> ${matching.distanceAfter.toPrecision(4)}, ${matching.iterations} sweeps, ${matching.seconds.toFixed(2)} s`]
          : []),
        ...(opts.out !== undefined ? [`  wrote ${opts.out}/path.json, path.svg, path.png`] : []),
        "",
      ].join("\n"),
    );
  }
  return 0;
}
