/**
 * Loss surfaces as Vega-Lite specs with the data inline (style of figures.ts): a 2-D slice
 * (landscape/slices.ts; Li, Xu, Taylor, Studer & Goldstein 2018, "Visualizing the Loss Landscape
 * of Neural Nets") as a heat map with contour lines, optionally with an optimization trajectory
 * drawn over it (their figure 9, PCA directions); and a 1-D slice as loss and accuracy panels.
 *
 * Vega-Lite has no contour mark (Vega's contour transform estimates densities of points, it does
 * not contour a given grid), so the isolines are computed here by marching squares (Lorensen &
 * Cline 1987, "Marching cubes", in two dimensions) and drawn as `rule` segments (x, y, x2, y2).
 * Within each grid cell the surface is taken as bilinear along the edges: a level crosses an edge
 * where its endpoint values straddle it, at the linearly interpolated point. Saddle cells (the
 * four corners alternate above/below) are resolved by the mean of the corners, the usual
 * "asymptotic decider" shortcut. Cells with a non-finite corner are skipped. An edge's crossing is
 * always computed from its endpoints in grid order, so neighbouring cells share endpoints exactly
 * and the segments of a closed isoline join into a closed polygon.
 *
 * Levels: `levels` equally spaced values strictly inside (min, max) of the finite values (default
 * 12), or the values given. With `logColor` (default: all values positive and max/min >= 100,
 * as a loss around a minimum usually is), both the colour scale and the levels are logarithmic,
 * so contours are not all crowded into the steep walls.
 *
 * Heat-map cells are centred on the grid points and extend halfway to their neighbours (a half
 * step beyond the outermost points), so each rect shows the value computed at its centre. No axis
 * grid: it would show through the seams between cells.
 */
import type { TopLevelSpec } from "vega-lite";
import { InputError } from "../errors.ts";
import { PANEL_WIDTH } from "./figures.ts";
import { requireFinite, specHead } from "./figure-parts.ts";
import { pathChart } from "./path-figures.ts";

export interface ContourSegment {
  readonly level: number;
  readonly x: number;
  readonly y: number;
  readonly x2: number;
  readonly y2: number;
}

/** Default number of contour levels. */
export const DEFAULT_LEVELS = 12;
/** Surface plot size (CSS pixels): near-square, as the axes usually span the same range. */
export const SURFACE_WIDTH = PANEL_WIDTH - 40;
export const SURFACE_HEIGHT = PANEL_WIDTH - 80;

function checkGrid(xs: ArrayLike<number>, ys: ArrayLike<number>, z: readonly ArrayLike<number>[]): void {
  for (const [name, a] of [["xs", xs], ["ys", ys]] as const) {
    if (a.length < 2) throw new InputError(name, `expected at least 2 grid values, got ${a.length}`);
    requireFinite(name, a);
    for (let i = 1; i < a.length; i++) if (!(a[i] > a[i - 1])) throw new InputError(name, `expected increasing values, got ${a[i - 1]} then ${a[i]} at index ${i}`);
  }
  if (z.length !== ys.length) throw new InputError("values", `expected ${ys.length} rows (one per y), got ${z.length}`);
  z.forEach((row, j) => {
    if (row.length !== xs.length) throw new InputError("values", `row ${j}: expected ${xs.length} values (one per x), got ${row.length}`);
  });
}

/**
 * Isolines of z (z[j][i] at (xs[i], ys[j])) at each of `levels`, as line segments (module comment).
 */
export function contourSegments(xs: ArrayLike<number>, ys: ArrayLike<number>, z: readonly ArrayLike<number>[], levels: readonly number[]): ContourSegment[] {
  checkGrid(xs, ys, z);
  const out: ContourSegment[] = [];
  // Crossing on the edge between grid points a and b (given in grid order: a before b).
  const cross = (L: number, ia: number, ja: number, ib: number, jb: number): [number, number] => {
    const va = z[ja][ia], vb = z[jb][ib];
    const t = (L - va) / (vb - va);
    return [xs[ia] + t * (xs[ib] - xs[ia]), ys[ja] + t * (ys[jb] - ys[ja])];
  };
  for (const L of levels) {
    for (let j = 0; j + 1 < ys.length; j++) {
      for (let i = 0; i + 1 < xs.length; i++) {
        // Corners counter-clockwise from (i, j): c0 (i,j), c1 (i+1,j), c2 (i+1,j+1), c3 (i,j+1).
        const v = [z[j][i], z[j][i + 1], z[j + 1][i + 1], z[j + 1][i]];
        if (!v.every(Number.isFinite)) continue;
        const above = v.map((c) => c > L);
        // Edges in grid order: e0 c0-c1, e1 c1-c2, e2 c3-c2, e3 c0-c3.
        const edges: [number, number, number, number][] = [
          [i, j, i + 1, j], [i + 1, j, i + 1, j + 1], [i, j + 1, i + 1, j + 1], [i, j, i, j + 1],
        ];
        const cuts = [above[0] !== above[1], above[1] !== above[2], above[3] !== above[2], above[0] !== above[3]];
        const on = cuts.map((c, e) => (c ? e : -1)).filter((e) => e >= 0);
        let pairs: [number, number][];
        if (on.length === 2) pairs = [[on[0], on[1]]];
        else if (on.length === 4) {
          const centreAbove = (v[0] + v[1] + v[2] + v[3]) / 4 > L;
          // Centre on c0's side: c0 and c2 connect through it; cut off c1 (e0,e1) and c3 (e2,e3).
          pairs = centreAbove === above[0] ? [[0, 1], [2, 3]] : [[3, 0], [1, 2]];
        } else continue;
        for (const [ea, eb] of pairs) {
          const [x, y] = cross(L, ...edges[ea]);
          const [x2, y2] = cross(L, ...edges[eb]);
          if (x === x2 && y === y2) continue; // the level touches a corner only
          out.push({ level: L, x, y, x2, y2 });
        }
      }
    }
  }
  return out;
}

/** `count` levels equally spaced strictly inside (lo, hi), in log space when `log`. */
export function contourLevels(lo: number, hi: number, count: number, log: boolean): number[] {
  if (!(hi > lo) || count < 1) return [];
  const f = log ? Math.log : (v: number) => v, g = log ? Math.exp : (v: number) => v;
  const a = f(lo), b = f(hi);
  return Array.from({ length: count }, (_, k) => g(a + ((k + 1) * (b - a)) / (count + 1)));
}

export interface TrajectoryPoint {
  readonly x: number;
  readonly y: number;
  /** Tooltip label, e.g. "epoch 3". */
  readonly label?: string;
}

export interface SurfaceChartOptions {
  /** Grid coordinates along the two directions, increasing. */
  readonly xs: ArrayLike<number>;
  readonly ys: ArrayLike<number>;
  /** values[j][i] at (xs[i], ys[j]); non-finite values are left blank. */
  readonly values: readonly ArrayLike<number>[];
  readonly title: string;
  readonly subtitle?: string;
  /** Default "direction 1" / "direction 2". */
  readonly xTitle?: string;
  readonly yTitle?: string;
  /** Colour legend title (default "loss"). */
  readonly valueTitle?: string;
  /** Number of contour levels, or the levels themselves (default 12); 0 or [] for none. */
  readonly levels?: number | readonly number[];
  /** Logarithmic colours and levels (default: module comment). */
  readonly logColor?: boolean;
  /** Colour scheme (default "viridis"). */
  readonly scheme?: string;
  /** Points drawn in order and joined, over the surface (e.g. a PCA-projected trajectory). */
  readonly trajectory?: readonly TrajectoryPoint[];
  /** Mark the origin (the point the slice is centred on) with a cross (default true). */
  readonly origin?: boolean;
}

/** Cell edges: midpoints between neighbours, half a step beyond the ends. */
function cellEdges(a: ArrayLike<number>): number[] {
  const n = a.length;
  const e = [a[0] - (a[1] - a[0]) / 2];
  for (let i = 0; i + 1 < n; i++) e.push((a[i] + a[i + 1]) / 2);
  e.push(a[n - 1] + (a[n - 1] - a[n - 2]) / 2);
  return e;
}

/** A 2-D slice as a heat map with contour lines and an optional trajectory; see the module comment. */
export function surfaceChart(opts: SurfaceChartOptions): TopLevelSpec {
  const { xs, ys, values } = opts;
  checkGrid(xs, ys, values);
  let lo = Infinity, hi = -Infinity;
  for (const row of values) for (let i = 0; i < row.length; i++) if (Number.isFinite(row[i])) (lo = Math.min(lo, row[i])), (hi = Math.max(hi, row[i]));
  if (lo > hi) throw new InputError("values", "expected at least one finite value, got none");
  const positive = lo > 0;
  const logColor = opts.logColor ?? (positive && hi / lo >= 100);
  if (logColor && !positive) throw new InputError("logColor", `a log colour scale needs positive values, got a minimum of ${lo}`);
  const lv = opts.levels ?? DEFAULT_LEVELS;
  const levels = typeof lv === "number" ? contourLevels(lo, hi, lv, logColor) : [...lv];
  requireFinite("levels", levels);
  const ex = cellEdges(xs), ey = cellEdges(ys);
  const valueTitle = opts.valueTitle ?? "loss";
  const cells: { x: number; x2: number; y: number; y2: number; a: number; b: number; value: number; edge: number }[] = [];
  values.forEach((row, j) => {
    for (let i = 0; i < row.length; i++) {
      if (Number.isFinite(row[i])) cells.push({ x: ex[i], x2: ex[i + 1], y: ey[j], y2: ey[j + 1], a: xs[i], b: ys[j], value: row[i], edge: row[i] });
    }
  });
  const xScale = { domain: [ex[0], ex[ex.length - 1]], nice: false, zero: false };
  const yScale = { domain: [ey[0], ey[ey.length - 1]], nice: false, zero: false };
  const colour = { scheme: opts.scheme ?? "viridis", ...(logColor ? { type: "log" } : {}) };
  const xTitle = opts.xTitle ?? "direction 1", yTitle = opts.yTitle ?? "direction 2";
  const layers: object[] = [
    {
      data: { values: cells },
      mark: { type: "rect", strokeWidth: 0.6 },
      encoding: {
        x: { field: "x", type: "quantitative", title: xTitle, scale: xScale, axis: { labelOverlap: true, grid: false } },
        x2: { field: "x2" },
        y: { field: "y", type: "quantitative", title: yTitle, scale: yScale, axis: { labelOverlap: true, grid: false } },
        y2: { field: "y2" },
        fill: { field: "value", type: "quantitative", title: valueTitle, scale: colour, legend: { orient: "right", format: ".3~g", gradientLength: SURFACE_HEIGHT - 20 } },
        // The same colour as a thin stroke closes the anti-aliasing seams between cells.
        // (A copy of the field, so that Vega-Lite does not merge it into the fill legend.)
        stroke: { field: "edge", type: "quantitative", scale: colour, legend: null },
        tooltip: [
          { field: "a", type: "quantitative", title: xTitle, format: ".3~g" },
          { field: "b", type: "quantitative", title: yTitle, format: ".3~g" },
          { field: "value", type: "quantitative", title: valueTitle, format: ".4~g" },
        ],
      },
    },
  ];
  const segments = levels.length ? contourSegments(xs, ys, values, levels) : [];
  if (segments.length) {
    layers.push({
      data: { values: segments },
      mark: { type: "rule", color: "#111", strokeWidth: 0.9, opacity: 0.55, clip: true },
      encoding: {
        x: { field: "x", type: "quantitative", scale: xScale },
        y: { field: "y", type: "quantitative", scale: yScale },
        x2: { field: "x2" },
        y2: { field: "y2" },
        tooltip: [{ field: "level", type: "quantitative", title: `${valueTitle} level`, format: ".4~g" }],
      },
    });
  }
  if (opts.trajectory && opts.trajectory.length) {
    const pts = opts.trajectory.map((p, k) => {
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new InputError("trajectory", `expected finite coordinates, got (${p.x}, ${p.y}) at index ${k}`);
      return { x: p.x, y: p.y, order: k, label: p.label ?? `point ${k}` };
    });
    layers.push({
      data: { values: pts },
      mark: { type: "line", color: "#d62728", strokeWidth: 1.75, point: { filled: true, size: 28, color: "#d62728" }, clip: true },
      encoding: {
        x: { field: "x", type: "quantitative", scale: xScale },
        y: { field: "y", type: "quantitative", scale: yScale },
        order: { field: "order", type: "quantitative" },
        tooltip: [{ field: "label", type: "nominal" }, { field: "x", type: "quantitative", format: ".3~g" }, { field: "y", type: "quantitative", format: ".3~g" }],
      },
    });
  }
  // Drawn last, so that it stays visible over a trajectory that ends at the origin.
  if (opts.origin ?? true) {
    layers.push({
      data: { values: [{ x: 0, y: 0 }] },
      mark: { type: "point", shape: "cross", filled: true, color: "white", stroke: "#111", strokeWidth: 1, size: 90, clip: true },
      encoding: { x: { field: "x", type: "quantitative", scale: xScale }, y: { field: "y", type: "quantitative", scale: yScale } },
    });
  }
  return { ...specHead(opts.title, opts.subtitle), width: SURFACE_WIDTH, height: SURFACE_HEIGHT, layer: layers } as TopLevelSpec;
}

export interface SliceLineChartOptions {
  readonly alphas: ArrayLike<number>;
  readonly loss: ArrayLike<number>;
  /** Accuracy in [0, 1] (drawn as a second panel), or null. */
  readonly accuracy?: ArrayLike<number> | null;
  readonly title: string;
  readonly subtitle?: string;
  /** Default "α  (θ + α d)". */
  readonly xTitle?: string;
  /** Log loss axis (default false). */
  readonly logY?: boolean;
}

/** A 1-D slice: loss (and accuracy) against the coefficient along the direction, the origin marked. */
export function sliceLineChart(opts: SliceLineChartOptions): TopLevelSpec {
  const panels = [{ yTitle: "loss", logY: opts.logY ?? false, series: [{ name: "loss", values: opts.loss }] }];
  if (opts.accuracy) panels.push({ yTitle: "accuracy", logY: false, series: [{ name: "accuracy", values: opts.accuracy }] });
  return pathChart({
    alpha: opts.alphas,
    title: opts.title,
    subtitle: opts.subtitle,
    xTitle: opts.xTitle ?? "α  (θ + α d)",
    markers: [{ alpha: 0, label: "θ" }],
    panels,
  });
}
