/**
 * Losses, as means over examples. Each function takes the denominator `denom` (default: the
 * batch size), so that a dataset split in batches gets exactly its mean loss as the sum over
 * batches of (sum over the batch) / N:
 * - `cross-entropy`: softmax cross-entropy with integer labels, -(1/n) sum_i log softmax(f_i)[y_i]
 *   (PyTorch's CrossEntropyLoss()).
 * - `mse`: (1/n) sum_i ||f_i - onehot(y_i)||^2, the squared error summed over outputs and
 *   averaged over examples (PyTorch's MSELoss(reduction="sum") / n).
 * Each loss also gives its Hessian with respect to the outputs, for the Gauss-Newton matrix:
 * cross-entropy: (diag(p) - p p^T)/n per example; mse: (2/n) I.
 * Labels arrive one-hot, in the outputs' dtype; 1/denom is a division by an integer, which jit
 * keeps exact in float64 (see dtype.ts).
 */
import { nn, numpy as np, type Array } from "../engine/jax.ts";

export type LossName = "cross-entropy" | "mse";
export const LOSSES: readonly LossName[] = ["cross-entropy", "mse"];

/** Loss summed over the batch, divided by denom. Consumes `outputs` and `targets` (one-hot [n, c]). */
export function lossValue(name: LossName, outputs: Array, targets: Array, denom = outputs.shape[0]): Array {
  const n = denom;
  if (name === "cross-entropy") return nn.logSoftmax(outputs, -1).mul(targets).sum().neg().div(n);
  const r = outputs.sub(targets);
  return r.ref.mul(r).sum().div(n);
}

/** Gradient of the batch loss with respect to the outputs, [n, c]. Consumes its arguments. */
export function lossOutputGradient(name: LossName, outputs: Array, targets: Array, denom = outputs.shape[0]): Array {
  const n = denom;
  if (name === "cross-entropy") return nn.softmax(outputs, -1).sub(targets).div(n);
  return outputs.sub(targets).mul(2).div(n);
}

/**
 * (Hessian of the batch loss w.r.t. the outputs) times u, for u [n, c]: the middle factor of
 * G = J^T H_L J. Consumes its arguments.
 */
export function lossOutputHvp(name: LossName, outputs: Array, u: Array, denom = outputs.shape[0]): Array {
  const n = denom;
  if (name === "cross-entropy") {
    const p = nn.softmax(outputs, -1);
    const pu = p.ref.mul(u.ref).sum(-1, { keepdims: true });
    return p.mul(u.sub(pu)).div(n);
  }
  outputs.dispose();
  return u.mul(2).div(n);
}

/** Number of correct argmax predictions. Consumes its arguments. */
export function correctCount(outputs: Array, labels: Array): Array {
  return np.argmax(outputs, -1).equal(labels).astype(np.int32).sum();
}
