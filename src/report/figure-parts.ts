/**
 * Small pieces shared by the figure specs of this folder: input checks (one InputError naming the
 * input), the title block, log-axis ticks and labels, and the head every spec starts with.
 */
import { InputError } from "../errors.ts";
import { logTicks, paperConfig, SCHEMA } from "./figures.ts";

/** `$schema`, title (with subtitle unless it is empty or absent) and the shared paper config. */
export function specHead(title: string, subtitle: string | undefined) {
  return {
    $schema: SCHEMA,
    title: subtitle ? { text: title, subtitle } : { text: title },
    config: paperConfig(),
  };
}

/** Throws unless every value is finite; `input` names the array in the message. */
export function requireFinite(input: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new InputError(input, `expected finite numbers, got ${values[i]} at index ${i}`);
  }
}

/** Throws unless `items` is non-empty and their names are distinct; returns the names in order. */
export function requireNames(input: string, items: readonly { readonly name: string }[]): string[] {
  if (items.length === 0) throw new InputError(input, "expected at least one series, got none");
  const names: string[] = [];
  for (const it of items) {
    if (typeof it.name !== "string" || it.name === "") throw new InputError(input, "every series needs a non-empty name");
    if (names.includes(it.name)) throw new InputError(input, `duplicate series name ${JSON.stringify(it.name)}`);
    names.push(it.name);
  }
  return names;
}

/** Throws unless `value` is one of `allowed`. */
export function requireOneOf<T extends string>(input: string, value: T, allowed: readonly T[]): void {
  if (!allowed.includes(value)) {
    throw new InputError(input, `expected ${allowed.map((a) => JSON.stringify(a)).join(" or ")}, got ${JSON.stringify(value)}`);
  }
}

/**
 * Labels of a log axis: plain numbers from 0.001 to 9999 ("0.01", "200"), "1e-6" style beyond,
 * where plain decimals grow too long to read.
 */
export const LOG_LABEL_EXPR =
  "abs(datum.value) >= 0.001 && abs(datum.value) < 10000 ? format(datum.value, '.4~g') : format(datum.value, '.0e')";

/** The 1-2-5 values (…, 0.5, 1, 2, 5, 10, …) just below `lo` and just above `hi` (0 < lo <= hi). */
export function niceLogDomain(lo: number, hi: number): [number, number] {
  const steps = (k: number) => [1, 2, 5].map((m) => Number((m * 10 ** k).toPrecision(12)));
  const down = steps(Math.floor(Math.log10(lo))).filter((v) => v <= lo * (1 + 1e-12)).at(-1) ?? 10 ** Math.floor(Math.log10(lo));
  const kHi = Math.floor(Math.log10(hi));
  const up = [...steps(kHi), 10 ** (kHi + 1)].find((v) => v >= hi * (1 - 1e-12))!;
  return down < up ? [down, up] : [down, up * 2];
}

/**
 * A log axis over the data range [lo, hi] (lo > 0) widened to 1-2-5 values, with explicit ticks
 * (Vega's own log ticks are crowded or sparse depending on the span).
 */
export function logAxis(lo: number, hi: number) {
  const domain = niceLogDomain(lo, hi);
  return {
    scale: { type: "log" as const, domain, nice: false },
    axis: { values: logTicks(domain[0], domain[1]), labelExpr: LOG_LABEL_EXPR, labelOverlap: true },
  };
}

/** Integer ticks ("2, 3, 4", never "2.5") when every value is an integer. */
export function integerAxisIfIntegral(values: Iterable<number>): { tickMinStep: number; format: string } | Record<string, never> {
  for (const v of values) if (!Number.isInteger(v)) return {};
  return { tickMinStep: 1, format: "d" };
}

/** Point shapes in series order: distinct in print, where colours may not be. */
export const SHAPES = ["circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "triangle-right", "triangle-left"];
