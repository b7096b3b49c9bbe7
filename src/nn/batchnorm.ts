/**
 * BatchNorm2d as PyTorch defines it (eps 1e-5, affine), in the two semantics a measurement must
 * choose between, selected by a model spec's `bn=` option:
 * - `eval` (the default): y = (x - running_mean) / sqrt(running_var + eps) * weight + bias, with
 *   the running statistics fixed: PyTorch's `model.eval()`, the mode PyHessian measures a trained
 *   model in. The model is then a fixed function of its parameters and of each example alone.
 * - `batch`: y = (x - mean_B) / sqrt(var_B + eps) * weight + bias, with mean_B and var_B the
 *   per-channel statistics of the current batch over (N, H, W), var_B biased (divided by N*H*W),
 *   as PyTorch normalizes with in `model.train()`. The statistics are differentiated through, so
 *   curvature includes their dependence on the parameters; outputs and curvature then depend on
 *   how the data is split in batches (curvlab's dataset problems: batches of 1000 by default).
 *
 * Running statistics are buffers, never parameters: running_mean [C] (init 0), running_var [C]
 * (init 1) and num_batches_tracked [] (init 0, int64 in PyTorch), named as in the state_dict and
 * held by the model (`Model.buffers`), so curvature is taken over the parameters only.
 *
 * Buffers in curvlab's own training: the step runs `model.apply`, which never changes buffers. With
 * bn=eval the running statistics are constants of the trained function and stay as they are. With
 * bn=batch the function does not read them; after training, `curvlab train` re-estimates them from
 * the training split with `updateBatchNormStatistics` below, which equals PyTorch's
 * `torch.optim.swa_utils.update_bn(loader, model)`: statistics reset, then for each batch of the
 * loader a training-mode forward pass with momentum=None, i.e. running_mean = the mean over
 * batches of the batch means, running_var = the mean over batches of the UNBIASED batch variances
 * (N*H*W / (N*H*W - 1) times the biased ones), num_batches_tracked = the number of batches.
 */
import { numpy as np, type Array } from "../engine/jax.ts";
import { constant, type DTypeName } from "../engine/dtype.ts";
import { take } from "../engine/scope.ts";
import { layoutSize } from "../tree/layout.ts";
import type { Model } from "./model.ts";

export type BatchNormMode = "eval" | "batch";
export const BATCHNORM_MODES: readonly BatchNormMode[] = ["eval", "batch"];
/** PyTorch's BatchNorm2d default eps. */
export const BATCHNORM_EPS = 1e-5;

/** The state_dict entries of BatchNorm2d(C) under `prefix`: parameters and buffers, in order. */
export function batchNormEntries(prefix: string, channels: number): {
  params: { name: string; shape: number[] }[];
  buffers: { name: string; shape: number[] }[];
} {
  return {
    params: [
      { name: `${prefix}.weight`, shape: [channels] },
      { name: `${prefix}.bias`, shape: [channels] },
    ],
    buffers: [
      { name: `${prefix}.running_mean`, shape: [channels] },
      { name: `${prefix}.running_var`, shape: [channels] },
      { name: `${prefix}.num_batches_tracked`, shape: [] },
    ],
  };
}

/** True for the buffers PyTorch keeps as int64 (num_batches_tracked). */
export function isIntegerBuffer(name: string): boolean {
  return name === "num_batches_tracked" || name.endsWith(".num_batches_tracked");
}

/** PyTorch's initial buffer values for a buffer layout: running_var 1, everything else 0. */
export function initialBuffers(layout: readonly { name: string; offset: number; size: number }[]): Float64Array {
  const out = new Float64Array(layoutSize(layout as never));
  for (const b of layout) if (b.name.endsWith("running_var")) out.fill(1, b.offset, b.offset + b.size);
  return out;
}

function dtypeName(x: Array): DTypeName {
  return x.dtype === np.float64 ? "float64" : "float32";
}

/** A host vector as a device constant [1, C, 1, 1] in x's dtype. */
function channelConstant(values: Float64Array, like: Array): Array {
  const data = like.dtype === np.float64 ? values : Float32Array.from(values);
  return np.array(data, { dtype: like.dtype }).reshape([1, values.length, 1, 1]);
}

/** Running statistics of one BatchNorm2d (host, float64). */
export interface RunningStats {
  readonly mean: Float64Array;
  readonly var: Float64Array;
}

/** What a batch-mode layer reports: the batch's mean and unbiased variance, [C] each. */
export interface BatchStats {
  readonly mean: Array;
  readonly unbiasedVar: Array;
}

/**
 * BatchNorm2d over x [n, C, H, W] with weight, bias [C]. In `eval` mode `stats` are the running
 * statistics; in `batch` mode they are unused, and when `collect` is given the batch's mean and
 * unbiased variance are pushed onto it (for updateBatchNormStatistics). Consumes x, weight, bias.
 */
export function batchNorm2d(
  x: Array, weight: Array, bias: Array, mode: BatchNormMode, stats: RunningStats, collect?: BatchStats[],
): Array {
  const C = x.shape[1]!;
  const w = weight.reshape([1, C, 1, 1]);
  const b = bias.reshape([1, C, 1, 1]);
  if (mode === "eval") {
    // (x - mean) * (1 / sqrt(var + eps)), the scale computed on the host in float64.
    const scale = stats.var.map((v) => 1 / Math.sqrt(v + BATCHNORM_EPS));
    return x.sub(channelConstant(stats.mean, x)).mul(channelConstant(scale, x)).mul(w).add(b);
  }
  const [n, , h, wd] = x.shape as number[];
  const count = n! * h! * wd!;
  const mean = x.ref.sum([0, 2, 3], { keepdims: true }).div(count);
  const d = x.sub(mean.ref);
  const v = d.ref.mul(d.ref).sum([0, 2, 3], { keepdims: true }).div(count);
  const y = d.div(np.sqrt(v.ref.add(constant(BATCHNORM_EPS, dtypeName(v))))).mul(w).add(b);
  if (collect) {
    const unbiased = count > 1 ? v.mul(count).div(count - 1) : v;
    collect.push({ mean: mean.reshape([C]), unbiasedVar: unbiased.reshape([C]) });
  } else {
    mean.dispose();
    v.dispose();
  }
  return y;
}

/**
 * The flat buffer vector of one batch's statistics (layout order: running_mean, running_var,
 * num_batches_tracked per layer), from the stats a batch-mode forward collected, in layer order.
 * Consumes the collected arrays.
 */
export function statsToBufferVector(collected: readonly BatchStats[]): Array {
  const parts: Array[] = [];
  const one = constant(1, dtypeName(collected[0]!.mean)).reshape([1]);
  for (const s of collected) parts.push(s.mean, s.unbiasedVar, one.ref);
  one.dispose();
  return np.concatenate(parts, 0);
}

/**
 * PyTorch's `torch.optim.swa_utils.update_bn` (module comment): the model with its running
 * statistics re-estimated over `batches` (inputs [m, ...inputShape], in loader order) at `theta`.
 * A model without BatchNorm is returned as is. Borrows theta and the batches.
 */
export async function updateBatchNormStatistics(model: Model, theta: Array, batches: readonly Array[]): Promise<Model> {
  if (!model.buffers || !model.batchStatistics || !model.withBuffers || batches.length === 0) return model;
  let sum: Float64Array | null = null;
  for (const x of batches) {
    const s = Float64Array.from(await take(model.batchStatistics(theta.ref, x.ref)));
    if (!sum) sum = s;
    else for (let i = 0; i < s.length; i++) sum[i] += s[i]!;
  }
  const values = sum!.map((v) => v / batches.length);
  for (const b of model.buffers.layout) if (isIntegerBuffer(b.name)) values.fill(batches.length, b.offset, b.offset + b.size);
  return model.withBuffers(values);
}
