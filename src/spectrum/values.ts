/**
 * The input every spectrum reader shares: a list of eigenvalues (any order, a plain array or a
 * typed array), checked once (non-empty, finite numbers) and sorted; plus the order statistics
 * the readers use (median, quantiles by linear interpolation as numpy's default, robust scale).
 */
import { InputError } from "../errors.ts";

/** A spectrum as given: eigenvalues in any order. */
export type Eigenvalues = ArrayLike<number>;

/** 1.4826 MAD estimates the standard deviation of a normal sample (1 / Phi^-1(3/4)). */
export const MAD_TO_SIGMA = 1.482602218505602;

/**
 * Checks a spectrum and returns a sorted copy (ascending). Throws InputError naming `input` for
 * a non-array, an empty list (unless `allowEmpty`), or a value that is not a finite number.
 */
export function sortedAscending(values: Eigenvalues, input = "eigenvalues", allowEmpty = false): Float64Array {
  if (values === null || typeof values !== "object" || typeof values.length !== "number") {
    throw new InputError(input, "expected an array of numbers");
  }
  if (values.length === 0 && !allowEmpty) throw new InputError(input, "expected at least one eigenvalue, got an empty list");
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new InputError(input, `expected finite numbers, got ${String(v)} at index ${i}`);
    }
    out[i] = v;
  }
  return out.sort();
}

/** The q-quantile (0 <= q <= 1) of ascending values, interpolating linearly (numpy's default). */
export function quantileSorted(asc: ArrayLike<number>, q: number): number {
  const n = asc.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return asc[lo] + (h - lo) * (asc[hi] - asc[lo]);
}

/** Arithmetic mean (NaN for an empty list). */
export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : NaN;
}

/** Median of ascending values. */
export function medianSorted(asc: ArrayLike<number>): number {
  return quantileSorted(asc, 0.5);
}

/** 1.4826 x the median absolute deviation from `center` (any order): a robust standard deviation. */
export function madScale(values: ArrayLike<number>, center: number): number {
  const dev = Float64Array.from(values, (v) => Math.abs(v - center)).sort();
  return MAD_TO_SIGMA * medianSorted(dev);
}

/** Largest |value| (0 for an empty list). */
export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

/** Checks an optional numeric option: finite, and within [min, max] (inclusive unless said). */
export function checkOption(
  value: number | undefined,
  name: string,
  { min = -Infinity, max = Infinity, integer = false, minExclusive = false }: { min?: number; max?: number; integer?: boolean; minExclusive?: boolean } = {},
): void {
  if (value === undefined) return;
  const ok =
    typeof value === "number" &&
    Number.isFinite(value) &&
    (minExclusive ? value > min : value >= min) &&
    value <= max &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    const range = `${minExclusive ? "> " : ">= "}${min}${max < Infinity ? ` and <= ${max}` : ""}`;
    throw new InputError(name, `expected ${integer ? "an integer" : "a finite number"} ${range}, got ${String(value)}`);
  }
}
