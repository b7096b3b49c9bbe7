/**
 * Figures that compare spectra, as Vega-Lite specs with the data inline (same style as
 * figures.ts):
 *
 * - `spectrumOverlay`: several spectra on one plot as step-line densities over shared bins
 *   (Hessian eigenvalues for four widths; H vs G vs the residual). Overlaid bar histograms hide
 *   each other; outlines do not. Bins: `bins` equal-width bins over the union of all spectra's
 *   ranges (default ceil(sqrt(n)) clamped to [10, 100], n the largest spectrum's size), equal in
 *   symmetric-log units on a symlog axis (constant c = median |eigenvalue| of the union, as in
 *   figures.ts). Counts on a log axis by default; an empty bin draws at the floor (0.5, or half the
 *   smallest possible fraction with `normalize: "fraction"`), so a single outlier still shows.
 *   `normalize: "fraction"` divides each spectrum's counts by its size, to compare the shapes of
 *   spectra with different numbers of eigenvalues.
 * - `rankPlot`: the top-m eigenvalues against their rank (1 = largest), markers and lines, log y by
 *   default: the outliers and the gap to the bulk read directly (Sagun et al. 2017, "Empirical
 *   analysis of the Hessian of over-parametrized neural networks", use such top-k plots).
 * - `densityChart`: a smoothed spectral density on a grid (stochastic Lanczos quadrature output),
 *   log y by default: the density spans many decades between the bulk and the outliers. Values
 *   below `floor` x max(density) (default 1e-6: six decades) are clipped to that floor, so the
 *   curve runs along the bottom instead of dropping out; the default subtitle says so. Optional
 *   rug: the exact eigenvalues as ticks along the bottom (the check of the density).
 */
import type { TopLevelSpec } from "vega-lite";
import { InputError } from "../errors.ts";
import {
  defaultBinCount, fmt, logTicks, PANEL_HEIGHT, PANEL_WIDTH, symexp, symlog, symlogConstant, symlogTicks, TICK_FORMAT,
} from "./figures.ts";
import { LOG_LABEL_EXPR, logAxis, requireFinite, requireNames, requireOneOf, SHAPES, specHead } from "./figure-parts.ts";

/** One spectrum and its name in the legend. */
export interface NamedSpectrum {
  readonly name: string;
  readonly eigenvalues: ArrayLike<number>;
}

function checkSpectra(input: string, spectra: readonly NamedSpectrum[]): string[] {
  const names = requireNames(input, spectra);
  for (const s of spectra) {
    if (s.eigenvalues.length === 0) throw new InputError(`${input} ${JSON.stringify(s.name)}`, "expected at least one eigenvalue, got none");
    requireFinite(`${input} ${JSON.stringify(s.name)}`, s.eigenvalues);
  }
  return names;
}

/** An x axis for eigenvalues: linear, or symlog with constant c and readable ticks. */
function eigenvalueAxis(xScale: "linear" | "symlog", domain: [number, number], c: number, title = "eigenvalue") {
  if (xScale === "linear") {
    return { title, scale: { type: "linear" as const, domain, nice: false, zero: false }, axis: { labelOverlap: true } };
  }
  return {
    title: `${title} (symmetric log, linear within ±${fmt(c)})`,
    scale: { type: "symlog" as const, constant: c, domain, nice: false, zero: false },
    axis: { values: symlogTicks(domain[0], domain[1], c), format: TICK_FORMAT, labelOverlap: true, grid: true },
  };
}

// ---------------------------------------------------------------------------------------------
// Overlay of binned spectra

export interface SpectrumOverlayOptions {
  readonly spectra: readonly NamedSpectrum[];
  readonly title: string;
  /** Subtitle (default: sizes, bins and range). Pass "" for none. */
  readonly subtitle?: string;
  /** "symlog" (default): bulk and outliers both visible; "linear": the outliers stand apart. */
  readonly xScale?: "linear" | "symlog";
  /** Number of shared bins (default ceil(sqrt(n)) clamped to [10, 100], n the largest spectrum). */
  readonly bins?: number;
  /** "count" (default) or "fraction" of each spectrum's eigenvalues per bin. */
  readonly normalize?: "count" | "fraction";
  /** Log-scaled count axis (default true). */
  readonly logCount?: boolean;
}

/** Counts of `t` in `bins` equal-width bins starting at `lo` of width `w` (clamped to the ends). */
function countBins(t: ArrayLike<number>, lo: number, w: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < t.length; i++) counts[Math.min(bins - 1, Math.max(0, Math.floor((t[i] - lo) / w)))]++;
  return counts;
}

const OVERLAY_DASHES = [[1, 0], [7, 3], [2, 2], [10, 3, 2, 3], [5, 5], [1, 3]];

/** Several spectra as step-line densities over shared bins; see the module comment. */
export function spectrumOverlay(opts: SpectrumOverlayOptions): TopLevelSpec {
  const { spectra, title, xScale = "symlog", normalize = "count", logCount = true } = opts;
  const names = checkSpectra("spectra", spectra);
  requireOneOf("xScale", xScale, ["linear", "symlog"]);
  requireOneOf("normalize", normalize, ["count", "fraction"]);
  const maxN = Math.max(...spectra.map((s) => s.eigenvalues.length));
  const bins = opts.bins ?? defaultBinCount(maxN);
  if (!Number.isInteger(bins) || bins < 1 || bins > 10_000) throw new InputError("bins", `expected an integer from 1 to 10000, got ${bins}`);

  const all = Float64Array.from(spectra.flatMap((s) => Array.from(s.eigenvalues)));
  const c = symlogConstant(all);
  const toT = xScale === "symlog" ? (x: number) => symlog(x, c) : (x: number) => x;
  const fromT = xScale === "symlog" ? (t: number) => symexp(t, c) : (t: number) => t;
  let min = Infinity, max = -Infinity;
  for (const x of all) { min = Math.min(min, x); max = Math.max(max, x); }
  let tLo = toT(min), tHi = toT(max);
  if (tLo === tHi) { const pad = Math.max(0.5, 0.5 * Math.abs(tLo)); tLo -= pad; tHi += pad; min = fromT(tLo); max = fromT(tHi); }
  const w = (tHi - tLo) / bins;
  // The outer edges are exactly the extreme values, not their round trip through the transform.
  const edge = (k: number) => (k === 0 ? min : k === bins ? max : fromT(tLo + k * w));

  const scaleOf = (n: number) => (normalize === "fraction" ? 1 / n : 1);
  const floor = logCount ? (normalize === "fraction" ? 0.5 / maxN : 0.5) : 0;
  const rows: { series: string; i: number; x: number; y: number; lo: number; hi: number; count: number }[] = [];
  let maxY = 0;
  for (const s of spectra) {
    const counts = countBins(Float64Array.from(s.eigenvalues, toT), tLo, w, bins);
    const k0 = s.eigenvalues.length;
    let i = 0;
    const push = (x: number, count: number, k: number) => {
      const y = count * scaleOf(k0);
      maxY = Math.max(maxY, y);
      rows.push({ series: s.name, i: i++, x, y: Math.max(y, floor), lo: edge(k), hi: edge(k + 1), count });
    };
    // An outline: up from the floor at the first edge, one step per bin, down at the last edge.
    push(edge(0), 0, 0);
    counts.forEach((n, k) => push(edge(k), n, k));
    push(edge(bins), counts[bins - 1], bins - 1);
    push(edge(bins), 0, bins - 1);
  }

  let yScale: object, yAxis: object;
  if (logCount) {
    // The first power of ten above the tallest step (5% headroom); a fraction never exceeds 1.
    let top = 10 ** Math.ceil(Math.log10(maxY * 1.05));
    if (normalize === "fraction") top = Math.min(top, 1);
    const firstTick = normalize === "fraction" ? 10 ** Math.ceil(Math.log10(floor)) : 1;
    yScale = { type: "log", domain: [floor, top], nice: false };
    yAxis = { values: logTicks(firstTick, top), labelExpr: LOG_LABEL_EXPR, labelOverlap: true };
  } else {
    yScale = { type: "linear", zero: true };
    yAxis = { labelOverlap: true };
  }
  const x = eigenvalueAxis(xScale, [edge(0), edge(bins)], c);
  const sizes = spectra.map((s) => s.eigenvalues.length);
  const sizeText = sizes.every((n) => n === sizes[0]) ? `n = ${sizes[0]} each` : `n = ${sizes.join(", ")}`;
  const subtitle = opts.subtitle ??
    `${sizeText}; ${bins} shared bins${xScale === "symlog" ? " (equal on the symlog axis)" : ""}, range [${fmt(edge(0))}, ${fmt(edge(bins))}]`;
  return {
    ...specHead(title, subtitle),
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    data: { values: rows },
    mark: { type: "line", interpolate: "step-after", strokeWidth: 1.75, strokeJoin: "miter" },
    encoding: {
      x: { field: "x", type: "quantitative", ...x },
      y: {
        field: "y",
        type: "quantitative",
        title: normalize === "fraction" ? "fraction of eigenvalues per bin" : "count per bin",
        scale: yScale,
        axis: yAxis,
      },
      color: { field: "series", type: "nominal", sort: names, legend: names.length > 1 ? { title: null, orient: "right" } : null },
      // Dash patterns too: identical outlines (H and H - G in the bulk) stay visible, and the
      // spectra stay apart in black-and-white print.
      strokeDash: { field: "series", type: "nominal", sort: names, scale: { range: OVERLAY_DASHES }, legend: names.length > 1 ? { title: null, orient: "right" } : null },
      order: { field: "i", type: "quantitative" },
      tooltip: [
        { field: "series", type: "nominal" },
        { field: "lo", type: "quantitative", title: "from", format: ".4~g" },
        { field: "hi", type: "quantitative", title: "to", format: ".4~g" },
        { field: "count", type: "quantitative", title: "count" },
      ],
    },
  } as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------
// Rank plot

export interface RankPlotOptions {
  readonly series: readonly NamedSpectrum[];
  readonly title: string;
  /** Subtitle (default: what is shown). Pass "" for none. */
  readonly subtitle?: string;
  /** How many of the largest eigenvalues to show per series (default 30). */
  readonly top?: number;
  /** Log y axis (default true); non-positive eigenvalues are then left out (the subtitle says how many). */
  readonly logY?: boolean;
  /** Log rank axis (default false). */
  readonly logX?: boolean;
}

/** The top-m eigenvalues of each series against their rank (1 = largest); see the module comment. */
export function rankPlot(opts: RankPlotOptions): TopLevelSpec {
  const { series, title, top = 30, logY = true, logX = false } = opts;
  const names = checkSpectra("series", series);
  if (!Number.isInteger(top) || top < 1) throw new InputError("top", `expected a positive integer, got ${top}`);
  const rows: { series: string; rank: number; eigenvalue: number }[] = [];
  let dropped = 0;
  for (const s of series) {
    const sorted = Float64Array.from(s.eigenvalues).sort().reverse().subarray(0, top);
    sorted.forEach((v, i) => {
      if (logY && v <= 0) dropped++;
      else rows.push({ series: s.name, rank: i + 1, eigenvalue: v });
    });
  }
  if (rows.length === 0) throw new InputError("series", "expected at least one positive eigenvalue among the top ones for a log axis, got none");
  let lo = Infinity, hi = -Infinity, maxRank = 1;
  for (const r of rows) { lo = Math.min(lo, r.eigenvalue); hi = Math.max(hi, r.eigenvalue); maxRank = Math.max(maxRank, r.rank); }
  const y = logY ? logAxis(lo, hi) : { scale: { type: "linear" as const, zero: false }, axis: { labelOverlap: true } };
  const xScale = logX ? { type: "log" as const, domain: [1, maxRank], nice: false } : { type: "linear" as const, domain: [0, maxRank + 1], nice: false };
  const xAxis = logX ? { values: logTicks(1, maxRank), format: "d", labelOverlap: true } : { tickMinStep: 1, format: "d", labelOverlap: true };
  const shown = Math.min(top, Math.max(...series.map((s) => s.eigenvalues.length)));
  const subtitle = opts.subtitle ??
    `the ${shown} largest eigenvalues${series.length > 1 ? " of each" : ""}` +
    (dropped ? `; ${dropped} non-positive ones left out on the log axis` : "");
  const many = names.length > 1;
  // Opaque legend symbols: the faint lines behind the points would otherwise tint them.
  const legend = many ? { title: null, orient: "right" as const, symbolOpacity: 1 } : null;
  return {
    ...specHead(title, subtitle),
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    data: { values: rows },
    encoding: {
      x: { field: "rank", type: "quantitative", title: "rank (1 = largest)", scale: xScale, axis: xAxis },
      y: { field: "eigenvalue", type: "quantitative", title: "eigenvalue", ...y },
      color: { field: "series", type: "nominal", sort: names, legend },
    },
    layer: [
      { mark: { type: "line", strokeWidth: 1, opacity: 0.6 }, encoding: { detail: { field: "series", type: "nominal" } } },
      {
        mark: { type: "point", filled: true, size: 36, opacity: 0.9 },
        encoding: {
          shape: { field: "series", type: "nominal", sort: names, scale: { range: SHAPES }, legend },
          tooltip: [
            { field: "series", type: "nominal" },
            { field: "rank", type: "quantitative" },
            { field: "eigenvalue", type: "quantitative", format: ".4~g" },
          ],
        },
      },
    ],
  } as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------
// Smoothed spectral density

export interface DensityChartOptions {
  /** Eigenvalue grid (increasing) and the density on it, same length. */
  readonly grid: ArrayLike<number>;
  readonly density: ArrayLike<number>;
  readonly title: string;
  /** Subtitle (default: the floor, and the rug if any). Pass "" for none. */
  readonly subtitle?: string;
  /** Log density axis (default true). */
  readonly logY?: boolean;
  /** On a log axis, values below floor x max(density) are drawn at that level (default 1e-6). */
  readonly floor?: number;
  /** Exact eigenvalues, drawn as a rug of ticks along the bottom (optional). */
  readonly eigenvalues?: ArrayLike<number>;
  /** Eigenvalue axis: "linear" (default) or "symlog". */
  readonly xScale?: "linear" | "symlog";
  /** Symlog constant (default: median |eigenvalue| of the rug, else the density's median |x|). */
  readonly symlogConstant?: number;
  readonly xTitle?: string;
  readonly yTitle?: string;
}

/** Median of |x| under the density (trapezoid weights): the bulk's scale for a symlog axis. */
function densityMedianAbs(grid: ArrayLike<number>, density: ArrayLike<number>): number {
  const pts = Array.from(grid, (x, i) => ({ a: Math.abs(x), w: Math.max(0, density[i]) }))
    .map((p, i, arr) => ({ a: p.a, w: p.w * ((i > 0 ? grid[i] - grid[i - 1] : 0) + (i < arr.length - 1 ? grid[i + 1] - grid[i] : 0)) }))
    .sort((p, q) => p.a - q.a);
  const total = pts.reduce((s, p) => s + p.w, 0);
  let acc = 0;
  for (const p of pts) {
    acc += p.w;
    if (acc >= total / 2 && p.a > 0) return p.a;
  }
  const maxAbs = Math.max(...pts.map((p) => p.a));
  return maxAbs > 0 ? 1e-3 * maxAbs : 1;
}

/** 1e-6 as "1e-6", 0.01 as "0.01". */
const floorText = (f: number) => (f < 1e-3 ? f.toExponential().replace(/\.?0*e/, "e").replace("e-", "e−") : fmt(f));

/** A smoothed spectral density (e.g. SLQ), log y with a documented floor; see the module comment. */
export function densityChart(opts: DensityChartOptions): TopLevelSpec {
  const { grid, density, title, logY = true, floor = 1e-6, xScale = "linear", eigenvalues } = opts;
  if (grid.length < 2) throw new InputError("grid", `expected at least 2 points, got ${grid.length}`);
  if (density.length !== grid.length) throw new InputError("density", `expected ${grid.length} values (one per grid point), got ${density.length}`);
  requireFinite("grid", grid);
  requireFinite("density", density);
  for (let i = 1; i < grid.length; i++) {
    if (!(grid[i] > grid[i - 1])) throw new InputError("grid", `expected increasing values, got ${grid[i - 1]} then ${grid[i]} at index ${i}`);
  }
  if (!(floor > 0 && floor < 1)) throw new InputError("floor", `expected a number in (0, 1), got ${floor}`);
  requireOneOf("xScale", xScale, ["linear", "symlog"]);
  if (eigenvalues) requireFinite("eigenvalues", eigenvalues);
  let maxD = 0;
  for (let i = 0; i < density.length; i++) maxD = Math.max(maxD, density[i]);
  if (!(maxD > 0)) throw new InputError("density", "expected some positive density, got none");

  const level = floor * maxD;
  let clipped = 0;
  const rows = Array.from(grid, (x, i) => {
    const d = density[i];
    if (logY && d < level) clipped++;
    return { x, density: logY ? Math.max(d, level) : d, value: d };
  });
  let lo = grid[0], hi = grid[grid.length - 1];
  if (eigenvalues) for (let i = 0; i < eigenvalues.length; i++) { lo = Math.min(lo, eigenvalues[i]); hi = Math.max(hi, eigenvalues[i]); }
  const c = opts.symlogConstant ?? (eigenvalues?.length ? symlogConstant(eigenvalues) : densityMedianAbs(grid, density));
  if (!(c > 0 && Number.isFinite(c))) throw new InputError("symlogConstant", `expected a positive number, got ${c}`);
  const x = eigenvalueAxis(xScale, [lo, hi], c, opts.xTitle ?? "eigenvalue");

  const yDomainLo = 10 ** Math.floor(Math.log10(level));
  const y = logY
    ? { scale: { type: "log" as const, domain: [yDomainLo, 10 ** Math.ceil(Math.log10(maxD))], nice: false }, axis: { values: logTicks(yDomainLo, 10 ** Math.ceil(Math.log10(maxD))), labelExpr: LOG_LABEL_EXPR, labelOverlap: true } }
    : { scale: { type: "linear" as const, zero: true }, axis: { labelOverlap: true } };
  const notes: string[] = [];
  if (logY) notes.push(`clipped below ${floorText(floor)} × max${clipped ? ` (${clipped} of ${grid.length} grid points)` : ""}`);
  if (eigenvalues?.length) notes.push(`ticks at the bottom: the ${eigenvalues.length} exact eigenvalues`);
  const subtitle = opts.subtitle ?? notes.join("; ");

  const layers: object[] = [
    {
      data: { values: rows },
      mark: { type: "area", opacity: 0.18, color: "#3a6ea5", line: false },
      encoding: {
        x: { field: "x", type: "quantitative", ...x },
        y: { field: "density", type: "quantitative", title: opts.yTitle ?? "density", ...y },
        ...(logY ? { y2: { datum: yDomainLo } } : {}),
      },
    },
    {
      data: { values: rows },
      mark: { type: "line", color: "#2b5380", strokeWidth: 1.75 },
      encoding: {
        x: { field: "x", type: "quantitative" },
        y: { field: "density", type: "quantitative" },
        tooltip: [
          { field: "x", type: "quantitative", title: "eigenvalue", format: ".4~g" },
          { field: "value", type: "quantitative", title: "density", format: ".4~g" },
        ],
      },
    },
  ];
  if (eigenvalues?.length) {
    layers.push({
      data: { values: Array.from(eigenvalues, (v) => ({ eigenvalue: v })) },
      mark: { type: "rule", color: "#b2182b", strokeWidth: 1, opacity: 0.7 },
      encoding: {
        x: { field: "eigenvalue", type: "quantitative" },
        y: { value: PANEL_HEIGHT - 12 },
        y2: { value: PANEL_HEIGHT },
        tooltip: [{ field: "eigenvalue", type: "quantitative", format: ".4~g" }],
      },
    });
  }
  return {
    ...specHead(title, subtitle),
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    layer: layers,
  } as TopLevelSpec;
}
