/**
 * What the iterative eigensolvers (lanczos.ts, power-iteration.ts) return, and how they order
 * eigenvalues. A few extreme eigenpairs of a symmetric operator, each with its residual norm
 * ||A y - theta y|| and whether it met the solver's stopping rule, plus the cost (matvecs,
 * seconds) and the settings used (every default written out).
 *
 * Order of `eigenvalues` (and of every per-pair array):
 * - "largest": algebraically largest first (descending);
 * - "smallest": algebraically smallest first (ascending);
 * - "magnitude": largest |theta| first (descending in absolute value).
 *
 * Eigenvectors, when asked for, are host Float64Arrays (one per pair, unit norm, in the same
 * order) in the NON-enumerable field `vectors`: JSON.stringify(result) leaves them out, so the
 * result stays a small serializable record, while `result.vectors` is there for code that needs
 * them. Host copies, not device arrays: the caller owns nothing it could forget to dispose.
 */
import type { DTypeName } from "../engine/dtype.ts";
import { InputError } from "../errors.ts";

export type Which = "largest" | "smallest" | "magnitude";
export const WHICH: readonly Which[] = ["largest", "smallest", "magnitude"];

export interface Eigenpairs {
  /** The method, e.g. "lanczos (full reorthogonalization, CGS2)". */
  readonly method: string;
  /** The operator's description. */
  readonly operator: string;
  readonly size: number;
  readonly dtype: DTypeName;
  readonly which: Which;
  /** Ordered as described in the module comment; length k (fewer only if the space is smaller). */
  readonly eigenvalues: readonly number[];
  /** ||A y - theta y|| of each pair (the solver says how it is obtained). */
  readonly residuals: readonly number[];
  /** Whether each pair met the stopping rule. */
  readonly converged: readonly boolean[];
  readonly convergedCount: number;
  /** Operator products spent. */
  readonly matvecs: number;
  /** Wall time of the whole call. */
  readonly seconds: number;
  /** Unit eigenvectors (host), when asked for; non-enumerable (not in JSON). */
  readonly vectors?: readonly Float64Array[];
}

/** k, the number of eigenpairs asked for: an integer from 1 to n (the operator's size). */
export function checkPairCount(k: number, n: number): number {
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new InputError("k", `expected an integer from 1 to ${n} (the operator's size), got ${k}`);
  }
  return k;
}

/** A relative tolerance in (0, 1). */
export function checkTolerance(tol: number): number {
  if (!(tol > 0 && tol < 1)) throw new InputError("tol", `expected a number in (0, 1), got ${tol}`);
  return tol;
}

export function parseWhich(value: string, input = "which"): Which {
  if (!(WHICH as readonly string[]).includes(value)) {
    throw new InputError(input, `expected one of ${WHICH.join(", ")}, got "${value}"`);
  }
  return value as Which;
}

/**
 * Sort key for `which`: a larger key comes first. For "magnitude" ties in |theta| are broken
 * towards the positive value so the order is deterministic.
 */
export function priority(which: Which, theta: number): number {
  return which === "largest" ? theta : which === "smallest" ? -theta : Math.abs(theta);
}

/** Indices of `values` in the order of `which` (stable). */
export function orderIndices(values: ArrayLike<number>, which: Which): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  return idx.sort((a, b) => {
    const d = priority(which, values[b]) - priority(which, values[a]);
    return d !== 0 ? d : values[b] - values[a] || a - b;
  });
}

/** Attaches host eigenvectors as the non-enumerable `vectors` field. */
export function withVectors<T extends Eigenpairs>(result: T, vectors: readonly Float64Array[] | null): T {
  if (vectors) Object.defineProperty(result, "vectors", { value: vectors, enumerable: false, writable: false });
  return result;
}
