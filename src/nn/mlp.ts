/**
 * Multi-layer perceptron `mlp:W0-W1-...-Wk:ACT[:nobias]`: Linear layers of the given widths with
 * ACT (tanh, relu, gelu, linear) between them. Equals PyTorch's
 * `Sequential(Linear(W0,W1), ACT, Linear(W1,W2), ..., Linear(Wk-1,Wk))`, whose state_dict keys are
 * `0.weight` [W1,W0], `0.bias` [W1], `2.weight`, ... (the activation takes an index; `linear` is
 * `Identity()` so that indices do not depend on the activation). Inputs of any shape are
 * flattened per example to W0 features.
 */
import { numpy as np, type Array } from "../engine/jax.ts";
import { makeLayout, layoutSize } from "../tree/layout.ts";
import { activate, TORCH_ACTIVATION, type ActivationName } from "./activation.ts";
import { uniformFanIn } from "./init.ts";
import type { Model } from "./model.ts";

export interface MlpConfig {
  readonly widths: readonly number[];
  readonly activation: ActivationName;
  readonly bias: boolean;
}

export function mlp(config: MlpConfig, spec: string): Model {
  const { widths, activation, bias } = config;
  const entries: { name: string; shape: number[] }[] = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    entries.push({ name: `${2 * l}.weight`, shape: [widths[l + 1], widths[l]] });
    if (bias) entries.push({ name: `${2 * l}.bias`, shape: [widths[l + 1]] });
  }
  const layout = makeLayout(entries);
  const byName = new Map(layout.map((p) => [p.name, p]));
  const nLayers = widths.length - 1;
  const torchLayers: string[] = [];
  for (let l = 0; l < nLayers; l++) {
    torchLayers.push(`Linear(${widths[l]}, ${widths[l + 1]}${bias ? "" : ", bias=False"})`);
    if (l + 1 < nLayers) torchLayers.push(TORCH_ACTIVATION[activation]);
  }

  function apply(theta: Array, x: Array): Array {
    let h = x.reshape([x.shape[0], widths[0]]);
    for (let l = 0; l < nLayers; l++) {
      const w = byName.get(`${2 * l}.weight`)!;
      const W = theta.ref.slice([w.offset, w.offset + w.size]).reshape([widths[l + 1], widths[l]]);
      h = np.matmul(h, W.transpose());
      if (bias) {
        const b = byName.get(`${2 * l}.bias`)!;
        h = h.add(theta.ref.slice([b.offset, b.offset + b.size]));
      }
      if (l + 1 < nLayers) h = activate(activation, h);
    }
    theta.dispose();
    return h;
  }

  return {
    spec,
    inputShape: [widths[0]],
    outputDim: widths[widths.length - 1],
    layout,
    size: layoutSize(layout),
    torch: `Sequential(${torchLayers.join(", ")})`,
    apply,
    init: (seed) => uniformFanIn(layout, (name) => byName.get(name.replace("bias", "weight"))!.shape[1], seed),
  };
}
