/**
 * Random labels: every label replaced by an independent uniform draw from 0..numClasses-1
 * (hostRng(seed).int), features unchanged. The randomization test of Zhang et al. 2017
 * ("Understanding deep learning requires rethinking generalization"): a network can fit it, but
 * only by memorizing, which changes the curvature it ends at. Class counts are not preserved.
 */
import { hostRng } from "../engine/host-rng.ts";
import type { Dataset } from "./dataset.ts";

export function withRandomLabels(ds: Dataset, seed: number, name = ds.name): Dataset {
  const rng = hostRng(seed);
  const y = new Int32Array(ds.y.length);
  for (let i = 0; i < y.length; i++) y[i] = rng.int(ds.numClasses);
  return { ...ds, y, name };
}
