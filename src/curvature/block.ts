/**
 * Restriction of an operator to one block of parameters (a layer, or one weight): the principal
 * submatrix A[B, B] for the index range B = [offset, offset + size). Matrix-free: embed v in
 * zeros, apply A, keep the block. Costs one full product per product.
 */
import { numpy as np } from "../engine/jax.ts";
import { makeOperator, type LinearOperator } from "./operator.ts";

export function restrictOperator(op: LinearOperator, offset: number, size: number, name: string): LinearOperator {
  if (!(offset >= 0 && size > 0 && offset + size <= op.size)) {
    throw new Error(`block [${offset}, ${offset + size}) out of range for an operator of size ${op.size}`);
  }
  return makeOperator(
    size,
    op.dtype,
    `block "${name}" (${size} parameters from ${offset}) of the ${op.description}`,
    (v) => {
      const full = np.pad(v.ref, [[offset, op.size - offset - size]]);
      const out = op.matvec(full);
      full.dispose();
      return out.slice([offset, offset + size]);
    },
    () => op.dispose(),
    async (v) => {
      const full = np.pad(v.ref, [[offset, op.size - offset - size]]);
      const out = await op.matvecAsync(full);
      full.dispose();
      return out.slice([offset, offset + size]);
    },
  );
}
