/**
 * LeNet-like CNN `cnn:lenet[:in=1x28x28,classes=10,c1=6,c2=16,k=5]`: two blocks of
 * Conv2d(k x k, no padding) - ReLU - MaxPool2d(2), then Linear to the classes. Equals PyTorch's
 * `Sequential(Conv2d(C,c1,k), ReLU(), MaxPool2d(2), Conv2d(c1,c2,k), ReLU(), MaxPool2d(2),
 * Flatten(), Linear(c2*h*w, classes))`: state_dict keys `0.weight` [c1,C,k,k], `0.bias`,
 * `3.weight`, `3.bias`, `7.weight`, `7.bias`. Convolutions are cross-correlations, as in PyTorch;
 * pooling drops a trailing odd row/column, as MaxPool2d does. Default size: 5,142 parameters.
 */
import { nn, numpy as np, type Array } from "../engine/jax.ts";
import { conv2d, maxPool2 } from "./conv.ts";
import { makeLayout, layoutSize } from "../tree/layout.ts";
import { paramBlock } from "../tree/vector.ts";
import { uniformFanIn } from "./init.ts";
import type { Model } from "./model.ts";

export interface CnnConfig {
  readonly inputShape: readonly [number, number, number];
  readonly classes: number;
  readonly c1: number;
  readonly c2: number;
  readonly kernel: number;
}

export const LENET_DEFAULTS: CnnConfig = { inputShape: [1, 28, 28], classes: 10, c1: 6, c2: 16, kernel: 5 };

/** Spatial size after conv (valid, kernel k) and 2x2 pooling, twice. */
export function lenetFeatureSize(config: CnnConfig): [number, number] {
  let [, h, w] = config.inputShape;
  for (let i = 0; i < 2; i++) {
    h = Math.floor((h - config.kernel + 1) / 2);
    w = Math.floor((w - config.kernel + 1) / 2);
  }
  return [h, w];
}

export function lenet(config: CnnConfig, spec: string): Model {
  const [C] = config.inputShape;
  const { c1, c2, kernel: k, classes } = config;
  const [fh, fw] = lenetFeatureSize(config);
  const flat = c2 * fh * fw;
  const layout = makeLayout([
    { name: "0.weight", shape: [c1, C, k, k] },
    { name: "0.bias", shape: [c1] },
    { name: "3.weight", shape: [c2, c1, k, k] },
    { name: "3.bias", shape: [c2] },
    { name: "7.weight", shape: [classes, flat] },
    { name: "7.bias", shape: [classes] },
  ]);
  const p = Object.fromEntries(layout.map((q) => [q.name, q]));
  const block = (theta: Array, name: string) => paramBlock(theta, p[name]);
  const fanIn: Record<string, number> = { "0": C * k * k, "3": c1 * k * k, "7": flat };

  function apply(theta: Array, x: Array): Array {
    const n = x.shape[0];
    let h = x.reshape([n, ...config.inputShape]);
    h = conv2d(h, block(theta, "0.weight")).add(block(theta, "0.bias").reshape([1, c1, 1, 1]));
    h = maxPool2(nn.relu(h));
    h = conv2d(h, block(theta, "3.weight")).add(block(theta, "3.bias").reshape([1, c2, 1, 1]));
    h = maxPool2(nn.relu(h));
    const W = block(theta, "7.weight");
    const b = block(theta, "7.bias");
    theta.dispose();
    return np.matmul(h.reshape([n, flat]), W.transpose()).add(b);
  }

  return {
    spec,
    inputShape: [...config.inputShape],
    outputDim: classes,
    layout,
    size: layoutSize(layout),
    torch:
      `Sequential(Conv2d(${C}, ${c1}, ${k}), ReLU(), MaxPool2d(2), Conv2d(${c1}, ${c2}, ${k}), ReLU(), ` +
      `MaxPool2d(2), Flatten(), Linear(${flat}, ${classes}))`,
    apply,
    init: (seed) => uniformFanIn(layout, (name) => fanIn[name.split(".")[0]], seed),
  };
}
