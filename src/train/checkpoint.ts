/**
 * Checkpoints: a folder with
 * - `model.safetensors`: one tensor per parameter block, named and shaped as the equivalent
 *   PyTorch module's `state_dict` (nn/model.ts), F32 or F64 as the run's dtype, and for models
 *   with buffers (BatchNorm running statistics) the buffers the model is bound to, in the same
 *   dtype except num_batches_tracked, I64 as in PyTorch. PyTorch loads it
 *   with `model.load_state_dict(safetensors.torch.load_file(path))`; and `loadWeights` reads
 *   files PyTorch wrote with `safetensors.torch.save_file(model.state_dict(), path)`.
 * - `checkpoint.json`: { format: "curvlab-checkpoint", version: 1, model (spec), data (spec),
 *   loss, dtype, parameters, torch, settings, metrics, created (ISO time) }.
 *
 * Writing is all or nothing per file and ordered: everything is checked first, both files are
 * staged under temporary names in the folder, then renamed weights first and checkpoint.json last,
 * so a folder whose checkpoint.json exists always holds complete weights; on any error the staged
 * files are removed and existing files are untouched.
 */
import { renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.ts";
import type { DTypeName } from "../engine/dtype.ts";
import { readInputFile, writeFileAtomic, makeFolders } from "../data/files.ts";
import { encodeSafetensors, readSafetensors, type TensorInput } from "../data/safetensors.ts";
import { readNpz } from "../data/npz.ts";
import { flattenParams, unflattenParams } from "../tree/layout.ts";
import type { Model } from "../nn/model.ts";
import { isIntegerBuffer } from "../nn/batchnorm.ts";
import { loadModel } from "../data/model-file.ts";
import { LOSSES, type LossName } from "../nn/loss.ts";

export const CHECKPOINT_FORMAT = "curvlab-checkpoint";
export const CHECKPOINT_VERSION = 1;
export const WEIGHTS_FILE = "model.safetensors";
export const META_FILE = "checkpoint.json";

export interface CheckpointInput {
  readonly model: Model;
  /** Flat parameters (host), length model.size. */
  readonly theta: ArrayLike<number>;
  /** The data spec the model was trained on, e.g. "gmm:k=5,d=20,n=200,sep=3,seed=0". */
  readonly dataSpec: string;
  /** Default "cross-entropy". */
  readonly loss?: LossName;
  /** Tensor dtype in the file (default: float64 for a Float64Array theta, else float32). */
  readonly dtype?: DTypeName;
  /** Any JSON value, e.g. a TrainResult's settings. */
  readonly settings?: unknown;
  /** Any JSON value, e.g. a TrainResult's final metrics. */
  readonly metrics?: unknown;
}

/** The content of checkpoint.json. */
export interface CheckpointMeta {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: typeof CHECKPOINT_VERSION;
  readonly model: string;
  readonly data: string;
  readonly loss: LossName;
  readonly dtype: DTypeName;
  /** Number of parameters. */
  readonly parameters: number;
  /** The PyTorch module the weights belong to. */
  readonly torch: string;
  readonly settings: unknown;
  readonly metrics: unknown;
  /** ISO 8601 time of writing. */
  readonly created: string;
}

export interface Checkpoint {
  readonly meta: CheckpointMeta;
  readonly model: Model;
  /** Flat parameters (values exactly as stored). */
  readonly theta: Float64Array;
}

/** The parameters, then the buffers, as named tensors in `dtype` (views or one copy). */
function tensorsOf(model: Model, theta: ArrayLike<number>, dtype: DTypeName): Map<string, TensorInput> {
  const typed = (v: ArrayLike<number>) => (dtype === "float64" ? Float64Array.from(v) : Float32Array.from(v));
  const st = dtype === "float64" ? "F64" : "F32";
  const out = new Map<string, TensorInput>([...unflattenParams(model.layout, typed(theta))].map(([name, t]) => [name, { dtype: st, shape: t.shape, data: t.data }]));
  if (model.buffers) {
    for (const [name, t] of unflattenParams(model.buffers.layout, typed(model.buffers.values))) {
      out.set(name, isIntegerBuffer(name)
        ? { dtype: "I64", shape: t.shape, data: BigInt64Array.from(t.data, (v) => BigInt(Math.round(v))) }
        : { dtype: st, shape: t.shape, data: t.data });
    }
  }
  return out;
}

/** Writes `dir/model.safetensors` and `dir/checkpoint.json` (see the module comment). */
export function saveCheckpoint(dir: string, c: CheckpointInput): CheckpointMeta {
  const { model, theta } = c;
  if (theta.length !== model.size) {
    throw new InputError(dir, `checkpoint: expected ${model.size} parameters for "${model.spec}", got ${theta.length}`);
  }
  for (let i = 0; i < theta.length; i++) {
    if (!Number.isFinite(theta[i]!)) throw new InputError(dir, `checkpoint: parameter ${i} is not finite (${theta[i]})`);
  }
  const buffers = model.buffers?.values ?? new Float64Array(0);
  for (let i = 0; i < buffers.length; i++) {
    if (!Number.isFinite(buffers[i]!)) throw new InputError(dir, `checkpoint: buffer value ${i} is not finite (${buffers[i]})`);
  }
  const dtype: DTypeName = c.dtype ?? (theta instanceof Float64Array ? "float64" : "float32");
  if (dtype !== "float32" && dtype !== "float64") throw new InputError(dir, `checkpoint: dtype must be float32 or float64, got "${dtype}"`);
  const loss = c.loss ?? "cross-entropy";
  if (!LOSSES.includes(loss)) throw new InputError(dir, `checkpoint: unknown loss "${loss}"`);
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    model: model.spec,
    data: c.dataSpec,
    loss,
    dtype,
    parameters: model.size,
    torch: model.torch,
    settings: c.settings ?? null,
    metrics: c.metrics ?? null,
    created: new Date().toISOString(),
  };
  let json: string;
  try {
    json = JSON.stringify(meta, null, 2) + "\n";
  } catch (e) {
    throw new InputError(dir, `checkpoint: settings or metrics are not JSON-serializable (${(e as Error).message})`);
  }
  const weights = encodeSafetensors(tensorsOf(model, theta, dtype), { format: "pt" }, join(dir, WEIGHTS_FILE));

  try {
    makeFolders(dir);
  } catch (e) {
    throw new InputError(dir, `cannot create the checkpoint folder: ${(e as Error).message}`);
  }
  if (!statSync(dir).isDirectory()) throw new InputError(dir, "is not a folder");
  const stamp = `${process.pid}.${Date.now().toString(36)}`;
  const staged: [string, string][] = [
    [join(dir, `.${WEIGHTS_FILE}.${stamp}.staged`), join(dir, WEIGHTS_FILE)],
    [join(dir, `.${META_FILE}.${stamp}.staged`), join(dir, META_FILE)],
  ];
  try {
    writeFileAtomic(staged[0]![0], weights);
    writeFileAtomic(staged[1]![0], [new TextEncoder().encode(json)]);
    for (const [from, to] of staged) renameSync(from, to);
  } catch (e) {
    for (const [from] of staged) rmSync(from, { force: true });
    if (e instanceof InputError) throw e;
    throw new InputError(dir, `cannot write the checkpoint: ${(e as Error).message}`);
  }
  return meta;
}

/** What a weights file holds for a model: its parameters, and the model bound to the file's buffers. */
export interface LoadedWeights {
  /** Flat parameters, length model.size. */
  readonly theta: Float64Array;
  /** The model bound to the buffers read from the file (the given model when it has none). */
  readonly model: Model;
}

/**
 * Reads a file of named tensors for `model`: a .safetensors file, or a NumPy .npz archive whose
 * keys are the state_dict names (`np.savez(path, **{k: v.numpy() for k, v in
 * model.state_dict().items()})`). The file must hold exactly the model's state_dict, as PyTorch's
 * strict `load_state_dict` wants: every parameter (float dtypes: F16, BF16, F32, F64) and, for a
 * model with buffers, every buffer (floats, or integers for num_batches_tracked); else an
 * InputError naming the file and the tensor (missing, unexpected, misshapen, wrong dtype,
 * non-finite).
 */
export function loadModelWeights(path: string, model: Model): LoadedWeights {
  const bufferNames = new Set((model.buffers?.layout ?? []).map((b) => b.name));
  const params = new Map<string, { shape: readonly number[]; data: ArrayLike<number> }>();
  const buffers = new Map<string, { shape: readonly number[]; data: ArrayLike<number> }>();
  const add = (name: string, dtype: string, shape: readonly number[], data: ArrayLike<number> | BigInt64Array | BigUint64Array, what: string, floats: string) => {
    const isFloat = data instanceof Float32Array || data instanceof Float64Array;
    if (bufferNames.has(name)) {
      if (!isFloat && !isIntegerBuffer(name)) throw new InputError(path, `${what} "${name}" has dtype ${dtype}; expected a float buffer (${floats})`);
      buffers.set(name, { shape, data: data as ArrayLike<number> });
      return;
    }
    if (!isFloat) throw new InputError(path, `${what} "${name}" has dtype ${dtype}; expected a float ${what} (${floats})`);
    params.set(name, { shape, data: data as ArrayLike<number> });
  };
  if (path.toLowerCase().endsWith(".npz")) {
    for (const [name, a] of readNpz(path)) add(name, a.dtype, a.shape, a.data as ArrayLike<number>, "array", "f2, f4 or f8");
  } else {
    const file = readSafetensors(path);
    for (const [name, t] of file.tensors) add(name, t.dtype, t.shape, t.data as ArrayLike<number>, "tensor", "F16, BF16, F32 or F64");
  }
  const theta = flattenParams(model.layout, params, new Float64Array(model.size), path) as Float64Array;
  if (!model.buffers || !model.withBuffers) return { theta, model };
  const values = flattenParams(model.buffers.layout, buffers, new Float64Array(model.buffers.values.length), path) as Float64Array;
  return { theta, model: model.withBuffers(values) };
}

/** The parameters of a weights file (loadModelWeights; the file's buffers are checked, then dropped). */
export function loadWeights(path: string, model: Model): Float64Array {
  return loadModelWeights(path, model).theta;
}

function readMeta(path: string): CheckpointMeta {
  const bytes = readInputFile(path, "checkpoint metadata");
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new InputError(path, `not valid JSON (${(e as Error).message})`);
  }
  const m = v as Partial<CheckpointMeta> | null;
  if (m === null || typeof m !== "object" || m.format !== CHECKPOINT_FORMAT) {
    throw new InputError(path, `not a curvlab checkpoint (expected "format": "${CHECKPOINT_FORMAT}")`);
  }
  if (m.version !== CHECKPOINT_VERSION) {
    throw new InputError(path, `checkpoint version ${m.version} is not supported (expected ${CHECKPOINT_VERSION})`);
  }
  if (typeof m.model !== "string") throw new InputError(path, `"model" must be a model spec string`);
  if (typeof m.data !== "string") throw new InputError(path, `"data" must be a data spec string`);
  if (!LOSSES.includes(m.loss as LossName)) throw new InputError(path, `"loss" must be one of ${LOSSES.join(", ")}, got ${JSON.stringify(m.loss)}`);
  if (m.dtype !== "float32" && m.dtype !== "float64") throw new InputError(path, `"dtype" must be float32 or float64, got ${JSON.stringify(m.dtype)}`);
  return m as CheckpointMeta;
}

/** Reads a checkpoint folder: its metadata, the model it names (bound to the stored buffers), and the weights. */
export function loadCheckpoint(dir: string): Checkpoint {
  const meta = readMeta(join(dir, META_FILE));
  const { theta, model } = loadModelWeights(join(dir, WEIGHTS_FILE), loadModel(meta.model));
  return { meta, model, theta };
}
