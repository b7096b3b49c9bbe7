/**
 * The one abstraction every algorithm works on: a symmetric linear operator on flat vectors.
 * `matvec` BORROWS its argument (takes its own `.ref`) and returns a new array the caller owns;
 * it is synchronous (work is queued on the device; reading results is the caller's business).
 * Operators count their products so results can report their cost.
 */
import type { Array } from "../engine/jax.ts";
import type { DTypeName } from "../engine/dtype.ts";

export interface LinearOperator {
  /** Dimension of the space (number of parameters, or of a block). */
  readonly size: number;
  readonly dtype: DTypeName;
  /** What it is, e.g. "hessian of cross-entropy on gmm:k=5 (1000 examples, 5 batches)". */
  readonly description: string;
  /** v -> A v, for v of length `size`. Borrows v. */
  matvec(v: Array): Array;
  /** Number of matvecs so far. */
  readonly matvecs: number;
  /** Frees device memory the operator caches (linearizations, gradients). */
  dispose(): void;
}

/** The sum of f(item) over items (device arrays; f's results are consumed). */
export function sumOver<T>(items: readonly T[], f: (item: T, index: number) => Array): Array {
  let acc: Array | null = null;
  items.forEach((item, i) => {
    const term = f(item, i);
    acc = acc ? acc.add(term) : term;
  });
  if (!acc) throw new Error("sumOver: no items");
  return acc;
}

/** Wraps a matvec function with a counter. */
export function makeOperator(
  size: number,
  dtype: DTypeName,
  description: string,
  apply: (v: Array) => Array,
  dispose: () => void = () => {},
): LinearOperator {
  let count = 0;
  return {
    size,
    dtype,
    description,
    matvec(v: Array) {
      if (v.shape.length !== 1 || v.shape[0] !== size) {
        throw new Error(`matvec: expected a vector of length ${size}, got shape [${v.shape}]`);
      }
      count++;
      return apply(v);
    },
    get matvecs() {
      return count;
    },
    dispose,
  };
}
