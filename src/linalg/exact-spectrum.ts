/**
 * The exact spectrum of an operator: materialize it as a dense matrix (one product per column)
 * and decompose it with the dense symmetric eigensolver (eigh.ts). For up to a few thousand
 * dimensions; beyond that use the matrix-free methods. The result carries its cost.
 */
import type { LinearOperator } from "../curvature/operator.ts";
import { materialize } from "../curvature/dense.ts";
import { eigh } from "./dense/eigh.ts";

export interface ExactSpectrum {
  readonly size: number;
  /** All eigenvalues, ascending. */
  readonly eigenvalues: readonly number[];
  /** max |A - A^T| / max |A| of the materialized matrix before symmetrizing. */
  readonly asymmetry: number;
  readonly method: string;
  readonly cost: { readonly matvecs: number; readonly secondsMatrix: number; readonly secondsEigen: number };
}

export interface ExactSpectrumOptions {
  readonly onProgress?: (done: number, total: number) => void;
}

export async function exactSpectrum(op: LinearOperator, opts: ExactSpectrumOptions = {}): Promise<ExactSpectrum> {
  const before = op.matvecs;
  const t0 = performance.now();
  const A = await materialize(op, { onProgress: opts.onProgress });
  const t1 = performance.now();
  const r = eigh({ n: A.n, data: A.data }, { overwrite: true });
  return {
    size: op.size,
    eigenvalues: Array.from(r.values),
    asymmetry: A.asymmetry,
    method: `dense matrix from ${op.size} products; ${r.method}`,
    cost: { matvecs: op.matvecs - before, secondsMatrix: (t1 - t0) / 1000, secondsEigen: r.seconds },
  };
}
