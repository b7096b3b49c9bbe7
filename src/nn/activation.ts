/**
 * Activations, with PyTorch's module names (for `torch` descriptions). gelu is the exact (erf)
 * form, as torch.nn.GELU() defaults to.
 */
import { nn, numpy as np, type Array } from "../engine/jax.ts";

export type ActivationName = "tanh" | "relu" | "gelu" | "linear";
export const ACTIVATIONS: readonly ActivationName[] = ["tanh", "relu", "gelu", "linear"];

export function activate(name: ActivationName, x: Array): Array {
  switch (name) {
    case "tanh":
      return np.tanh(x);
    case "relu":
      return nn.relu(x);
    case "gelu":
      return nn.gelu(x, { approximate: false });
    case "linear":
      return x;
  }
}

export const TORCH_ACTIVATION: Record<ActivationName, string> = {
  tanh: "Tanh()",
  relu: "ReLU()",
  gelu: "GELU()",
  linear: "Identity()",
};
