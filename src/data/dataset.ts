/**
 * The in-memory dataset every loader returns: features as one flat row-major typed array (n rows
 * of prod(featureShape) values: n x d for vectors, n x c x h x w for images) and integer class
 * labels. Plain typed arrays on the host, so the data layer needs no engine; `gather` (batches.ts)
 * copies rows into the contiguous arrays the engine is fed with.
 */
import { InputError } from "../errors.ts";

export type FeatureArray = Float32Array | Float64Array;

export interface Dataset {
  /** Row-major features, length n * prod(featureShape). */
  readonly x: FeatureArray;
  /** Shape of one row, e.g. [20] or [1, 28, 28]. */
  readonly featureShape: readonly number[];
  /** Class labels in 0..numClasses-1, length n. */
  readonly y: Int32Array;
  readonly numClasses: number;
  /** The spec the data came from (e.g. "gmm:k=5,d=20"), for results and messages. */
  readonly name: string;
}

/** Number of values in one row. */
export function featureSize(ds: Pick<Dataset, "featureShape">): number {
  return ds.featureShape.reduce((a, b) => a * b, 1);
}

/** Number of rows (examples). */
export function numRows(ds: Pick<Dataset, "y">): number {
  return ds.y.length;
}

/** Index of flat feature `j` within featureShape, e.g. "[0,3,17]" for an image. */
function featureIndex(shape: readonly number[], j: number): string {
  const idx: number[] = new Array(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    idx[a] = j % shape[a]!;
    j = Math.floor(j / shape[a]!);
  }
  return `[${idx.join(",")}]`;
}

/**
 * Throws an InputError naming `input` unless `ds` is usable: at least one row, a valid feature
 * shape, x and y lengths that agree, finite features (the first bad row and column are named) and
 * integer labels in 0..numClasses-1. Returns `ds` for chaining.
 */
export function validateDataset(ds: Dataset, input: string = ds.name): Dataset {
  const { x, y, featureShape, numClasses } = ds;
  if (!(x instanceof Float32Array || x instanceof Float64Array)) {
    throw new InputError(input, "features must be a Float32Array or Float64Array");
  }
  if (!(y instanceof Int32Array)) throw new InputError(input, "labels must be an Int32Array");
  if (featureShape.length === 0 || !featureShape.every((s) => Number.isInteger(s) && s > 0)) {
    throw new InputError(input, `feature shape must be a non-empty list of positive integers, got [${featureShape.join(",")}]`);
  }
  const f = featureSize(ds);
  const n = y.length;
  if (n === 0 && x.length === 0) {
    throw new InputError(input, "empty dataset (no examples); expected at least one example");
  }
  if (x.length !== n * f) {
    const rows = x.length / f;
    throw new InputError(
      input,
      `features and labels disagree: ${x.length} feature values = ${Number.isInteger(rows) ? rows : rows.toFixed(2)} rows of ` +
        `${f} (shape [${featureShape.join(",")}]) but ${n} labels`,
    );
  }
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new InputError(input, `number of classes must be a positive integer, got ${numClasses}`);
  }
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    // v - v is 0 for finite v and NaN for NaN and +-Inf: one test for both.
    if (v - v !== 0) {
      const r = Math.floor(i / f), j = i - r * f;
      const col = featureShape.length > 1 ? `feature ${j} ${featureIndex(featureShape, j)}` : `column ${j}`;
      throw new InputError(input, `non-finite feature ${v} at row ${r}, ${col}; features must be finite numbers`);
    }
  }
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    if (c < 0 || c >= numClasses) {
      throw new InputError(input, `label ${c} at row ${i} is out of range; expected an integer in 0..${numClasses - 1}`);
    }
  }
  return ds;
}

/** Checks that a float label value is a usable class index; used by loaders of float label files. */
export function labelFromNumber(v: number, row: number, input: string): number {
  if (!Number.isInteger(v)) {
    throw new InputError(input, `label ${v} at row ${row} is not an integer; labels must be integer class indices`);
  }
  if (v < 0 || v > 0x7fffffff) {
    throw new InputError(input, `label ${v} at row ${row} is out of range; expected a class index >= 0`);
  }
  return v;
}
