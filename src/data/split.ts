/**
 * Seeded train/test split: a random permutation of the rows (hostRng(seed), Fisher-Yates); the
 * first round(fraction x n) rows of it train, the rest test. Each part keeps the original row
 * order (indices sorted), so an interleaved dataset stays interleaved. Not stratified: class
 * proportions in each part match the whole only up to sampling noise. Defaults: fraction 0.8,
 * seed 0. Both parts must be non-empty.
 */
import { InputError } from "../errors.ts";
import { gather, permutation } from "./batches.ts";
import type { Dataset } from "./dataset.ts";

export interface SplitOptions {
  /** Share of rows for training, in (0, 1) (default 0.8). */
  readonly fraction?: number;
  readonly seed?: number;
}

export interface Split {
  readonly train: Dataset;
  readonly test: Dataset;
  /** Rows of the original dataset in each part, ascending. */
  readonly trainIndices: Int32Array;
  readonly testIndices: Int32Array;
}

/** The rows `indices` of `ds` as a new dataset (same dtype, labels, classes). */
export function subset(ds: Dataset, indices: ArrayLike<number>, name: string): Dataset {
  const g = gather(ds, indices);
  return { x: g.x, featureShape: ds.featureShape, y: g.y, numClasses: ds.numClasses, name };
}

export function trainTestSplit(ds: Dataset, o: SplitOptions = {}): Split {
  const { fraction = 0.8, seed = 0 } = o;
  const n = ds.y.length;
  if (!(fraction > 0 && fraction < 1)) throw new InputError("split fraction", `expected a number in (0, 1), got ${fraction}`);
  const nTrain = Math.round(fraction * n);
  if (nTrain < 1 || nTrain > n - 1) {
    throw new InputError("split fraction", `${fraction} of ${n} rows leaves ${nTrain} to train and ${n - nTrain} to test; both need at least one`);
  }
  const p = permutation(n, seed);
  const trainIndices = p.slice(0, nTrain).sort();
  const testIndices = p.slice(nTrain).sort();
  return {
    train: subset(ds, trainIndices, `${ds.name} (train ${fraction}, seed ${seed})`),
    test: subset(ds, testIndices, `${ds.name} (test ${Math.round((1 - fraction) * 1e6) / 1e6}, seed ${seed})`),
    trainIndices,
    testIndices,
  };
}
