/**
 * `curvlab align`: Hessian and gradient alignment of one model across two datasets (Hemati et
 * al. 2023, "Understanding Hessian Alignment for Domain Generalization"): ||H1 - H2||_F^2 and
 * ||diag(H1) - diag(H2)||^2 of the classifier-head Hessians by Hutchinson (with standard errors),
 * the Hessian-gradient products ||H1 g1 - H2 g2||^2 and the gradient distance and cosine, exact
 * (src/landscape/alignment.ts). `--shift` moves the features of the second dataset, so
 * `--data2` can be the first one shifted. With --out DIR: alignment.json (written atomically).
 */
import { InputError } from "../errors.ts";
import { startEngine, type DeviceName } from "../engine/start.ts";
import { loadData } from "../data/spec.ts";
import { checkDataFitsModel } from "../data/device-batches.ts";
import type { DTypeName } from "../engine/dtype.ts";
import type { LossName } from "../nn/loss.ts";
import { ALIGNMENT_DEFAULTS, headBlock, modelHessianAlignment, shiftFeatures, type AlignmentResult } from "../landscape/alignment.ts";
import { formatHelp, parseArgs, type OptionSpecs } from "./args.ts";
import { loadModelDataWeights, MODEL_DATA_OPTIONS, SPLIT_OPTION } from "./load.ts";
import { progress } from "./progress.ts";
import { writeOutputs } from "./output.ts";

const OPTIONS: OptionSpecs = {
  ...MODEL_DATA_OPTIONS,
  ...SPLIT_OPTION,
  data2: { type: "string", help: "the second dataset (domain 2), same features and classes as --data", meta: "SPEC" },
  shift: { type: "string", help: "add this to every feature of --data2 (one number, or one per feature, comma-separated)", meta: "X[,X...]" },
  weights: { type: "string", path: "file-or-folder", help: "parameters: a .safetensors or .npz file (PyTorch state_dict names) or a checkpoint directory; default: the seeded initialization", meta: "FILE" },
  probes: { type: "int", bounds: { min: 1 }, help: "Rademacher probes (each costs two Hessian-vector products)", default: ALIGNMENT_DEFAULTS.probes },
  block: { type: "string", help: "parameter (\"2.weight\") or layer (\"2\") to compare (default: the last layer, the classifier head)", meta: "NAME" },
  seed: { type: "int", bounds: { min: 0 }, help: "seed of the initialization (without --weights) and of the probes", default: 0 },
  dtype: { type: "string", help: "arithmetic precision", choices: ["float32", "float64"], default: "float64" },
  "batch-size": { type: "int", bounds: { min: 1 }, help: "examples per batch when accumulating over the data", default: 1000 },
  json: { type: "boolean", help: "print the result (settings, estimates, standard errors, cost) as one JSON object on stdout" },
  out: { type: "string", path: "out", help: "write alignment.json into this directory", meta: "DIR" },
  quiet: { type: "boolean", help: "no progress on stderr" },
};

export const ALIGN_HELP = formatHelp(
  "align",
  "Hessian and gradient alignment of a model across two datasets (Hemati et al. 2023): classifier-head Hessian distance and diagonal distance by Hutchinson, Hessian-gradient products and gradients exactly.",
  OPTIONS,
  [
    "curvlab align --model mlp:20-32-5:tanh --data gmm:k=5,d=20,n=200,sep=3,seed=0 --data2 gmm:k=5,d=20,n=200,sep=3,seed=0 --shift 0.5",
    "curvlab align --model mlp:784-100-10:tanh --data mnist:n=500 --data2 mnist:n=1000 --weights runs/mnist --probes 50 --json",
  ],
);

function parseShift(raw: string): number[] {
  const parts = raw.split(",").map((s) => s.trim());
  const values = parts.map(Number);
  values.forEach((v, i) => {
    if (parts[i] === "" || !Number.isFinite(v)) throw new InputError("--shift", `expected numbers separated by commas, got "${raw}"`);
  });
  return values;
}

/** What `curvlab align` prints with --json and writes to alignment.json. */
export interface AlignCommandResult extends AlignmentResult {
  readonly command: "align";
  readonly model: string;
  readonly data: string;
  readonly data2: string;
  readonly weights: string;
}

export async function alignCommand(argv: readonly string[]): Promise<number> {
  const opts = parseArgs(argv, OPTIONS, "align");
  if (opts.help) {
    process.stdout.write(ALIGN_HELP);
    return 0;
  }
  // Every input is checked before the engine starts.
  if (opts.data2 === undefined) throw new InputError("--data2", "is required by \"curvlab align\" (the second dataset; e.g. the first one with --shift 0.5)");
  const seed = Number(opts.seed);
  const probes = Number(opts.probes);
  if (probes < 3) throw new InputError("--probes", `expected an integer >= 3 (standard errors need several probes), got ${probes}`);
  const batchSize = Number(opts["batch-size"]);
  if (batchSize < 1) throw new InputError("--batch-size", `expected a positive integer, got ${batchSize}`);
  const loaded = loadModelDataWeights(opts, "align", seed, true);
  let data2 = loadData(String(opts.data2));
  try {
    checkDataFitsModel(loaded.model, data2);
  } catch (e) {
    if (e instanceof InputError) throw new InputError("--data2", e.detail);
    throw e;
  }
  if (opts.shift !== undefined) data2 = shiftFeatures(data2, parseShift(String(opts.shift)));
  const block = headBlock(loaded.model, opts.block === undefined ? undefined : String(opts.block));
  const dtype = opts.dtype as DTypeName;
  const device = opts.device as DeviceName;
  if (device === "webgpu" && dtype === "float64") throw new InputError("--dtype", "webgpu has no float64; use --dtype float32 with --device webgpu");

  await startEngine({ device });
  const bar = progress("align", { quiet: !!opts.quiet });
  const result: AlignmentResult = await modelHessianAlignment(loaded.model, loaded.data, data2, loaded.theta, {
    probes, seed, block: block.name, loss: opts.loss as LossName, dtype, batchSize,
    onProgress: (d, t) => bar.update(d, t),
  });
  bar.done();
  const json: AlignCommandResult = {
    command: "align",
    model: loaded.model.spec,
    data: loaded.data.name,
    data2: data2.name,
    weights: loaded.weights,
    ...result,
  };
  if (opts.out !== undefined) writeOutputs(String(opts.out), { "alignment.json": JSON.stringify(json, null, 2) + "\n" });
  if (opts.json) process.stdout.write(JSON.stringify(json) + "\n");
  else {
    const f = (x: number) => Number(x.toPrecision(4)).toString();
    const se = (s: number | null) => (s === null ? "" : ` +- ${f(s)}`);
    const r = result;
    process.stdout.write(
      [
        `alignment of ${loaded.model.spec} on "${loaded.data.name}" vs "${data2.name}", block "${block.name}" (${block.size} parameters), ${probes} probes`,
        `  ||H1 - H2||_F^2            ${f(r.hessianFrobeniusSquared.estimate)}${se(r.hessianFrobeniusSquared.standardError)}   (Hutchinson)`,
        `  ||diag H1 - diag H2||^2    ${f(r.diagonalDistanceSquared.estimate)}${se(r.diagonalDistanceSquared.standardError)}   (Hutchinson diagonals)`,
        `  tr H1, tr H2               ${f(r.traces[0].estimate)}${se(r.traces[0].standardError)}, ${f(r.traces[1].estimate)}${se(r.traces[1].standardError)}`,
        `  ||H1 g1 - H2 g2||^2        ${f(r.hgp.distanceSquared)}   (HGP, exact; norms ${f(r.hgp.norm1)}, ${f(r.hgp.norm2)})`,
        `  ||g1 - g2|| (block)        ${f(r.gradients.block.distance)}, cosine ${r.gradients.block.cosine === null ? "n/a" : f(r.gradients.block.cosine)}`,
        `  ||g1 - g2|| (all)          ${f(r.gradients.all.distance)}, cosine ${r.gradients.all.cosine === null ? "n/a" : f(r.gradients.all.cosine)}`,
        `  ${r.cost.hessianVectorProducts} Hessian-vector products, ${r.cost.seconds.toFixed(1)} s`,
        ...(opts.out !== undefined ? [`  wrote ${opts.out}/alignment.json`] : []),
        "",
      ].join("\n"),
    );
  }
  return 0;
}
