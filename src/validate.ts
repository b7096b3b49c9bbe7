/**
 * Option validation, the one module: integer, positive, range and choice checks that throw an
 * InputError naming the option. The library names an option by its library name ("probes",
 * "batchSize": errors.ts optionError, which the CLI prints as its flag); the CLI checks its flags
 * by the same functions under the flag's name ("--probes").
 */
import { optionError } from "./errors.ts";

/** Bounds of a numeric option: inclusive `min`/`max`, or exclusive `above`/`below`. */
export interface NumberBounds {
  readonly min?: number;
  readonly max?: number;
  /** Exclusive lower bound (e.g. 0 for "> 0"). */
  readonly above?: number;
  /** Exclusive upper bound. */
  readonly below?: number;
  /** Why `max` is the limit, e.g. "the number of parameters". */
  readonly maxWhy?: string;
}

/** "an integer >= 1", "a number in [0, 1)", ... */
export function describeBounds(kind: "integer" | "number", b: NumberBounds): string {
  const what = kind === "integer" ? "an integer" : "a finite number";
  const lo = b.min !== undefined ? { v: b.min, open: false } : b.above !== undefined ? { v: b.above, open: true } : null;
  const hi = b.max !== undefined ? { v: b.max, open: false } : b.below !== undefined ? { v: b.below, open: true } : null;
  const why = b.maxWhy ? ` (${b.maxWhy})` : "";
  if (lo && hi) {
    if (kind === "integer" && !lo.open && !hi.open) return `${what} in ${lo.v}..${hi.v}${why}`;
    return `${what} in ${lo.open ? "(" : "["}${lo.v}, ${hi.v}${hi.open ? ")" : "]"}${why}`;
  }
  if (lo) return `${what} ${lo.open ? ">" : ">="} ${lo.v}`;
  if (hi) return `${what} ${hi.open ? "<" : "<="} ${hi.v}${why}`;
  return what;
}

function inBounds(v: number, b: NumberBounds): boolean {
  return (b.min === undefined || v >= b.min) && (b.max === undefined || v <= b.max) &&
    (b.above === undefined || v > b.above) && (b.below === undefined || v < b.below);
}

/** `value` as an integer within `bounds`; otherwise an InputError naming `name`. */
export function checkInteger(name: string, value: number, bounds: NumberBounds = {}): number {
  if (!Number.isSafeInteger(value) || !inBounds(value, bounds)) {
    throw optionError(name, `expected ${describeBounds("integer", bounds)}, got ${value}`);
  }
  return value;
}

/** An integer >= 1. */
export function checkPositiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw optionError(name, `expected a positive integer, got ${value}`);
  return value;
}

/** A finite number within `bounds`. */
export function checkNumber(name: string, value: number, bounds: NumberBounds = {}): number {
  if (!Number.isFinite(value) || !inBounds(value, bounds)) {
    throw optionError(name, `expected ${describeBounds("number", bounds)}, got ${value}`);
  }
  return value;
}

/** A finite number > 0. */
export function checkPositive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw optionError(name, `expected a finite number > 0, got ${value}`);
  return value;
}

/** One of `choices`. */
export function checkChoice<T extends string>(name: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw optionError(name, `expected one of ${choices.join(", ")}, got "${value}"`);
  }
  return value as T;
}
