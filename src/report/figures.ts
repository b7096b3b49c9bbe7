/**
 * Vega-Lite specs for curvlab's figures: pure functions from results to JSON specs with the data
 * inline, so the same spec renders in Node (render.ts: SVG and PNG) and in the browser lab.
 *
 * Eigenvalue histograms are pre-binned here on the host rather than by Vega-Lite's `bin`
 * transform: the spec stays small (one row per non-empty bin, not one per eigenvalue), the bins
 * are exactly the ones the caption states, and the symmetric-log panel can bin in its own
 * coordinates. Binning rule: `bins` equal-width bins spanning exactly [min, max] of the values
 * (the maximum falls in the last bin); default bins = ceil(sqrt(n)) clamped to [10, 100]. In the
 * symmetric-log panel the bins are equal-width in t = sign(x) log(1 + |x|/c), with c the median
 * |eigenvalue|, so they look equally wide on that axis: linear within about ±c (the bulk), and
 * logarithmic beyond it (the outliers).
 *
 * Counts use a log y scale by default: a Hessian spectrum has a bulk of thousands of eigenvalues
 * near zero and a handful of outliers, and on a linear count axis the outliers' bars (count 1)
 * vanish. Bars start at 0.5 on the log axis so that a single eigenvalue still draws a bar.
 *
 * Styling (fonts, sizes) is for figures placed at about one column width in a paper.
 */
import type { TopLevelSpec } from "vega-lite";
import { InputError } from "../errors.ts";

/** Font stack of every figure. Roboto is what the Node renderer embeds; the rest are for browsers. */
export const FIGURE_FONT = "Roboto, 'Helvetica Neue', Arial, sans-serif";

/** Width and height of one plot panel, in CSS pixels (the PNG doubles them by default). */
export const PANEL_WIDTH = 380;
export const PANEL_HEIGHT = 240;

/** The Vega-Lite schema every spec names. */
export const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/**
 * Label format for explicit tick values (0.001, 0.5, 10, 200). The precision must be explicit:
 * with a bare "~g", Vega derives it from the tick spacing and writes 10 as "1e+1".
 */
export const TICK_FORMAT = ".4~g";

/** Shared look: larger type than Vega-Lite's defaults (readable when printed), light grid. */
export function paperConfig() {
  return {
    font: FIGURE_FONT,
    background: "white",
    view: { stroke: null },
    axis: {
      labelFontSize: 12,
      titleFontSize: 13,
      titleFontWeight: "normal" as const,
      labelColor: "#222",
      titleColor: "#111",
      domainColor: "#444",
      tickColor: "#444",
      gridColor: "#e8e8e8",
      titlePadding: 8,
    },
    title: {
      fontSize: 15,
      fontWeight: "bold" as const,
      subtitleFontSize: 12,
      subtitleColor: "#555",
      anchor: "start" as const,
      offset: 10,
    },
    header: { labelFontSize: 13, titleFontSize: 13 },
    legend: { labelFontSize: 12, titleFontSize: 12, symbolStrokeWidth: 2.5 },
    bar: { color: "#3a6ea5" },
    line: { strokeWidth: 1.75 },
  };
}

// ---------------------------------------------------------------------------------------------
// Binning (host side)

/** One histogram bin [lo, hi) (the last one is closed) and how many values fell in it. */
export interface HistogramBin {
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
}

/** Default bin count for n values: the square-root rule, clamped to [10, 100]. */
export function defaultBinCount(n: number): number {
  return Math.min(100, Math.max(10, Math.ceil(Math.sqrt(n))));
}

/**
 * Counts `values` in `bins` equal-width bins spanning exactly [min, max]. All bins are returned,
 * empty ones included. If every value is equal the range is widened to value ± 0.5 (± 0.5|value|
 * when that is larger) so the single bar has a width.
 */
export function equalWidthBins(values: ArrayLike<number>, bins: number): HistogramBin[] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  if (lo === hi) {
    const pad = Math.max(0.5, 0.5 * Math.abs(lo));
    lo -= pad;
    hi += pad;
  }
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    // Clamp: the maximum (and any rounding just past an edge) belongs to the last bin.
    const k = Math.min(bins - 1, Math.max(0, Math.floor((values[i] - lo) / width)));
    counts[k]++;
  }
  // Edges from the index, not by accumulating the width, so the last edge is exactly `hi`.
  const edge = (k: number) => (k === bins ? hi : lo + k * width);
  return counts.map((count, k) => ({ lo: edge(k), hi: edge(k + 1), count }));
}

/** Symmetric log: t = sign(x) log(1 + |x|/c), the transform of Vega's `symlog` scale. */
export function symlog(x: number, c: number): number {
  return Math.sign(x) * Math.log1p(Math.abs(x) / c);
}

/** Inverse of `symlog`. */
export function symexp(t: number, c: number): number {
  return Math.sign(t) * c * Math.expm1(Math.abs(t));
}

/**
 * The symmetric-log constant for a spectrum: the median |eigenvalue| (the bulk's scale), or, if
 * more than half are exactly zero, 1e-3 of the largest |eigenvalue| (1 if all are zero).
 */
export function symlogConstant(values: ArrayLike<number>): number {
  const abs = Float64Array.from(values, Math.abs).sort();
  const n = abs.length;
  const median = n % 2 ? abs[(n - 1) / 2] : 0.5 * (abs[n / 2 - 1] + abs[n / 2]);
  if (median > 0) return median;
  const max = abs[n - 1];
  return max > 0 ? 1e-3 * max : 1;
}

/** Equal-width bins in symlog coordinates, mapped back to eigenvalue units. */
export function symlogBins(values: ArrayLike<number>, bins: number, c: number): HistogramBin[] {
  const t = Float64Array.from(values, (x) => symlog(x, c));
  return equalWidthBins(t, bins).map((b) => ({ lo: symexp(b.lo, c), hi: symexp(b.hi, c), count: b.count }));
}

/** Rounds away binary noise (0.30000000000000004 -> 0.3) so tick labels format cleanly. */
const clean = (v: number) => Number(v.toPrecision(12));

/**
 * Tick values for a log axis over [lo, hi] (lo > 0): powers of ten, plus 2 and 5 times them when
 * the range spans under 2.5 decades, plus 3 times them under 1.2 decades.
 */
export function logTicks(lo: number, hi: number): number[] {
  const decades = Math.log10(hi / lo);
  const mult = decades > 2.5 ? [1] : decades > 1.2 ? [1, 2, 5] : [1, 2, 3, 5];
  const out: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    for (const m of mult) {
      const v = clean(m * 10 ** k);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
  }
  return out;
}

/**
 * Tick values for a symlog axis (constant c) over [lo, hi]. Vega's own symlog ticks are linear
 * ticks, which bunch up where the axis is compressed. Candidates, in order of preference: 0, ±10^k
 * (largest first), ±5·10^k, ±2·10^k; a candidate is kept if it lies at least a tenth of the axis
 * (in symlog units) away from every kept one.
 */
export function symlogTicks(lo: number, hi: number, c: number): number[] {
  const t = (x: number) => symlog(x, c);
  const minGap = (t(hi) - t(lo)) / 10;
  const maxAbs = Math.max(Math.abs(lo), Math.abs(hi));
  const candidates: number[] = [0];
  for (const m of [1, 5, 2]) {
    for (let k = Math.ceil(Math.log10(maxAbs)); k >= Math.floor(Math.log10(c)) - 1; k--) {
      const v = clean(m * 10 ** k);
      candidates.push(v, -v);
    }
  }
  const kept: number[] = [];
  for (const v of candidates) {
    if (v < lo || v > hi) continue;
    if (kept.every((u) => Math.abs(t(u) - t(v)) >= minGap)) kept.push(v);
  }
  return kept.sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// Eigenvalue histogram

export interface EigenvalueHistogramOptions {
  /** The spectrum (any order); all finite. */
  readonly eigenvalues: ArrayLike<number>;
  readonly title: string;
  /** Log-scaled count axis (default true). */
  readonly logCount?: boolean;
  /** Number of equal-width bins (default: ceil(sqrt(n)) clamped to [10, 100]). */
  readonly bins?: number;
  /**
   * "linear" (default): one panel, linear eigenvalue axis: the outliers stand apart from the bulk.
   * "symlog": one panel, symmetric-log eigenvalue axis: the bulk's shape and sign are visible.
   * "both": the two panels side by side, sharing the count axis.
   */
  readonly xScale?: "linear" | "symlog" | "both";
  /** Subtitle (default: "n = 505, 23 equal-width bins, range [min, max]"). Pass "" for none. */
  readonly subtitle?: string;
}

/** 3 significant digits, with a true minus sign (as on the axes). */
export const fmt = (x: number) => Number(x.toPrecision(3)).toString().replaceAll("-", "\u2212");

/** Rows of the inline data: only non-empty bins become bars. */
function barRows(bins: readonly HistogramBin[]) {
  return bins.filter((b) => b.count > 0).map((b) => ({ lo: b.lo, hi: b.hi, count: b.count }));
}

/** y scale and baseline: log counts start at 0.5 so a count of 1 draws a bar. */
function countAxis(maxCount: number, logCount: boolean) {
  if (!logCount) return { scale: { type: "linear" as const, zero: true }, base: 0, ticks: undefined };
  // Top: the first power of ten above the tallest bar (with 5% headroom).
  const top = 10 ** Math.ceil(Math.log10(maxCount * 1.05));
  return { scale: { type: "log" as const, domain: [0.5, top], nice: false }, base: 0.5, ticks: logTicks(1, top) };
}

function histogramPanel(
  rows: ReturnType<typeof barRows>,
  x: { scale: object; axis: object; title: string },
  y: ReturnType<typeof countAxis>,
  panelTitle: string | undefined,
  showYTitle: boolean,
) {
  return {
    ...(panelTitle ? { title: { text: panelTitle, fontSize: 13, fontWeight: "normal" as const } } : {}),
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    data: { values: rows },
    mark: { type: "bar" as const, binSpacing: 0, stroke: "#2b5380", strokeWidth: 0.5 },
    encoding: {
      x: { field: "lo", type: "quantitative" as const, title: x.title, scale: x.scale, axis: x.axis },
      x2: { field: "hi" },
      y: {
        field: "count",
        type: "quantitative" as const,
        title: showYTitle ? "count" : null,
        scale: y.scale,
        // Log axis: ticks at powers of ten, labelled 1, 10, 100, 1k, 10k.
        axis: { labelOverlap: true, ...(y.ticks ? { values: y.ticks, format: "~s" } : {}) },
      },
      y2: { datum: y.base },
      tooltip: [
        { field: "lo", type: "quantitative" as const, title: "from", format: ".4~g" },
        { field: "hi", type: "quantitative" as const, title: "to", format: ".4~g" },
        { field: "count", type: "quantitative" as const, title: "count" },
      ],
    },
  };
}

/**
 * Histogram of a Hessian spectrum (x: eigenvalue, y: count), pre-binned on the host; see the
 * module comment for the binning rule and scales.
 */
export function eigenvalueHistogram(opts: EigenvalueHistogramOptions): TopLevelSpec {
  const { eigenvalues: ev, title, logCount = true, xScale = "linear" } = opts;
  if (ev.length === 0) throw new InputError("eigenvalues", "expected at least one eigenvalue, got none");
  for (let i = 0; i < ev.length; i++) {
    if (!Number.isFinite(ev[i])) throw new InputError("eigenvalues", `expected finite numbers, got ${ev[i]} at index ${i}`);
  }
  const bins = opts.bins ?? defaultBinCount(ev.length);
  if (!Number.isInteger(bins) || bins < 1 || bins > 10_000) {
    throw new InputError("bins", `expected an integer from 1 to 10000, got ${bins}`);
  }
  if (!["linear", "symlog", "both"].includes(xScale)) {
    throw new InputError("xScale", `expected "linear", "symlog" or "both", got ${JSON.stringify(xScale)}`);
  }
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < ev.length; i++) { min = Math.min(min, ev[i]); max = Math.max(max, ev[i]); }
  const subtitle = opts.subtitle ?? `n = ${ev.length}, ${bins} equal-width bins, range [${fmt(min)}, ${fmt(max)}]`;

  const panels: object[] = [];
  let maxCount = 0;
  const linBins = xScale !== "symlog" ? equalWidthBins(ev, bins) : [];
  const c = symlogConstant(ev);
  const logBins = xScale !== "linear" ? symlogBins(ev, bins, c) : [];
  for (const b of [...linBins, ...logBins]) maxCount = Math.max(maxCount, b.count);
  const y = countAxis(maxCount, logCount);
  const two = xScale === "both";

  if (linBins.length) {
    const domain = [linBins[0].lo, linBins[linBins.length - 1].hi];
    panels.push(histogramPanel(
      barRows(linBins),
      {
        title: "eigenvalue",
        scale: { type: "linear", domain, nice: false, zero: false, padding: 6 },
        axis: { labelOverlap: true },
      },
      y, two ? "linear axis" : undefined, true,
    ));
  }
  if (logBins.length) {
    const domain = [logBins[0].lo, logBins[logBins.length - 1].hi];
    panels.push(histogramPanel(
      barRows(logBins),
      {
        title: `eigenvalue (symmetric log, linear within ±${fmt(c)})`,
        scale: { type: "symlog", constant: c, domain, nice: false, zero: false, padding: 6 },
        axis: { values: symlogTicks(domain[0], domain[1], c), format: TICK_FORMAT, labelOverlap: true, grid: true },
      },
      y, two ? "symmetric-log axis" : undefined, !two,
    ));
  }

  const head = {
    $schema: SCHEMA,
    title: subtitle ? { text: title, subtitle } : { text: title },
    config: paperConfig(),
  };
  if (panels.length === 1) return { ...head, ...panels[0] } as TopLevelSpec;
  return { ...head, hconcat: panels, spacing: 24, resolve: { scale: { y: "shared" } } } as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------
// Line chart

export interface LineSeries {
  readonly name: string;
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  /** Colour group (default: the series' own name): series of one group share a colour. */
  readonly group?: string;
  /** Dashed line (e.g. a reference level for the solid line of the same group). */
  readonly dashed?: boolean;
}

export interface LineChartOptions {
  readonly series: readonly LineSeries[];
  readonly xTitle: string;
  readonly yTitle: string;
  readonly title: string;
  /** Log-scaled y axis (default false). Points with y <= 0 are then left out. */
  readonly logY?: boolean;
  /** Log-scaled x axis (default false). Points with x <= 0 are then left out. */
  readonly logX?: boolean;
  /** Legend labels of the solid and the dashed lines when some series are dashed. */
  readonly lineStyles?: { readonly solid: string; readonly dashed: string };
  readonly subtitle?: string;
}

/**
 * Training curves (loss, accuracy, sharpness, ... against step or epoch): one line per series,
 * coloured by name, legend on the right when there is more than one. A point whose y is not
 * finite (a diverged run) is left out, so the line simply ends there; x must be finite.
 */
export function lineChart(opts: LineChartOptions): TopLevelSpec {
  const { series, xTitle, yTitle, title, logY = false, logX = false } = opts;
  if (series.length === 0) throw new InputError("series", "expected at least one series, got none");
  const names = new Set<string>();
  const rows: { series: string; group?: string; style?: string; x: number; y: number }[] = [];
  const styles = opts.lineStyles ?? { solid: "solid", dashed: "dashed" };
  // Rows carry a group and a style only when some series use them.
  const grouped = series.some((s) => s.group !== undefined && s.group !== s.name);
  const anyDashed = series.some((s) => s.dashed);
  for (const s of series) {
    if (names.has(s.name)) throw new InputError("series", `duplicate series name ${JSON.stringify(s.name)}`);
    names.add(s.name);
    if (s.x.length !== s.y.length) {
      throw new InputError(`series ${JSON.stringify(s.name)}`, `x and y must have the same length, got ${s.x.length} and ${s.y.length}`);
    }
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i], y = s.y[i];
      if (!Number.isFinite(x)) throw new InputError(`series ${JSON.stringify(s.name)}`, `expected finite x, got ${x} at index ${i}`);
      if (!Number.isFinite(y) || (logY && y <= 0) || (logX && x <= 0)) continue;
      rows.push({
        series: s.name,
        ...(grouped ? { group: s.group ?? s.name } : {}),
        ...(anyDashed ? { style: s.dashed ? styles.dashed : styles.solid } : {}),
        x, y,
      });
    }
  }
  if (rows.length === 0) throw new InputError("series", `expected at least one point with finite${logY ? ", positive" : ""} y, got none`);
  const groups = [...new Set(series.map((s) => s.group ?? s.name))];
  const many = groups.length > 1;
  let yTicks: number[] | undefined;
  if (logY) {
    let lo = Infinity, hi = -Infinity;
    for (const r of rows) { lo = Math.min(lo, r.y); hi = Math.max(hi, r.y); }
    // Vega "nices" a log domain out to powers of ten; tick the same range.
    yTicks = logTicks(10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi)));
  }
  return {
    $schema: SCHEMA,
    title: opts.subtitle ? { text: title, subtitle: opts.subtitle } : { text: title },
    config: paperConfig(),
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    data: { values: rows },
    mark: { type: "line", clip: true },
    encoding: {
      x: {
        field: "x", type: "quantitative", title: xTitle,
        scale: logX ? { type: "log", nice: false } : { zero: false, nice: true }, axis: { labelOverlap: true },
      },
      y: {
        field: "y",
        type: "quantitative",
        title: yTitle,
        scale: logY ? { type: "log" } : { zero: false },
        axis: { labelOverlap: true, ...(yTicks ? { values: yTicks, format: TICK_FORMAT } : {}) },
      },
      color: {
        field: grouped ? "group" : "series",
        type: "nominal",
        // Keep the caller's order (the legend and the colours follow it).
        sort: groups,
        legend: many ? { title: null, orient: "right" } : null,
      },
      ...(anyDashed
        ? {
            strokeDash: {
              field: "style", type: "nominal",
              scale: { domain: [styles.solid, styles.dashed], range: [[1, 0], [6, 4]] },
              legend: { title: null, orient: "right" },
            },
          }
        : {}),
      // Several series in one colour group: one line each.
      ...(groups.length < series.length ? { detail: { field: "series", type: "nominal" } } : {}),
      tooltip: [
        { field: "series", type: "nominal" },
        { field: "x", type: "quantitative", format: ".4~g" },
        { field: "y", type: "quantitative", format: ".4~g" },
      ],
    },
  } as TopLevelSpec;
}
