/**
 * The options every curvature command shares (hessian, spectrum, density, trace, diag): which
 * operator of which model on which data at which weights, in which precision; and the one place
 * that turns them into a started engine, a problem and an operator.
 */
import { InputError } from "../errors.ts";
import { startEngine, type DeviceName } from "../engine/start.ts";
import { makeProblem, type LossProblem } from "../curvature/problem.ts";
import { withFlags } from "./flags.ts";
import { curvatureOperator, OPERATORS, type OperatorName } from "../curvature/make.ts";
import { HVP_METHODS, type HvpMethod } from "../curvature/hessian.ts";
import type { LinearOperator } from "../curvature/operator.ts";
import { blockRange } from "../tree/layout.ts";
import type { DTypeName } from "../engine/dtype.ts";
import type { LossName } from "../nn/loss.ts";
import type { Dataset } from "../data/dataset.ts";
import type { OptionSpecs, ParsedOptions } from "./args.ts";
import { loadModelDataWeights, MODEL_DATA_OPTIONS, SPLIT_OPTION, type Loaded } from "./load.ts";

export function curvatureOptions(defaultDtype: DTypeName): OptionSpecs {
  return {
    ...MODEL_DATA_OPTIONS,
    ...SPLIT_OPTION,
    weights: { type: "string", path: "file-or-folder", help: "parameters: a .safetensors or .npz file (PyTorch state_dict names) or a checkpoint directory; default: the model's seeded initialization", meta: "FILE" },
    seed: { type: "int", bounds: { min: 0 }, help: "seed of the initialization when no --weights, and of random probes", default: 0 },
    operator: { type: "string", help: "which curvature", choices: OPERATORS, default: "hessian" },
    block: { type: "string", help: "restrict to one parameter (\"2.weight\") or layer (\"2\")", meta: "NAME" },
    dtype: { type: "string", help: "arithmetic precision", choices: ["float32", "float64"], default: defaultDtype },
    exact: { type: "boolean", help: "float64 with exact transcendentals (the cpu device; slower)" },
    "batch-size": { type: "int", bounds: { min: 1 }, help: "examples per batch when accumulating over the data", default: 1000 },
    hvp: { type: "string", help: "Hessian-vector product method: auto picks linearize, or grad-of-jvp (float32) or relinearize (float64) per batch where the linearizations of all the data would not fit in memory", choices: HVP_METHODS, default: "auto" },
    json: { type: "boolean", help: "print one JSON object (results, settings, cost) on stdout" },
    quiet: { type: "boolean", help: "no progress on stderr" },
  };
}

export interface CurvatureSetup {
  readonly loaded: Loaded;
  readonly operator: OperatorName;
  readonly block: string | null;
  /** Dimension of the operator (the block's, with --block). */
  readonly size: number;
  readonly dtype: DTypeName;
  readonly device: DeviceName;
  readonly exact: boolean;
  readonly loss: LossName;
  /** The settings that identify the operator, for results and run directories. */
  readonly settings: CurvatureSettings;
}

/** The settings that identify a curvature operator, as results and run directories record them. */
export interface CurvatureSettings {
  /** Model spec, e.g. "mlp:20-32-5:tanh". */
  readonly model: string;
  /** Data spec, e.g. "gmm:k=5,d=20,n=200,sep=3,seed=0". */
  readonly data: string;
  /** Where the parameters came from: a file, a checkpoint directory, or the seeded initialization. */
  readonly weights: string;
  readonly operator: OperatorName;
  /** The parameter or layer the operator is restricted to, or null for the whole model. */
  readonly block: string | null;
  readonly loss: LossName;
  readonly dtype: DTypeName;
  readonly device: DeviceName;
  /** float64 with exact transcendentals (the cpu device). */
  readonly exact: boolean;
}

/** Checks every option and loads model, data and weights; starts nothing. */
export function prepareCurvature(opts: ParsedOptions, argv: readonly string[], command: string): CurvatureSetup {
  const exact = !!opts.exact;
  if (exact && opts.dtype === "float32" && argv.some((a) => a.startsWith("--dtype"))) {
    throw new InputError("--exact", "is float64; it cannot be combined with --dtype float32");
  }
  const dtype = (exact ? "float64" : opts.dtype) as DTypeName;
  const device = (exact ? "cpu" : opts.device) as DeviceName;
  if (device === "webgpu" && dtype === "float64") {
    throw new InputError("--dtype", "webgpu has no float64; use --dtype float32 with --device webgpu");
  }
  const loaded = loadModelDataWeights(opts, command, Number(opts.seed), true);
  const block = opts.block === undefined ? null : String(opts.block);
  const size = block ? blockRange(loaded.model.layout, block).size : loaded.model.size;
  const operator = String(opts.operator) as OperatorName;
  const loss = opts.loss as LossName;
  return {
    loaded,
    operator,
    block,
    size,
    dtype,
    device,
    exact,
    loss,
    settings: { model: loaded.model.spec, data: loaded.data.name, weights: loaded.weights, operator, block, loss, dtype, device, exact },
  };
}

/**
 * Starts the engine and builds the problem and the operator (on `data`, by default the loaded
 * data: a mini-batch with --batches). Dispose both when done.
 */
export async function buildOperator(setup: CurvatureSetup, opts: ParsedOptions, data: Dataset = setup.loaded.data): Promise<{ problem: LossProblem; op: LinearOperator }> {
  await startEngine({ device: setup.device });
  const problem = withFlags(() => makeProblem(setup.loaded.model, data, setup.loaded.theta, {
    dtype: setup.dtype,
    loss: setup.loss,
    batchSize: Number(opts["batch-size"]),
  }));
  const op = withFlags(() => curvatureOperator(problem, { operator: setup.operator, block: setup.block ?? undefined, hvp: opts.hvp as HvpMethod }));
  return { problem, op };
}
