/**
 * Device batches: a dataset's rows gathered into device arrays shaped for a model (inputs
 * [n, ...inputShape], one-hot targets in the chosen dtype, integer labels), and the check that a
 * dataset fits a model (feature count and classes). Training and curvature problems both use
 * them.
 */
import { numpy as np, nn, type Array } from "../engine/jax.ts";
import { toDType, type DTypeName } from "../engine/dtype.ts";
import type { Model } from "../nn/model.ts";
import { InputError } from "../errors.ts";
import type { Dataset } from "./dataset.ts";
import { gather } from "./batches.ts";

export interface DeviceBatch {
  /** Inputs [n, ...inputShape]. */
  readonly x: Array;
  /** One-hot targets [n, classes], in the problem's dtype. */
  readonly targets: Array;
  /** Integer labels [n]. */
  readonly labels: Array;
  readonly n: number;
}

/** Checks that the data fits the model: feature count and classes. */
export function checkDataFitsModel(model: Model, data: Dataset): void {
  const modelFeatures = model.inputShape.reduce((a, b) => a * b, 1);
  const dataFeatures = data.featureShape.reduce((a, b) => a * b, 1);
  if (modelFeatures !== dataFeatures) {
    throw new InputError(
      "data",
      `"${data.name}" has ${dataFeatures} features per example [${data.featureShape}], but model "${model.spec}" expects ${modelFeatures} [${model.inputShape}]`,
      { option: true },
    );
  }
  if (data.numClasses > model.outputDim) {
    throw new InputError(
      "data",
      `"${data.name}" has ${data.numClasses} classes, but model "${model.spec}" has ${model.outputDim} outputs`,
      { option: true },
    );
  }
}

export function deviceBatches(model: Model, data: Dataset, dtype: DTypeName, batchSize: number): DeviceBatch[] {
  const n = data.y.length;
  const out: DeviceBatch[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const idx = Int32Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    out.push(toDeviceBatch(model, data, idx, dtype));
  }
  return out;
}

export function toDeviceBatch(model: Model, data: Dataset, indices: ArrayLike<number>, dtype: DTypeName): DeviceBatch {
  const g = gather(data, indices, { dtype });
  const m = indices.length;
  const x = np.array(g.x, { dtype: toDType(dtype) }).reshape([m, ...model.inputShape]);
  const labels = np.array(g.y, { dtype: np.int32 });
  const targets = nn.oneHot(labels.ref, model.outputDim).astype(toDType(dtype));
  return { x, targets, labels, n: m };
}
