/**
 * Minibatches: a seeded permutation of the rows per epoch, cut into batches, and `gather`, which
 * copies the chosen rows into fresh contiguous arrays for the engine.
 *
 * Epoch e of seed s shuffles with hostRng(mix(s, e)) (Fisher-Yates), so any epoch can be
 * regenerated on its own (resuming a run needs no replay) and epochs differ from each other.
 * Last partial batch (when batchSize does not divide n): "keep" (default, like PyTorch's
 * drop_last=False) makes it a smaller final batch so every row is seen once per epoch, which is
 * what gradient and curvature averages over the data need; "drop" discards it so every batch has
 * the same size (steady SGD noise, one jit shape).
 */
import { hostRng } from "../engine/host-rng.ts";
import { InputError } from "../errors.ts";
import { featureSize, type Dataset, type FeatureArray } from "./dataset.ts";

export type LastBatch = "keep" | "drop";

export interface BatchOptions {
  readonly batchSize: number;
  /** Seed of the shuffles (default 0). */
  readonly seed?: number;
  /** Policy for the last partial batch (default "keep"). */
  readonly lastBatch?: LastBatch;
  /** false: rows in order 0..n-1, same every epoch (default true). */
  readonly shuffle?: boolean;
}

/** murmur3's 32-bit finalizer: a bijective mix of 32 bits. */
function fmix32(h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One 32-bit seed from (seed, epoch); distinct epochs of one seed give distinct streams. */
export function mixSeed(seed: number, epoch: number): number {
  return fmix32((seed >>> 0) ^ fmix32((epoch + 0x632be5ab) >>> 0));
}

/** A uniformly random permutation of 0..n-1 from hostRng(seed) (Fisher-Yates). */
export function permutation(n: number, seed: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const rng = hostRng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i]!; p[i] = p[j]!; p[j] = t;
  }
  return p;
}

/** Number of batches per epoch. */
export function numBatches(n: number, batchSize: number, lastBatch: LastBatch = "keep"): number {
  return lastBatch === "keep" ? Math.ceil(n / batchSize) : Math.floor(n / batchSize);
}

/** The batches of epoch `epoch` (0-based): row indices, views into one permutation. */
export function epochBatches(n: number, epoch: number, o: BatchOptions): Int32Array[] {
  const { batchSize, seed = 0, lastBatch = "keep", shuffle = true } = o;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new InputError("batch size", `expected a positive integer, got ${batchSize}`);
  if (lastBatch !== "keep" && lastBatch !== "drop") throw new InputError("last batch", `expected "keep" or "drop", got ${lastBatch}`);
  if (lastBatch === "drop" && batchSize > n) {
    throw new InputError("batch size", `${batchSize} is larger than the ${n} rows, and the last partial batch is dropped: no batch left`);
  }
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`epochBatches: epoch must be an integer >= 0, got ${epoch}`);
  const order = shuffle ? permutation(n, mixSeed(seed, epoch)) : Int32Array.from({ length: n }, (_, i) => i);
  const out: Int32Array[] = [];
  const count = numBatches(n, batchSize, lastBatch);
  for (let b = 0; b < count; b++) out.push(order.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize)));
  return out;
}

/** Batches of `epochs` consecutive epochs from `startEpoch`, with their epoch and step numbers. */
export function* batchStream(
  n: number, o: BatchOptions, epochs: number, startEpoch = 0,
): Generator<{ readonly epoch: number; readonly step: number; readonly indices: Int32Array }> {
  let step = 0;
  for (let e = startEpoch; e < startEpoch + epochs; e++) {
    for (const indices of epochBatches(n, e, o)) yield { epoch: e, step: step++, indices };
  }
}

export interface Gathered {
  /** The rows, contiguous, length indices.length * prod(featureShape). */
  readonly x: FeatureArray;
  readonly y: Int32Array;
  /** [rows, ...featureShape]. */
  readonly shape: readonly number[];
}

/**
 * Copies rows `indices` of `ds` (any order, repeats allowed) into new contiguous arrays, in
 * `dtype` (default: that of ds.x; float64 -> float32 rounds to nearest).
 */
export function gather(ds: Dataset, indices: ArrayLike<number>, o: { readonly dtype?: "float32" | "float64" } = {}): Gathered {
  const f = featureSize(ds);
  const n = ds.y.length;
  const dtype = o.dtype ?? (ds.x instanceof Float64Array ? "float64" : "float32");
  const m = indices.length;
  const x = dtype === "float64" ? new Float64Array(m * f) : new Float32Array(m * f);
  const y = new Int32Array(m);
  for (let r = 0; r < m; r++) {
    const i = indices[r]!;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`gather: index ${i} at position ${r} is outside 0..${n - 1}`);
    x.set(ds.x.subarray(i * f, (i + 1) * f), r * f);
    y[r] = ds.y[i]!;
  }
  return { x, y, shape: [m, ...ds.featureShape] };
}
