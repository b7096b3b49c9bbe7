/**
 * Mini-batches as datasets, for measuring the curvature of a mini-batch loss (Granziol, Zohren,
 * Roberts 2020): `count` batches of `size` rows, each drawn without replacement from one seeded
 * permutation of the rows (hostRng(seed + j) for batch j, Fisher-Yates), so batch j is the same
 * at every size for a given seed and batches of one size are independent draws. A batch of the
 * dataset's own size is the whole dataset (every draw alike).
 */
import { optionError } from "../errors.ts";
import { permutation } from "./batches.ts";
import type { Dataset } from "./dataset.ts";
import { subset } from "./split.ts";

export interface MiniBatchOptions {
  /** Rows per batch, 1..n. */
  readonly size: number;
  /** Number of batches (default 1). */
  readonly count?: number;
  /** Seed of the draws (default 0). */
  readonly seed?: number;
}

export function miniBatches(ds: Dataset, o: MiniBatchOptions): Dataset[] {
  const { size, count = 1, seed = 0 } = o;
  const n = ds.y.length;
  if (!Number.isInteger(size) || size < 1 || size > n) {
    throw optionError("batchSize", `expected an integer from 1 to the ${n} rows of ${ds.name}, got ${size}`);
  }
  if (!Number.isInteger(count) || count < 1) throw optionError("batches", `expected a positive integer, got ${count}`);
  const out: Dataset[] = [];
  for (let j = 0; j < count; j++) {
    if (size === n) {
      out.push(ds);
      continue;
    }
    const rows = permutation(n, seed + j).slice(0, size).sort();
    out.push(subset(ds, rows, `${ds.name} (batch ${j + 1} of ${size}, seed ${seed + j})`));
  }
  return out;
}
