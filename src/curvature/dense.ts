/**
 * Materializes an operator as a dense symmetric matrix (host, Float64Array, row-major), one
 * column per product with a unit vector. For exact spectra of small models (up to a few
 * thousand parameters). Columns are read back asynchronously while the next product is queued.
 */
import { numpy as np } from "../engine/jax.ts";
import { toDType } from "../engine/dtype.ts";
import type { LinearOperator } from "./operator.ts";

export interface DenseOptions {
  /** Called after each column with (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
  /** Symmetrize (A + A^T)/2 (default true; the asymmetry found is reported). */
  readonly symmetrize?: boolean;
}

export interface MaterializedOperator {
  readonly n: number;
  readonly data: Float64Array;
  /** max |A - A^T| / max |A| before symmetrizing. */
  readonly asymmetry: number;
}

export async function materialize(op: LinearOperator, opts: DenseOptions = {}): Promise<MaterializedOperator> {
  const n = op.size;
  const data = new Float64Array(n * n);
  const eye = np.eye(n, undefined, { dtype: toDType(op.dtype) });
  let pending: Promise<void> | null = null;
  for (let j = 0; j < n; j++) {
    const e = eye.ref.slice(j);
    const col = op.matvec(e);
    e.dispose();
    const jj = j;
    const read = col.data().then((values) => {
      for (let i = 0; i < n; i++) data[i * n + jj] = Number(values[i]);
    });
    if (pending) await pending;
    pending = read;
    opts.onProgress?.(j + 1, n);
  }
  if (pending) await pending;
  eye.dispose();
  let maxAbs = 0;
  let maxAsym = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const a = data[i * n + j], b = data[j * n + i];
      maxAbs = Math.max(maxAbs, Math.abs(a), Math.abs(b));
      maxAsym = Math.max(maxAsym, Math.abs(a - b));
      if (opts.symmetrize ?? true) data[i * n + j] = data[j * n + i] = (a + b) / 2;
    }
  }
  return { n, data, asymmetry: maxAbs > 0 ? maxAsym / maxAbs : 0 };
}
