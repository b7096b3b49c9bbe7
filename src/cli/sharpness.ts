/**
 * `curvlab sharpness`: how sharp the loss is at a point (landscape/sharpness.ts): the top
 * Hessian eigenvalue, the trace, Keskar et al.'s epsilon-sharpness, SAM's worst-case loss in an
 * L2 ball, and with --lr the linear-stability verdicts of GD (lambda_max vs 2/lr, (2+2beta)/lr
 * with momentum) and of SGD's trace screen (landscape/stability.ts).
 */
import { InputError } from "../errors.ts";
import { startEngine } from "../engine/start.ts";
import type { DTypeName } from "../engine/dtype.ts";
import type { LossName } from "../nn/loss.ts";
import { modelObjective } from "../landscape/objective.ts";
import { sharpness, SHARPNESS_DEFAULTS, type SharpnessReport } from "../landscape/sharpness.ts";
import { gdStability, sgdTraceStability, type StabilityVerdict } from "../landscape/stability.ts";
import { formatHelp, parseArgs, type OptionSpecs } from "./args.ts";
import { curvatureOptions, prepareCurvature } from "./curvature-options.ts";
import { writeOutputs } from "./output.ts";

const { operator: _op, block: _block, hvp: _hvp, ...shared } = curvatureOptions("float64");

const OPTIONS: OptionSpecs = {
  ...shared,
  epsilon: { type: "number", bounds: { above: 0 }, help: `box size of the epsilon-sharpness, relative to |theta_i| + 1 (default ${SHARPNESS_DEFAULTS.epsilon})`, meta: "EPS" },
  rho: { type: "number", bounds: { above: 0 }, help: `radius of SAM's L2 ball (default ${SHARPNESS_DEFAULTS.rho})`, meta: "RHO" },
  probes: { type: "int", bounds: { min: 1 }, help: `Hutchinson probes for the trace (default ${SHARPNESS_DEFAULTS.traceProbes})`, meta: "N" },
  lr: { type: "number", bounds: { above: 0 }, help: "learning rate: adds the linear-stability verdicts (GD: lambda_max <= 2/lr; SGD: trace <= 2/lr)", meta: "LR" },
  momentum: { type: "number", bounds: { min: 0, below: 1 }, help: "heavy-ball momentum for the GD verdict (threshold (2 + 2 beta)/lr)", default: 0, meta: "BETA" },
  out: { type: "string", path: "out", help: "write sharpness.json into this directory", meta: "DIR" },
};

export const SHARPNESS_HELP = formatHelp(
  "sharpness",
  "Sharpness of a model's loss at its weights: top eigenvalue, trace, epsilon-sharpness (Keskar et al. 2017), SAM worst case (Foret et al. 2021), linear stability.",
  OPTIONS,
  [
    "curvlab sharpness --model mlp:20-32-5:tanh --data gmm:k=5,d=20,n=200,sep=3,seed=0 --weights runs/gmm --lr 0.1 --momentum 0.9",
    "curvlab sharpness --onnx model.onnx --data npz:data.npz --rho 0.1 --json",
  ],
);

export interface SharpnessCommandResult extends SharpnessReport {
  readonly command: "sharpness";
  readonly model: string;
  readonly data: string;
  readonly weights: string;
  readonly dtype: DTypeName;
  readonly stability: { readonly gd: StabilityVerdict; readonly sgd: StabilityVerdict } | null;
}

export async function sharpnessCommand(argv: readonly string[]): Promise<number> {
  const opts = parseArgs(argv, OPTIONS, "sharpness");
  if (opts.help) {
    process.stdout.write(SHARPNESS_HELP);
    return 0;
  }
  const positive = (name: string): number | undefined => {
    const v = opts[name] as number | undefined;
    if (v !== undefined && !(v > 0)) throw new InputError(`--${name}`, `expected a number > 0, got ${v}`);
    return v;
  };
  const epsilon = positive("epsilon"), rho = positive("rho"), lr = positive("lr");
  const momentum = Number(opts.momentum);
  if (!(momentum >= 0 && momentum < 1)) throw new InputError("--momentum", `expected a number in [0, 1), got ${momentum}`);
  if (opts.lr === undefined && momentum !== 0) throw new InputError("--momentum", "needs --lr (it only enters the stability verdict)");
  const setup = prepareCurvature({ ...opts, operator: "hessian", hvp: "linearize" }, argv, "sharpness");
  const seed = Number(opts.seed);
  await startEngine({ device: setup.device });
  const objective = modelObjective(setup.loaded.model, setup.loaded.data, {
    loss: opts.loss as LossName, dtype: setup.dtype, batchSize: Number(opts["batch-size"]),
  });
  let report: SharpnessReport;
  try {
    if (!opts.quiet) process.stderr.write(`sharpness of ${objective.description}, ${objective.size} parameters\n`);
    report = await sharpness(objective, setup.loaded.theta, {
      lanczos: { seed },
      trace: { seed, ...(opts.probes !== undefined ? { probes: Number(opts.probes) } : {}) },
      epsilon: { seed, ...(epsilon !== undefined ? { epsilon } : {}) },
      sam: { seed, ...(rho !== undefined ? { rho } : {}) },
    });
  } finally {
    objective.dispose();
  }
  const stability = lr === undefined ? null : {
    gd: gdStability(report.topEigenvalue.value, lr, momentum),
    sgd: sgdTraceStability(report.trace.value, lr),
  };
  const result: SharpnessCommandResult = {
    command: "sharpness", model: setup.loaded.model.spec, data: setup.loaded.data.name, weights: setup.loaded.weights,
    dtype: setup.dtype, ...report, stability,
  };
  if (opts.out !== undefined) writeOutputs(String(opts.out), { "sharpness.json": JSON.stringify(result, null, 2) + "\n" });
  if (opts.json) {
    process.stdout.write(JSON.stringify(result) + "\n");
    return 0;
  }
  const r = report;
  const lines = [
    `sharpness of ${r.objective} (${r.size} parameters), loss ${r.loss.toPrecision(6)}`,
    `  top eigenvalue     ${r.topEigenvalue.value.toPrecision(6)}${r.topEigenvalue.converged ? "" : " (not converged)"}`,
    `  trace              ${r.trace.value.toPrecision(6)} +- ${r.trace.standardError?.toPrecision(2) ?? "?"} (Hutchinson)`,
    `  epsilon-sharpness  ${r.epsilonSharpness.value.toPrecision(4)} (Keskar et al., eps ${r.epsilonSharpness.settings.epsilon})`,
    `  SAM worst case     ${r.sam.worstLoss.toPrecision(6)}, sharpness ${r.sam.value.toPrecision(4)} (rho ${r.sam.settings.rho}; SAM's one step: ${r.sam.firstStepLoss.toPrecision(6)})`,
  ];
  if (stability) {
    const say = (v: StabilityVerdict) => `${v.stable ? "stable" : "UNSTABLE"}: ${v.rule} (${v.quantity} ${v.value.toPrecision(4)} vs ${v.threshold.toPrecision(4)}, ratio ${v.ratio.toPrecision(3)})`;
    lines.push(`  GD stability       ${say(stability.gd)}`, `  SGD trace screen   ${say(stability.sgd)}`);
  }
  lines.push(`  cost ${r.cost.evaluations} evaluations, ${r.cost.gradients} gradients, ${r.cost.matvecs} Hessian products, ${r.cost.seconds.toFixed(1)} s`);
  if (opts.out !== undefined) lines.push(`  wrote ${opts.out}/sharpness.json`);
  process.stdout.write(lines.join("\n") + "\n");
  return 0;
}
