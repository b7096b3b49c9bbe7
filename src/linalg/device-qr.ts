/**
 * Thin QR of a few device vectors: Y = Q R for the k rows of Y ([k, n], n >> k), Q with
 * orthonormal rows on the device and R (k x k, upper triangular) on the host. Classical
 * Gram-Schmidt applied twice per vector (CGS2; Giraud, Langou, Rozloznik, "The loss of
 * orthogonality in the Gram-Schmidt orthogonalization process", 2005): the second pass makes Q
 * orthonormal to working precision whenever Y is numerically of full rank, and each pass is one
 * matrix-vector product with the basis so far, so the device does the O(k^2 n) work and the host
 * reads k + 1 numbers per vector.
 *
 * A vector whose remainder after both passes is below `dependence` unit roundoffs of its own
 * norm (default 100) is numerically in the span of the previous ones: it adds no row to Q, its column of R has
 * a zero diagonal entry, and `rank` < k tells the caller (the sketch spans an invariant subspace,
 * e.g. the range of a low-rank operator).
 */
import { numpy as np, type Array as JaxArray } from "../engine/jax.ts";
import type { DTypeName } from "../engine/dtype.ts";
import { toDType } from "../engine/dtype.ts";
import { addRow, checkFinite, readHost, row, unitRoundoff } from "./sampling.ts";
import { scale } from "../tree/vector.ts";

const DEPENDENCE_FACTOR = 100;

export interface RowQR {
  /** Orthonormal rows [rank, n]; null when rank is 0. Owned by the caller. */
  readonly Q: JaxArray | null;
  /**
   * k x k, row-major, upper triangular: column j holds the coefficients of row j of Y on the
   * basis vectors; row i belongs to the basis vector made from row i of Y (zero when dropped).
   */
  readonly R: Float64Array;
  readonly rank: number;
  /** Which rows of Y gave a row of Q (their index in Y). */
  readonly kept: readonly number[];
}

/**
 * QR of the rows of Y (borrowed). `dependence` (default 100) is the drop threshold in unit
 * roundoffs of each vector's norm.
 */
export async function qrRows(Y: JaxArray, dtype: DTypeName, dependence = DEPENDENCE_FACTOR): Promise<RowQR> {
  const [k, n] = Y.shape;
  const R = new Float64Array(k * k);
  const kept: number[] = [];
  const tol = dependence * unitRoundoff(dtype);
  // Q is built as a [k, n] array whose unfilled rows are zero, so all steps have the same shapes
  // (one kernel compilation per run, not per vector); compacted at the end if vectors dropped.
  let Q = np.zeros([k, n], { dtype: toDType(dtype) });
  try {
    for (let j = 0; j < k; j++) {
      const y = row(Y, j);
      const yNorm = np.sqrt(y.ref.mul(y.ref).sum()).reshape([1]);
      let w = y;
      const c1 = np.matmul(Q.ref, w.ref);
      w = w.sub(np.matmul(c1.ref, Q.ref));
      const c2 = np.matmul(Q.ref, w.ref);
      w = w.sub(np.matmul(c2.ref, Q.ref));
      const wNorm = np.sqrt(w.ref.mul(w.ref).sum()).reshape([1]);
      const host = await readHost(np.concatenate([c1.add(c2), wNorm, yNorm]));
      checkFinite(host, "qr");
      for (const i of kept) R[i * k + j] = host[i];
      const norm = host[k], original = host[k + 1];
      if (norm > tol * original && norm > 0) {
        R[j * k + j] = norm;
        const q = scale(1 / norm, w);
        Q = addRow(Q, j, q);
        q.dispose();
        kept.push(j);
      }
      w.dispose();
    }
  } catch (err) {
    Q.dispose();
    throw err;
  }
  if (kept.length === k) return { Q, R, rank: k, kept };
  const rows = kept.map((i) => row(Q, i));
  Q.dispose();
  return { Q: rows.length > 0 ? np.stack(rows) : null, R, rank: kept.length, kept };
}
