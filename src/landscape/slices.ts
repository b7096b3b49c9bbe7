/**
 * 1-D and 2-D slices of the loss (and accuracy) around a point: L(theta + a d) on a line and
 * L(theta + a d1 + b d2) on a grid (Goodfellow, Vinyals & Saxe 2015, "Qualitatively
 * characterizing neural network optimization problems", for lines; Li, Xu, Taylor, Studer &
 * Goldstein 2018, "Visualizing the Loss Landscape of Neural Nets", for filter-normalized 2-D
 * surfaces). The directions come from directions.ts (random filter-normalized, Hessian
 * eigenvectors, trajectory PCA) or from the caller; a slice knows nothing of how they were made.
 *
 * Grids: `points` values from `from` to `to` inclusive, x_i = (from (p-1-i) + to i) / (p-1), so
 * a symmetric range with an odd count holds 0 exactly; there theta + 0 d is theta itself and the
 * origin value is the model's loss bit for bit (the objective is evaluated at a copy of theta).
 * When 0 is not on the grid, the origin is evaluated once more. Defaults: [-1, 1], 25 points per
 * axis (Li et al. plot [-1, 1] with 51 points; 25 keeps a 2-D slice at 625 evaluations).
 *
 * Cost: one objective evaluation (a full pass over the data) per grid point. Losses that are not
 * finite (far out, where the loss overflows) are stored as NaN (null in JSON).
 */
import { InputError } from "../errors.ts";
import { displace, type Objective } from "./objective.ts";

export interface AxisOptions {
  /** Default -1. */
  readonly from?: number;
  /** Default 1. */
  readonly to?: number;
  /** Default 25. */
  readonly points?: number;
}

export interface Slice1dOptions extends AxisOptions {
  readonly onProgress?: (done: number, total: number) => void;
}

export interface Slice2dOptions {
  /** Range and points of each axis (one object for both, or one per axis). */
  readonly axes?: AxisOptions | readonly [AxisOptions, AxisOptions];
  readonly onProgress?: (done: number, total: number) => void;
}

export interface AxisSettings {
  readonly from: number;
  readonly to: number;
  readonly points: number;
}

export interface Slice1d {
  readonly kind: "slice-1d";
  readonly objective: string;
  readonly settings: AxisSettings & { readonly directionNorm: number };
  /** Coefficients a of theta + a d. */
  readonly alphas: readonly number[];
  readonly loss: readonly number[];
  /** null when the objective has no accuracy. */
  readonly accuracy: readonly number[] | null;
  readonly originLoss: number;
  readonly originAccuracy: number | null;
  readonly evaluations: number;
  readonly seconds: number;
}

export interface Slice2d {
  readonly kind: "slice-2d";
  readonly objective: string;
  readonly settings: { readonly x: AxisSettings; readonly y: AxisSettings; readonly directionNorms: readonly [number, number]; readonly cosine: number };
  /** Coefficients along d1 (x) and d2 (y). */
  readonly xs: readonly number[];
  readonly ys: readonly number[];
  /** loss[j][i] at theta + xs[i] d1 + ys[j] d2. */
  readonly loss: readonly (readonly number[])[];
  readonly accuracy: readonly (readonly number[])[] | null;
  readonly originLoss: number;
  readonly originAccuracy: number | null;
  readonly evaluations: number;
  readonly seconds: number;
}

const DEFAULT_AXIS: AxisSettings = { from: -1, to: 1, points: 25 };

export function axisSettings(a: AxisOptions = {}, input = "axis"): AxisSettings {
  const from = a.from ?? DEFAULT_AXIS.from, to = a.to ?? DEFAULT_AXIS.to, points = a.points ?? DEFAULT_AXIS.points;
  if (!Number.isFinite(from) || !Number.isFinite(to) || !(from < to)) {
    throw new InputError(input, `expected a finite range from < to, got ${from}:${to}`);
  }
  if (!Number.isInteger(points) || points < 2) throw new InputError(input, `expected at least 2 points (an integer), got ${points}`);
  return { from, to, points };
}

/** The grid of an axis: points values from `from` to `to` inclusive, 0 exactly when symmetric and odd. */
export function axisGrid(a: AxisSettings): number[] {
  const p = a.points - 1;
  return Array.from({ length: a.points }, (_, i) => (a.from * (p - i) + a.to * i) / p);
}

function checkDirection(objective: Objective, d: ArrayLike<number>, input: string): number {
  if (d.length !== objective.size) throw new InputError(input, `expected ${objective.size} entries (the objective's parameters), got ${d.length}`);
  let s = 0;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) throw new InputError(input, `expected finite entries, got ${d[i]} at ${i}`);
    s += d[i] * d[i];
  }
  return Math.sqrt(s);
}

const finiteOrNaN = (v: number) => (Number.isFinite(v) ? v : NaN);

/** L(theta + a d) for a on a grid (module comment). */
export async function slice1d(objective: Objective, theta: ArrayLike<number>, direction: ArrayLike<number>, opts: Slice1dOptions = {}): Promise<Slice1d> {
  const t0 = performance.now();
  const settings = axisSettings(opts, "range");
  const directionNorm = checkDirection(objective, direction, "direction");
  const alphas = axisGrid(settings);
  const e0 = objective.evaluations;
  const loss: number[] = [], acc: number[] = [];
  let hasAccuracy = true;
  const total = alphas.length + (alphas.includes(0) ? 0 : 1);
  let done = 0;
  for (const a of alphas) {
    const r = await objective.evaluate(displace(theta, [direction], [a]));
    loss.push(finiteOrNaN(r.loss));
    if (r.accuracy === null) hasAccuracy = false;
    else acc.push(r.accuracy);
    opts.onProgress?.(++done, total);
  }
  const i0 = alphas.indexOf(0);
  let origin: { loss: number; accuracy: number | null };
  if (i0 >= 0) origin = { loss: loss[i0], accuracy: hasAccuracy ? acc[i0] : null };
  else {
    origin = await objective.evaluate(Float64Array.from(theta));
    opts.onProgress?.(++done, total);
  }
  return {
    kind: "slice-1d",
    objective: objective.description,
    settings: { ...settings, directionNorm },
    alphas,
    loss,
    accuracy: hasAccuracy ? acc : null,
    originLoss: origin.loss,
    originAccuracy: origin.accuracy,
    evaluations: objective.evaluations - e0,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** L(theta + a d1 + b d2) on a grid (module comment). */
export async function slice2d(
  objective: Objective,
  theta: ArrayLike<number>,
  directions: readonly [ArrayLike<number>, ArrayLike<number>],
  opts: Slice2dOptions = {},
): Promise<Slice2d> {
  const t0 = performance.now();
  if (directions.length !== 2) throw new InputError("directions", `expected 2 directions, got ${directions.length}`);
  const [ax, ay] = Array.isArray(opts.axes) ? opts.axes : [opts.axes as AxisOptions | undefined, opts.axes as AxisOptions | undefined];
  const x = axisSettings(ax, "range (x)"), y = axisSettings(ay, "range (y)");
  const [d1, d2] = directions;
  const n1 = checkDirection(objective, d1, "direction 1"), n2 = checkDirection(objective, d2, "direction 2");
  let dot = 0;
  for (let i = 0; i < d1.length; i++) dot += d1[i] * d2[i];
  const cosine = n1 > 0 && n2 > 0 ? dot / (n1 * n2) : 0;
  const xs = axisGrid(x), ys = axisGrid(y);
  const e0 = objective.evaluations;
  const loss: number[][] = [], acc: number[][] = [];
  let hasAccuracy = true;
  const onGrid = xs.includes(0) && ys.includes(0);
  const total = xs.length * ys.length + (onGrid ? 0 : 1);
  let done = 0;
  for (const b of ys) {
    const lrow: number[] = [], arow: number[] = [];
    for (const a of xs) {
      const r = await objective.evaluate(displace(theta, [d1, d2], [a, b]));
      lrow.push(finiteOrNaN(r.loss));
      if (r.accuracy === null) hasAccuracy = false;
      else arow.push(r.accuracy);
      opts.onProgress?.(++done, total);
    }
    loss.push(lrow);
    acc.push(arow);
  }
  let origin: { loss: number; accuracy: number | null };
  if (onGrid) {
    const i = xs.indexOf(0), j = ys.indexOf(0);
    origin = { loss: loss[j][i], accuracy: hasAccuracy ? acc[j][i] : null };
  } else {
    origin = await objective.evaluate(Float64Array.from(theta));
    opts.onProgress?.(++done, total);
  }
  return {
    kind: "slice-2d",
    objective: objective.description,
    settings: { x, y, directionNorms: [n1, n2], cosine },
    xs,
    ys,
    loss,
    accuracy: hasAccuracy ? acc : null,
    originLoss: origin.loss,
    originAccuracy: origin.accuracy,
    evaluations: objective.evaluations - e0,
    seconds: (performance.now() - t0) / 1000,
  };
}
