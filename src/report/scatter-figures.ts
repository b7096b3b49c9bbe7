/**
 * Scatter plots with reference lines, as a Vega-Lite spec with the data inline (style of
 * figures.ts): e.g. the number of outliers against the number of clusters k, with y = k and
 * y = k - 1 drawn for comparison.
 *
 * Points are coloured and shaped by series (shapes keep series apart in black-and-white print);
 * `line: true` joins each series' points in x order. A reference line y = slope x + intercept is
 * drawn grey across the points' x range, each with its own dash pattern, named in a legend (a label
 * at the line's end would sit on the data that follow it); on a log axis it is sampled at 64 points (it is a curve there) and its non-positive part left out.
 * Axes whose values are all integers get integer ticks.
 */
import type { TopLevelSpec } from "vega-lite";
import { InputError } from "../errors.ts";
import { PANEL_HEIGHT, PANEL_WIDTH } from "./figures.ts";
import { integerAxisIfIntegral, logAxis, SHAPES, specHead } from "./figure-parts.ts";

export interface ScatterPoint {
  readonly x: number;
  readonly y: number;
  /** Series name (legend); points without one form a single unnamed series. */
  readonly series?: string;
}

export interface ReferenceLine {
  /** Name in the legend, e.g. "y = k". */
  readonly name: string;
  readonly slope: number;
  readonly intercept: number;
}

export interface ScatterChartOptions {
  readonly points: readonly ScatterPoint[];
  readonly xTitle: string;
  readonly yTitle: string;
  readonly title: string;
  readonly subtitle?: string;
  /** Log x / y axes (default false); points with a non-positive coordinate on one are an error. */
  readonly logX?: boolean;
  readonly logY?: boolean;
  /** Join each series' points in x order (default false). */
  readonly line?: boolean;
  readonly referenceLines?: readonly ReferenceLine[];
}

const REFERENCE_DASHES = [[6, 4], [2, 3], [10, 3, 2, 3], [1, 5]];

/**
 * A linear axis with a little padding. Integer data (counts, k) get integer ticks and no "nice"
 * widening, which would add ticks beyond the data (k = 1 and 11 around k = 2..10).
 */
function linearAxis(values: number[]) {
  const integral = integerAxisIfIntegral(values);
  const isInt = "format" in integral;
  return { scale: { zero: false, nice: !isInt, padding: 12 }, axis: { labelOverlap: true, ...integral } };
}

/** Points by series, optional reference lines; see the module comment. */
export function scatterChart(opts: ScatterChartOptions): TopLevelSpec {
  const { points, xTitle, yTitle, title, logX = false, logY = false, line = false, referenceLines = [] } = opts;
  if (points.length === 0) throw new InputError("points", "expected at least one point, got none");
  const names: string[] = [];
  const rows = points.map((p, i) => {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new InputError("points", `expected finite x and y, got (${p.x}, ${p.y}) at index ${i}`);
    if ((logX && p.x <= 0) || (logY && p.y <= 0)) throw new InputError("points", `expected positive coordinates on a log axis, got (${p.x}, ${p.y}) at index ${i}`);
    const series = p.series ?? "";
    if (!names.includes(series)) names.push(series);
    return { series, x: p.x, y: p.y };
  });
  const xs = rows.map((r) => r.x), ys = rows.map((r) => r.y);
  const xLo = Math.min(...xs), xHi = Math.max(...xs);

  // Reference lines, sampled over the points' x range.
  const refRows: { name: string; i: number; x: number; y: number }[] = [];
  const seen = new Set<string>();
  for (const r of referenceLines) {
    if (!r.name || seen.has(r.name)) throw new InputError("referenceLines", `expected distinct non-empty names, got ${JSON.stringify(r.name)}`);
    seen.add(r.name);
    if (!Number.isFinite(r.slope) || !Number.isFinite(r.intercept)) {
      throw new InputError("referenceLines", `expected a finite slope and intercept for ${JSON.stringify(r.name)}, got ${r.slope} and ${r.intercept}`);
    }
    const n = logX || logY ? 64 : 2;
    for (let i = 0; i < n; i++) {
      const f = i / (n - 1);
      const x = logX ? xLo * (xHi / xLo) ** f : xLo + (xHi - xLo) * f;
      const y = r.slope * x + r.intercept;
      if (logY && y <= 0) continue;
      refRows.push({ name: r.name, i, x, y });
    }
  }
  const refNames = [...seen];

  const allY = [...ys, ...refRows.map((r) => r.y)];
  const xEnc = {
    field: "x",
    type: "quantitative" as const,
    title: xTitle,
    ...(logX
      ? logAxis(xLo, xHi)
      : linearAxis(xs)),
  };
  const yEnc = {
    field: "y",
    type: "quantitative" as const,
    title: yTitle,
    ...(logY
      ? logAxis(Math.min(...allY), Math.max(...allY))
      : linearAxis(ys)),
  };
  const many = names.length > 1;
  const legend = many ? { title: null, orient: "right" as const } : null;
  const color = { field: "series", type: "nominal" as const, sort: names, legend };

  const layers: object[] = [];
  if (refRows.length) {
    layers.push(
      {
        data: { values: refRows },
        mark: { type: "line", color: "#777", strokeWidth: 1.25, clip: true },
        encoding: {
          x: xEnc,
          y: yEnc,
          detail: { field: "name", type: "nominal" },
          order: { field: "i", type: "quantitative" },
          strokeDash: {
            field: "name",
            type: "nominal",
            sort: refNames,
            scale: { range: REFERENCE_DASHES },
            legend: { title: null, orient: "right", symbolType: "stroke", symbolStrokeColor: "#777", symbolStrokeWidth: 1.5, symbolSize: 300 },
          },
        },
      },
    );
  }
  if (line) {
    layers.push({
      data: { values: rows },
      mark: { type: "line", strokeWidth: 1.5 },
      encoding: { x: xEnc, y: yEnc, color, detail: { field: "series", type: "nominal" } },
    });
  }
  layers.push({
    data: { values: rows },
    mark: { type: "point", filled: true, size: 64, opacity: 0.9 },
    encoding: {
      x: xEnc,
      y: yEnc,
      color,
      shape: { field: "series", type: "nominal", sort: names, scale: { range: SHAPES }, legend },
      tooltip: [
        ...(many ? [{ field: "series", type: "nominal" }] : []),
        { field: "x", type: "quantitative", title: xTitle, format: ".4~g" },
        { field: "y", type: "quantitative", title: yTitle, format: ".4~g" },
      ],
    },
  });
  return {
    ...specHead(title, opts.subtitle),
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    layer: layers,
    resolve: { scale: { strokeDash: "independent" } },
  } as TopLevelSpec;
}
