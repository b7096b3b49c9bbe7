/**
 * CIFAR ResNets `resnet:DEPTH[:width=16,classes=10,in=3x32x32,bn=eval|batch]` of He et al. 2016,
 * "Deep Residual Learning for Image Recognition" (section 4.2): DEPTH = 6n + 2 (20, 32, 44, 56,
 * 110, ...), a 3x3 conv to `width` channels, three stages of n BasicBlocks with width, 2 width and
 * 4 width channels (stride 2 at the first block of stages 2 and 3), global average pooling, and a
 * Linear layer to the classes.
 *
 * Equals PyHessian's `models/resnet.py` (github.com/amirgholami/PyHessian):
 * `ResNet(depth, residual_not=True, batch_norm_not=True, base_channel=width, num_classes)`, with
 * its state_dict names and layouts: conv1.weight [w, C, 3, 3]; bn1.{weight, bias, running_mean,
 * running_var, num_batches_tracked}; layerS.B.conv1.weight, layerS.B.bn1.*, layerS.B.conv2.weight,
 * layerS.B.bn2.*; at the first block of stages 2 and 3 the projection shortcut
 * layerS.0.downsample.0.weight [out, in, 1, 1] (a strided 1x1 conv) and layerS.0.downsample.1.*
 * (its BatchNorm); fc.weight [classes, 4w], fc.bias. Convolutions have no bias; 3x3 ones pad 1.
 * A block is relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)). PyHessian pools with
 * AvgPool2d(8), which is the global average for 32x32 inputs (8x8 maps after stage 3); at other
 * input sizes (`in=`, e.g. 3x8x8) this model takes the global average of the final maps, i.e. it
 * equals that module with AvgPool2d(H/4) in place of AvgPool2d(8) (no parameters change).
 * PyHessian's conv1 takes 3 channels; `in=CxHxW` changes that input channel count.
 *
 * BatchNorm (batchnorm.ts): `bn=eval` (default) uses the running statistics (the model's buffers),
 * as PyHessian measures in `model.eval()`; `bn=batch` uses the statistics of each batch.
 *
 * init(seed): PyHessian's initialization: conv weights normal(0, sqrt(2 / (k*k*out_channels))),
 * BatchNorm weight 1 and bias 0, fc PyTorch's Linear default (uniform in +-1/sqrt(fan_in)); buffers
 * start as PyTorch's (running_mean 0, running_var 1, num_batches_tracked 0).
 * resnet:20 has 272,474 parameters (PyHessian's count for its ResNet-20 with 10 classes).
 */
import { nn, numpy as np, type Array } from "../engine/jax.ts";
import { hostRng } from "../engine/host-rng.ts";
import { makeLayout, layoutSize, type ParamLayout, type ParamSpec } from "../tree/layout.ts";
import { paramBlock } from "../tree/vector.ts";
import { conv2d } from "./conv.ts";
import { batchNorm2d, batchNormEntries, initialBuffers, statsToBufferVector, type BatchNormMode, type BatchStats, type RunningStats } from "./batchnorm.ts";
import type { Model } from "./model.ts";

export interface ResNetConfig {
  /** 6n + 2. */
  readonly depth: number;
  /** Channels of the first stage (PyHessian's base_channel; 16 in He et al.). */
  readonly width: number;
  readonly classes: number;
  readonly inputShape: readonly [number, number, number];
  readonly batchNorm: BatchNormMode;
}

export const RESNET_DEFAULTS: Omit<ResNetConfig, "depth"> = { width: 16, classes: 10, inputShape: [3, 32, 32], batchNorm: "eval" };

interface Conv {
  readonly name: string;
  readonly out: number;
  readonly in: number;
  readonly k: number;
  readonly stride: number;
  readonly padding: number;
}

interface Block {
  readonly prefix: string;
  readonly conv1: Conv;
  readonly conv2: Conv;
  /** The projection shortcut's conv, when the shape changes. */
  readonly downsample: Conv | null;
}

interface Architecture {
  readonly stem: Conv;
  readonly blocks: readonly Block[];
  readonly fcIn: number;
  readonly params: { name: string; shape: number[] }[];
  readonly buffers: { name: string; shape: number[] }[];
}

function architecture(config: ResNetConfig): Architecture {
  const n = (config.depth - 2) / 6;
  const w = config.width;
  const params: { name: string; shape: number[] }[] = [];
  const buffers: { name: string; shape: number[] }[] = [];
  const conv = (name: string, inC: number, out: number, k: number, stride: number): Conv => {
    params.push({ name: `${name}.weight`, shape: [out, inC, k, k] });
    return { name, out, in: inC, k, stride, padding: k === 3 ? 1 : 0 };
  };
  const bn = (prefix: string, c: number) => {
    const e = batchNormEntries(prefix, c);
    params.push(...e.params);
    buffers.push(...e.buffers);
  };
  const stem = conv("conv1", config.inputShape[0], w, 3, 1);
  bn("bn1", w);
  const blocks: Block[] = [];
  let inplanes = w;
  for (let s = 0; s < 3; s++) {
    const planes = w << s;
    for (let b = 0; b < n; b++) {
      const prefix = `layer${s + 1}.${b}`;
      const stride = b === 0 && s > 0 ? 2 : 1;
      const conv1 = conv(`${prefix}.conv1`, inplanes, planes, 3, stride);
      bn(`${prefix}.bn1`, planes);
      const conv2 = conv(`${prefix}.conv2`, planes, planes, 3, 1);
      bn(`${prefix}.bn2`, planes);
      let downsample: Conv | null = null;
      if (stride !== 1 || inplanes !== planes) {
        downsample = conv(`${prefix}.downsample.0`, inplanes, planes, 1, stride);
        bn(`${prefix}.downsample.1`, planes);
      }
      blocks.push({ prefix, conv1, conv2, downsample });
      inplanes = planes;
    }
  }
  params.push({ name: "fc.weight", shape: [config.classes, inplanes] }, { name: "fc.bias", shape: [config.classes] });
  return { stem, blocks, fcIn: inplanes, params, buffers };
}

/** Builds the model (module comment), bound to `bufferValues` (default: PyTorch's initial ones). */
export function resnet(config: ResNetConfig, spec: string, bufferValues?: ArrayLike<number>): Model {
  const arch = architecture(config);
  const layout = makeLayout(arch.params);
  const bufferLayout = makeLayout(arch.buffers);
  const values = bufferValues ? Float64Array.from(bufferValues) : initialBuffers(bufferLayout);
  if (values.length !== layoutSize(bufferLayout)) {
    throw new Error(`resnet: expected ${layoutSize(bufferLayout)} buffer values, got ${values.length}`);
  }
  const byName = new Map<string, ParamSpec>(layout.map((p) => [p.name, p]));
  const bufByName = new Map<string, ParamSpec>(bufferLayout.map((p) => [p.name, p]));
  const running = (prefix: string): RunningStats => {
    const m = bufByName.get(`${prefix}.running_mean`)!;
    const v = bufByName.get(`${prefix}.running_var`)!;
    return { mean: values.subarray(m.offset, m.offset + m.size), var: values.subarray(v.offset, v.offset + v.size) };
  };
  const [C, H, W] = config.inputShape;

  function forward(theta: Array, x: Array, mode: BatchNormMode, collect?: BatchStats[]): Array {
    const block = (name: string): Array => paramBlock(theta, byName.get(name)!);
    const convolve = (h: Array, c: Conv) => conv2d(h, block(`${c.name}.weight`), { stride: c.stride, padding: c.padding });
    const norm = (h: Array, prefix: string) => batchNorm2d(h, block(`${prefix}.weight`), block(`${prefix}.bias`), mode, running(prefix), collect);
    const n = x.shape[0]!;
    let h = x.reshape([n, C, H, W]);
    h = nn.relu(norm(convolve(h, arch.stem), "bn1"));
    for (const b of arch.blocks) {
      let out = nn.relu(norm(convolve(h.ref, b.conv1), `${b.prefix}.bn1`));
      out = norm(convolve(out, b.conv2), `${b.prefix}.bn2`);
      const shortcut = b.downsample ? norm(convolve(h, b.downsample), `${b.prefix}.downsample.1`) : h;
      h = nn.relu(out.add(shortcut));
    }
    const [, c, fh, fw] = h.shape as number[];
    const pooled = h.sum([2, 3]).div(fh! * fw!).reshape([n, c!]);
    const out = np.matmul(pooled, block("fc.weight").transpose()).add(block("fc.bias"));
    theta.dispose();
    return out;
  }

  const depthNote = `ResNet(depth=${config.depth}, base_channel=${config.width}, num_classes=${config.classes})`;
  return {
    spec,
    inputShape: [...config.inputShape],
    outputDim: config.classes,
    layout,
    size: layoutSize(layout),
    activationsPerExample: convOutputs(arch, H, W),
    torch:
      `PyHessian models/resnet.py ${depthNote}` +
      `${C !== 3 ? `, conv1 taking ${C} channels` : ""}${H !== 32 || W !== 32 ? `, global average pooling of ${H}x${W} inputs` : ""}, ` +
      (config.batchNorm === "eval" ? "model.eval()" : "BatchNorm with batch statistics (model.train())"),
    apply: (theta, x) => forward(theta, x, config.batchNorm),
    init: (seed) => resnetInit(layout, seed),
    buffers: { layout: bufferLayout, values, batchNorm: config.batchNorm },
    withBuffers: (v) => resnet(config, spec, v),
    batchStatistics(theta, x) {
      const collected: BatchStats[] = [];
      forward(theta, x, "batch", collected).dispose();
      return statsToBufferVector(collected);
    },
  };
}

/** Floats in the outputs of all convolutions for one H x W example (BatchNorm and ReLU keep the shape). */
function convOutputs(arch: Architecture, H: number, W: number): number {
  let total = 0;
  let h = H, w = W;
  const out = (c: Conv) => {
    h = Math.floor((h + 2 * c.padding - c.k) / c.stride) + 1;
    w = Math.floor((w + 2 * c.padding - c.k) / c.stride) + 1;
    total += c.out * h * w;
  };
  out(arch.stem);
  for (const b of arch.blocks) {
    const [h0, w0] = [h, w];
    out(b.conv1);
    out(b.conv2);
    if (b.downsample) {
      const [h1, w1] = [h, w];
      [h, w] = [h0, w0];
      out(b.downsample);
      [h, w] = [h1, w1];
    }
  }
  return total;
}

/** PyHessian's initialization (module comment), in layout order from one seeded stream. */
function resnetInit(layout: ParamLayout, seed: number): Float64Array {
  const rng = hostRng(seed);
  const out = new Float64Array(layoutSize(layout));
  for (const p of layout) {
    const end = p.offset + p.size;
    if (p.shape.length === 4) {
      const std = Math.sqrt(2 / (p.shape[2]! * p.shape[3]! * p.shape[0]!));
      for (let i = p.offset; i < end; i++) out[i] = rng.normal() * std;
    } else if (p.name.startsWith("fc.")) {
      const bound = 1 / Math.sqrt(layout.find((q) => q.name === "fc.weight")!.shape[1]!);
      for (let i = p.offset; i < end; i++) out[i] = (2 * rng.uniform() - 1) * bound;
    } else if (p.name.endsWith(".weight")) {
      out.fill(1, p.offset, end);
    }
  }
  return out;
}
