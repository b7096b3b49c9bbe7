/**
 * Part b: data fixed, parameters swept. Sagun et al.: "increasing the number of parameters merely
 * scales the bulk". The same mixture, one-hidden-layer MLPs of several widths trained alike; for
 * each, the dense Hessian spectrum and its bulk / outlier reading. Reported: how the outliers
 * move (count, and the factor by which their mean changes over the sweep) against how the bulk
 * changes (its eigenvalue count, which follows the parameter count, its robust scale and top).
 * "The outliers stay" is judged as: the same count at every width, and their mean moving by less
 * than the square root of the parameter ratio. They do move some (x1.9 for 10x the parameters,
 * x2.4 for 16x, measured), as the output Jacobian's norm grows with the width under PyTorch's
 * default initialization; the criterion asks that they move much less than anything that scales
 * with the parameters (the bulk's size moves x10 and x16).
 */
import { rankPlot, spectrumOverlay } from "../../report/spectrum-figures.ts";
import { scatterChart } from "../../report/scatter-figures.ts";
import { sig, type StudyContext } from "./context.ts";
import type { ReportVerdict } from "../../report/html.ts";
import { mean } from "../../spectrum/values.ts";
import { flatRow, sweepPoint, type SweepPoint, type StudyPart } from "./part.ts";
import { gmmSpecOf, mlpSpecOf, PART_TITLES } from "./settings.ts";

/** max/min of positive numbers (1 when fewer than two). */
export function spreadFactor(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x) && x > 0);
  return v.length < 2 ? 1 : Math.max(...v) / Math.min(...v);
}

export interface PartBData {
  readonly points: readonly SweepPoint[];
  /** Outlier count of each width. */
  readonly outlierCounts: readonly number[];
  /** Mean of the top-m eigenvalues at each width, m = the most common outlier count. */
  readonly outlierMeans: readonly number[];
  readonly m: number;
  readonly parameterFactor: number;
  readonly outlierFactor: number;
  readonly bulkCountFactor: number;
  readonly bulkScaleFactor: number;
  readonly bulkTopFactor: number;
}

export function mode(xs: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  let best = xs[0], bestCount = 0;
  for (const [x, c] of counts) if (c > bestCount || (c === bestCount && x < best)) [best, bestCount] = [x, c];
  return best;
}

/** Mean of the m largest eigenvalues of an ascending list. */
export function topMean(ascending: readonly number[], m: number): number {
  return mean(ascending.slice(Math.max(0, ascending.length - m)));
}

export function summarizeWidthSweep(points: readonly SweepPoint[]): Omit<PartBData, "points"> {
  const outlierCounts = points.map((p) => p.reading.outlierCount);
  const m = Math.max(1, mode(outlierCounts));
  const outlierMeans = points.map((p) => topMean(p.eigenvalues, m));
  return {
    outlierCounts,
    outlierMeans,
    m,
    parameterFactor: spreadFactor(points.map((p) => p.parameters)),
    outlierFactor: spreadFactor(outlierMeans),
    bulkCountFactor: spreadFactor(points.map((p) => p.reading.bulkCount)),
    bulkScaleFactor: spreadFactor(points.map((p) => p.reading.bulkScale)),
    bulkTopFactor: spreadFactor(points.map((p) => p.reading.bulkMax)),
  };
}

/** Part b's verdicts from its points alone (tested on spectra where each must fail). */
export function widthVerdicts(widths: readonly number[], points: readonly SweepPoint[], sum = summarizeWidthSweep(points)): ReportVerdict[] {
  const sameCount = sum.outlierCounts.every((c) => c === sum.m);
  const bulkShrink = points[0].reading.bulkScale / points[points.length - 1].reading.bulkScale;
  return [
    {
      claim: "With the data fixed, the outliers stay as the parameters grow",
      holds: sameCount && sum.outlierFactor < Math.sqrt(sum.parameterFactor),
      text:
        `Outlier counts ${sum.outlierCounts.join(", ")} for widths ${widths.join(", ")} ` +
        `(${points.map((p) => p.parameters).join(", ")} parameters, x${sig(sum.parameterFactor, 3)}); ` +
        `the mean of the top ${sum.m} eigenvalues moves by x${sig(sum.outlierFactor, 3)} over the sweep ` +
        `(${sum.outlierMeans.map((x) => sig(x, 3)).join(", ")}), against the bound x${sig(Math.sqrt(sum.parameterFactor), 3)} ` +
        `(the square root of the parameter ratio: half the parameters' change on a log scale).`,
    },
    {
      claim: "With the data fixed, more parameters scale the bulk",
      holds: sum.bulkCountFactor >= 0.8 * sum.parameterFactor && bulkShrink > 1,
      text:
        `The bulk's eigenvalue count grows x${sig(sum.bulkCountFactor, 3)} with the parameters (x${sig(sum.parameterFactor, 3)}) ` +
        `while its width (1.48 MAD) goes from ${sig(points[0].reading.bulkScale, 3)} to ${sig(points[points.length - 1].reading.bulkScale, 3)} ` +
        `(x${sig(1 / bulkShrink, 3)}): the added directions go into the bulk, which concentrates nearer zero; its top moves x${sig(sum.bulkTopFactor, 3)}.`,
    },
  ];
}

export const partB: StudyPart<PartBData> = {
  id: "b",
  async run(ctx: StudyContext) {
    const t0 = performance.now();
    const s = ctx.settings;
    const data = gmmSpecOf(s);
    const points: SweepPoint[] = [];
    for (const w of s.widths) points.push(await sweepPoint(ctx, `b: width ${w}`, mlpSpecOf(s, { hidden: w }), data));
    const sum = summarizeWidthSweep(points);
    const verdicts = widthVerdicts(s.widths, points, sum);
    return {
      id: "b",
      title: PART_TITLES.b,
      intro: `The same data (${data}); hidden widths ${s.widths.join(", ")}, each trained as in part a; dense Hessian spectra.`,
      verdicts,
      tables: [{
        title: "Width sweep",
        rows: points.map((p, i) => ({ width: s.widths[i], parameters: p.parameters, "train acc": sig(p.trainAccuracy, 3), ...flatRow(p.reading) })),
      }],
      data: { points, ...sum },
      settings: { data, widths: s.widths, training: s.training },
      seconds: (performance.now() - t0) / 1000,
    };
  },
  figures(r) {
    const pts = r.data.points;
    const named = pts.map((p) => ({ name: `${p.parameters} params`, eigenvalues: p.eigenvalues }));
    return [
      {
        name: "b-overlay",
        title: "Spectra across widths",
        caption: "Eigenvalue distributions (fraction of eigenvalues per bin, symmetric-log axis) for each hidden width: the mass near zero grows with the parameters; the right tail (the outliers) stays in place.",
        spec: spectrumOverlay({ spectra: named, title: "Hessian spectra, data fixed", subtitle: pts[0].data, xScale: "symlog", normalize: "fraction" }),
      },
      {
        name: "b-paper",
        title: "Spectra across widths, on the paper's axes",
        caption: "The same spectra as Sagun et al. draw them: counts per bin on a log axis against the eigenvalue on a linear axis. The bin at zero fills with the added parameters; the few values on the right stay where they were.",
        spec: spectrumOverlay({ spectra: named, title: "Hessian spectra, data fixed, widths swept", subtitle: pts[0].data, xScale: "linear", normalize: "count" }),
      },
      {
        name: "b-top",
        title: "Top eigenvalues across widths",
        caption: "The largest eigenvalues of each width in order (log scale).",
        spec: rankPlot({ series: named, title: "Largest eigenvalues, data fixed", top: 30, logY: true }),
      },
      {
        name: "b-outliers-vs-parameters",
        title: "Outliers and bulk vs parameters",
        caption: `Mean of the top ${r.data.m} eigenvalues (outliers) and the bulk's top eigenvalue, against the parameter count.`,
        spec: scatterChart({
          points: [
            ...pts.map((p, i) => ({ x: p.parameters, y: r.data.outlierMeans[i], series: `mean of top ${r.data.m}` })),
            ...pts.map((p) => ({ x: p.parameters, y: p.reading.bulkMax, series: "bulk top" })),
            ...pts.map((p) => ({ x: p.parameters, y: p.reading.bulkScale, series: "bulk scale" })),
          ],
          xTitle: "parameters", yTitle: "eigenvalue", title: "Outliers vs bulk as width grows", logX: true, logY: true, line: true,
        }),
      },
    ];
  },
};
