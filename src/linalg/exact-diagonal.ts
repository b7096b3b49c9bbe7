/**
 * The exact diagonal of an operator, a_ii = e_i^T A e_i: one product per coordinate, reading back
 * only entry i of each column. For small models, as the reference for the stochastic diagonal
 * estimators, or for one block of coordinates of a larger model (`offset`, `count`: the diagonal
 * of that block costs `count` products, whatever the model's size). Each entry is exact up to the
 * operator's rounding. The next product is queued while the previous entry is read.
 */
import type { LinearOperator } from "../curvature/operator.ts";
import { InputError } from "../errors.ts";
import type { DiagonalEstimate } from "./hutchinson.ts";
import { checkFinite, checkOperator, readHost, secondsSince, unitVector } from "./sampling.ts";

export interface ExactDiagonalOptions {
  /** First coordinate (default 0). */
  readonly offset?: number;
  /** Number of coordinates (default: to the end). */
  readonly count?: number;
  /** Called after each product with (products done, products planned). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** a_ii for i in [offset, offset + count); `diagonal[j]` is a_{offset + j}. */
export async function exactDiagonal(op: LinearOperator, opts: ExactDiagonalOptions = {}): Promise<DiagonalEstimate> {
  checkOperator(op);
  const n = op.size;
  const offset = opts.offset ?? 0;
  if (!(Number.isInteger(offset) && offset >= 0 && offset < n)) {
    throw new InputError("offset", `expected an integer in [0, ${n - 1}], got ${offset}`);
  }
  const count = opts.count ?? n - offset;
  if (!(Number.isInteger(count) && count >= 1 && offset + count <= n)) {
    throw new InputError("count", `expected an integer in [1, ${n - offset}] (coordinates from ${offset} of ${n}), got ${count}`);
  }
  const t0 = performance.now();
  const before = op.matvecs;
  const diag = new Float64Array(count);
  let pending: Promise<void> | null = null;
  for (let j = 0; j < count; j++) {
    const i = offset + j;
    // e_i from the host, and a_ii = e_i . (A e_i): fixed shapes, so no kernel per coordinate.
    const e = unitVector(i, n, op.dtype);
    const col = await op.matvecAsync(e);
    const read = readHost(col.mul(e).sum().reshape([1])).then((v) => {
      diag[j] = v[0];
    });
    if (pending) await pending;
    pending = read;
    opts.onProgress?.(j + 1, count);
  }
  if (pending) await pending;
  checkFinite(diag, "exact diagonal");
  return {
    method: `exact diagonal (${count} products, e_i^T A e_i${count < n ? ` for i in [${offset}, ${offset + count})` : ""})`,
    size: n,
    diagonal: Array.from(diag),
    standardErrors: null,
    sum: diag.reduce((s, v) => s + v, 0),
    matvecs: op.matvecs - before,
    seconds: secondsSince(t0),
    settings: { offset, count },
  };
}
