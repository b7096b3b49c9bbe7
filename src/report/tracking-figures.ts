/**
 * The figure of curvature during training (landscape/tracking.ts): the top Hessian eigenvalue
 * (or the largest SLQ node) beside the stability thresholds 2 / lr and (2 + 2 beta) / lr, and the
 * Hessian trace with its standard error, against the optimizer step.
 */
import type { TopLevelSpec } from "vega-lite";
import { InputError } from "../errors.ts";
import type { TrackingResult } from "../landscape/tracking.ts";
import { lineChart } from "./figures.ts";
import { pathChart } from "./path-figures.ts";

/**
 * The figure: lambda_max against step with the stability threshold lines (top panel; the SLQ
 * range's top node when only the density was tracked), and the trace with +-1 standard error on
 * a second panel when tracked.
 */
export function trackingFigure(result: TrackingResult, title = "curvature during training"): TopLevelSpec {
  const recs = result.records;
  if (recs.length === 0) throw new InputError("tracking", "no records: training ended before the first tracked step (lower --every)");
  const steps = recs.map((r) => r.step);
  const top: { name: string; values: number[] }[] = [];
  if (recs[0].lmax) top.push({ name: "λmax", values: recs.map((r) => r.lmax!.value) });
  else if (recs[0].density) top.push({ name: "largest SLQ node", values: recs.map((r) => r.density!.range.max) });
  const t = result.thresholds;
  if (top.length && t.gd !== null) top.push({ name: "2 / lr", values: steps.map(() => t.gd!) });
  if (top.length && t.momentum !== null) top.push({ name: "(2 + 2β) / lr", values: steps.map(() => t.momentum!) });
  const panels: { yTitle: string; series: { name: string; values: number[] }[] }[] = [];
  if (top.length) panels.push({ yTitle: "top Hessian eigenvalue", series: top });
  if (recs[0].trace) {
    panels.push({
      yTitle: "Hessian trace",
      series: [
        { name: "trace", values: recs.map((r) => r.trace!.value) },
        { name: "trace + s.e.", values: recs.map((r) => r.trace!.value + (r.trace!.standardError ?? NaN)) },
        { name: "trace − s.e.", values: recs.map((r) => r.trace!.value - (r.trace!.standardError ?? NaN)) },
      ],
    });
  }
  const o = result.settings.optimizer;
  const subtitle = `${result.objective}; ${o.name} lr ${o.lr}${o.name === "momentum" ? ` momentum ${o.momentum}` : ""}; every ${result.settings.every} steps`;
  if (recs.length < 2) {
    // One record: a line chart of points (pathChart needs two x values).
    const series = panels.flatMap((p) => p.series).map((s) => ({ name: s.name, x: steps, y: s.values }));
    return lineChart({ title, subtitle, xTitle: "step", yTitle: "value", series });
  }
  return pathChart({ alpha: steps, title, subtitle, xTitle: "step", markers: [], panels });
}
