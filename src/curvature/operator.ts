/**
 * The one abstraction every algorithm works on: a symmetric linear operator on flat vectors.
 * `matvec` BORROWS its argument (takes its own `.ref`) and returns a new array the caller owns;
 * it is synchronous (work is queued on the device; reading results is the caller's business).
 * `matvecAsync` is the same product for callers that can wait: operators that sum over batches
 * wait for each batch's work to finish before queuing the next, because jax-js frees a buffer
 * only once the work that reads it has run, so a synchronous sum over many batches holds every
 * batch's intermediates at once (on a ResNet-20, about 90 MB an image under jit: 1,000 images
 * would need 90 GB). The algorithms call `matvecAsync`.
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
  /** The same product, in device memory bounded by one batch's work (module comment). Borrows v. */
  matvecAsync(v: Array): Promise<Array>;
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

/**
 * The sum of f(item) over items, waiting for each partial sum to be computed before the next
 * item's work is queued, so that the device holds one item's intermediates at a time.
 */
export async function sumOverAsync<T>(items: readonly T[], f: (item: T, index: number) => Array): Promise<Array> {
  let acc: Array | null = null;
  for (const [i, item] of items.entries()) {
    const term = f(item, i);
    acc = acc ? acc.add(term) : term;
    if (i < items.length - 1) await acc.blockUntilReady();
  }
  if (!acc) throw new Error("sumOverAsync: no items");
  return acc;
}

/**
 * Wraps a matvec function with a counter. `applyAsync` (default: `apply`) is the bounded-memory
 * form of the same product, for operators that sum over batches.
 */
export function makeOperator(
  size: number,
  dtype: DTypeName,
  description: string,
  apply: (v: Array) => Array,
  dispose: () => void = () => {},
  applyAsync?: (v: Array) => Promise<Array>,
): LinearOperator {
  let count = 0;
  const check = (v: Array) => {
    if (v.shape.length !== 1 || v.shape[0] !== size) {
      throw new Error(`matvec: expected a vector of length ${size}, got shape [${v.shape}]`);
    }
    count++;
  };
  return {
    size,
    dtype,
    description,
    matvec(v: Array) {
      check(v);
      return apply(v);
    },
    async matvecAsync(v: Array) {
      check(v);
      return applyAsync ? applyAsync(v) : apply(v);
    },
    get matvecs() {
      return count;
    },
    dispose,
  };
}
