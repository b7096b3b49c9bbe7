/**
 * Quantities along a path between two solutions, as a Vega-Lite spec with the data inline (style
 * of figures.ts): loss and accuracy, or the top eigenvalue and the trace, along the straight line
 * theta(alpha) = (1 - alpha) theta_0 + alpha theta_1, alpha from -0.5 to 1.5 (the linear
 * interpolation of Goodfellow et al. 2015, used by Keskar et al. 2017 and Sagun et al. 2017 to
 * join small- and large-batch solutions).
 *
 * One panel (`series` + `yTitle`) or several stacked on a shared alpha axis (`panels`), each with
 * its own y axis, log or not, and its own legend. Dashed vertical rules mark the two solutions
 * (default alpha = 0 and 1, labelled "alpha = 0" and "alpha = 1"; pass names such as "small batch"
 * and "large batch"); their labels are written once, above the first panel, centred on the
 * rules. A non-finite value (a diverged loss far out on the line), or a non-positive one on a log
 * axis, is left out, so the line ends there.
 */
import type { TopLevelSpec } from "vega-lite";
import { InputError } from "../errors.ts";
import { PANEL_HEIGHT, PANEL_WIDTH } from "./figures.ts";
import { logAxis, requireFinite, requireNames, specHead } from "./figure-parts.ts";

export interface PathSeries {
  readonly name: string;
  /** One value per alpha. */
  readonly values: ArrayLike<number>;
}

export interface PathPanel {
  readonly yTitle: string;
  readonly series: readonly PathSeries[];
  /** Log y axis (default false). */
  readonly logY?: boolean;
}

export interface PathMarker {
  readonly alpha: number;
  readonly label: string;
}

export interface PathChartOptions {
  /** Interpolation coefficients, increasing. */
  readonly alpha: ArrayLike<number>;
  readonly title: string;
  readonly subtitle?: string;
  /** Default "α  (θ = (1 − α) θ(0) + α θ(1))". */
  readonly xTitle?: string;
  /** Vertical rules (default α = 0 and α = 1); [] for none. */
  readonly markers?: readonly PathMarker[];
  /** One panel: its y title, series and log flag. Give these or `panels`, not both. */
  readonly yTitle?: string;
  readonly series?: readonly PathSeries[];
  readonly logY?: boolean;
  /** Several panels stacked on the shared alpha axis. */
  readonly panels?: readonly PathPanel[];
}

// Plain characters only: Roboto has Greek letters but no subscript digits, and a missing glyph
// makes the whole title fall back to another font in the PNG.
const DEFAULT_X_TITLE = "α  (θ = (1 − α) θ(0) + α θ(1))";
/** Shorter panels when stacked, so two fit a page column. */
const STACKED_HEIGHT = Math.round(PANEL_HEIGHT * 0.75);

/** Rough width of a marker label at 11 px (Roboto averages about 0.55 em a character). */
const labelWidth = (label: string) => 6 * label.length;

/**
 * Marker labels above the first panel, centred on their rules, outside the plot where they cannot
 * cover the data. A label that would overlap the previous one in its row goes to the next row up.
 */
function markerLabels(markers: readonly PathMarker[], domain: number[]): object[] {
  const px = (a: number) => ((a - domain[0]) / (domain[1] - domain[0])) * PANEL_WIDTH;
  const rowEnds: number[] = [];
  const rows = [...markers].sort((m, n) => m.alpha - n.alpha).map((m) => {
    const half = labelWidth(m.label) / 2 + 4;
    let row = rowEnds.findIndex((end) => px(m.alpha) - half >= end);
    if (row < 0) { row = rowEnds.length; rowEnds.push(-Infinity); }
    rowEnds[row] = px(m.alpha) + half;
    return { alpha: m.alpha, label: m.label, row };
  });
  // One layer per row: a pixel y keeps the panel's y scale free of the labels.
  return rowEnds.map((_, row) => ({
    data: { values: rows.filter((r) => r.row === row) },
    mark: { type: "text", align: "center", baseline: "bottom", fontSize: 11, color: "#444" },
    encoding: {
      x: { field: "alpha", type: "quantitative" },
      y: { value: -4 - 15 * row },
      text: { field: "label", type: "nominal" },
    },
  }));
}

/** Loss, accuracy, curvature... along the line between two solutions; see the module comment. */
export function pathChart(opts: PathChartOptions): TopLevelSpec {
  const { alpha, title } = opts;
  if (alpha.length < 2) throw new InputError("alpha", `expected at least 2 values, got ${alpha.length}`);
  requireFinite("alpha", alpha);
  for (let i = 1; i < alpha.length; i++) {
    if (!(alpha[i] > alpha[i - 1])) throw new InputError("alpha", `expected increasing values, got ${alpha[i - 1]} then ${alpha[i]} at index ${i}`);
  }
  if (opts.panels && opts.series) throw new InputError("panels", "give either panels or series, not both");
  let panels: readonly PathPanel[];
  if (opts.panels) {
    if (opts.panels.length === 0) throw new InputError("panels", "expected at least one panel, got none");
    panels = opts.panels;
  } else {
    if (!opts.series) throw new InputError("series", "expected series (with yTitle) or panels");
    panels = [{ yTitle: opts.yTitle ?? "value", series: opts.series, logY: opts.logY }];
  }
  const markers = opts.markers ?? [{ alpha: 0, label: "α = 0" }, { alpha: 1, label: "α = 1" }];
  for (const m of markers) {
    if (!Number.isFinite(m.alpha)) throw new InputError("markers", `expected a finite alpha, got ${m.alpha} for ${JSON.stringify(m.label)}`);
  }
  const domain = [alpha[0], alpha[alpha.length - 1]];
  const stacked = panels.length > 1;
  const x = {
    field: "alpha",
    type: "quantitative" as const,
    title: opts.xTitle ?? DEFAULT_X_TITLE,
    scale: { domain, nice: false, zero: false },
    axis: { labelOverlap: true },
  };

  const labelLayers = markerLabels(markers, domain);
  const specs = panels.map((panel, p) => {
    const input = stacked ? `panels[${p}]` : "series";
    const names = requireNames(input, panel.series);
    const logY = panel.logY ?? false;
    const rows: { series: string; alpha: number; value: number }[] = [];
    for (const s of panel.series) {
      if (s.values.length !== alpha.length) {
        throw new InputError(`${input} ${JSON.stringify(s.name)}`, `expected ${alpha.length} values (one per alpha), got ${s.values.length}`);
      }
      for (let i = 0; i < alpha.length; i++) {
        const v = s.values[i];
        if (Number.isFinite(v) && !(logY && v <= 0)) rows.push({ series: s.name, alpha: alpha[i], value: v });
      }
    }
    if (rows.length === 0) throw new InputError(input, `expected at least one finite${logY ? ", positive" : ""} value, got none`);
    let lo = Infinity, hi = -Infinity;
    for (const r of rows) { lo = Math.min(lo, r.value); hi = Math.max(hi, r.value); }
    const y = logY ? logAxis(lo, hi) : { scale: { zero: false, nice: true }, axis: { labelOverlap: true } };
    const layers: object[] = [];
    if (markers.length) {
      const markerRows = markers.map((m) => ({ alpha: m.alpha, label: m.label }));
      layers.push({
        data: { values: markerRows },
        mark: { type: "rule", color: "#888", strokeDash: [5, 4], strokeWidth: 1 },
        encoding: { x: { field: "alpha", type: "quantitative" } },
      });
      if (p === 0) layers.push(...labelLayers);
    }
    layers.push({
      data: { values: rows },
      mark: { type: "line", point: { filled: true, size: 18 }, clip: true },
      encoding: {
        // Stacked: the alpha axis is titled once, under the last panel.
        x: stacked && p < panels.length - 1 ? { ...x, title: null } : x,
        y: { field: "value", type: "quantitative", title: panel.yTitle, ...y },
        color: {
          field: "series",
          type: "nominal",
          sort: names,
          // A panel's only series is named by its y title: no legend needed.
          legend: names.length > 1 ? { title: null, orient: "right" } : null,
        },
        tooltip: [
          { field: "series", type: "nominal" },
          { field: "alpha", type: "quantitative", title: "α", format: ".3~g" },
          { field: "value", type: "quantitative", title: panel.yTitle, format: ".4~g" },
        ],
      },
    });
    return {
      width: PANEL_WIDTH,
      height: stacked ? STACKED_HEIGHT : PANEL_HEIGHT,
      layer: layers,
    };
  });

  // The title sits above the marker labels by itself: Vega places it off the bounds of the marks.
  const head = specHead(title, opts.subtitle);
  if (!stacked) return { ...head, ...specs[0] } as TopLevelSpec;
  return {
    ...head,
    vconcat: specs,
    spacing: 16,
    resolve: { scale: { x: "shared", color: "independent" }, legend: { color: "independent" } },
  } as TopLevelSpec;
}
