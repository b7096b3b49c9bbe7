/**
 * Part a: the dense spectrum of a trained MLP on a Gaussian mixture (float64). Sagun et al.'s
 * first observation: a bulk concentrated near zero plus a few outliers; the singularity of the
 * Hessian (many near-zero eigenvalues) as a measure of flatness.
 */
import { eigenvalueHistogram } from "../../report/figures.ts";
import { rankPlot } from "../../report/spectrum-figures.ts";
import { medianSorted, sortedAscending } from "../../spectrum/values.ts";
import { sig, type StudyContext } from "./context.ts";
import type { ReportVerdict } from "../../report/html.ts";
import { flatRow, gmmTraining, sweepPoint, type StudyPart, type SweepPoint } from "./part.ts";
import { gmmSpecOf, mlpSpecOf, PART_TITLES } from "./settings.ts";

export interface PartAData extends SweepPoint {
  /** Fraction of eigenvalues with |l| <= 1% of max |l|. */
  readonly withinOnePercent: number;
}

/** Training request of the base model, shared by parts a and d. */
export function baseTraining(ctx: StudyContext) {
  return gmmTraining(ctx, mlpSpecOf(ctx.settings), gmmSpecOf(ctx.settings));
}

/** Part a's verdicts from its spectrum alone (tested on spectra where each must fail); k clusters. */
export function spectrumVerdicts(point: SweepPoint, k: number): { withinOnePercent: number; verdicts: ReportVerdict[] } {
  const eig = point.eigenvalues;
  const summary = point.reading;
  const absolute = sortedAscending(eig.map(Math.abs));
  const maxAbs = absolute[absolute.length - 1];
  const medianAbs = medianSorted(absolute);
  const withinOnePercent = eig.filter((l) => Math.abs(l) <= 0.01 * maxAbs).length / eig.length;
  const few = summary.outlierCount >= 1 && summary.outlierCount <= Math.max(2 * k, 0.05 * eig.length);
  const verdicts: ReportVerdict[] = [
    {
      claim: "The spectrum is a bulk plus a few outliers",
      holds: few,
      text:
        `${summary.outlierCount} outliers (${summary.outliers.map((x) => sig(x, 3)).join(", ")}) above a gap of ` +
        `${summary.gapRatio ?? summary.strongestGapRatio}x (distances from the bulk's center) over the bulk's top ${sig(summary.bulkMax, 3)}, ` +
        `for ${k} clusters and ${eig.length} eigenvalues.`,
    },
    {
      claim: "The bulk is concentrated near zero: flat in most directions",
      holds: medianAbs <= MEDIAN_NEAR_ZERO * maxAbs,
      text:
        `Median |l| = ${sig(medianAbs, 3)} = ${(100 * medianAbs / maxAbs).toFixed(2)}% of max|l| = ${sig(maxAbs, 3)}; ` +
        `${(100 * withinOnePercent).toFixed(1)}% of the eigenvalues lie within 1% of max|l| of zero, ${(100 * summary.nearZeroFraction).toFixed(1)}% within 0.1%; ` +
        `numerical rank ${summary.numericalRank} of ${eig.length}; negative eigenvalues carry ${(100 * summary.negativeMass).toFixed(2)}% of sum |l| ` +
        `(most negative ${sig(summary.lambdaMin, 3)}).`,
    },
  ];
  return { withinOnePercent, verdicts };
}

export const partA: StudyPart<PartAData> = {
  id: "a",
  async run(ctx) {
    const t0 = performance.now();
    const req = baseTraining(ctx);
    const point = await sweepPoint(ctx, "a", req.model, req.data);
    const { withinOnePercent, verdicts } = spectrumVerdicts(point, ctx.settings.gmm.k);
    return {
      id: "a",
      title: PART_TITLES.a,
      intro:
        `The exact Hessian spectrum (float64, dense) of ${req.model} trained on ${req.data} ` +
        `(${req.loss === "mse" ? "squared error" : "cross-entropy"}, ${req.epochs} epochs, batch ${req.batchSize}, lr ${req.lr}, momentum ${req.momentum}): train loss ${sig(point.trainLoss, 3)}, accuracy ${(100 * point.trainAccuracy).toFixed(1)}%.`,
      verdicts,
      tables: [{ title: "Spectrum reading", rows: [{ model: req.model, parameters: point.parameters, ...flatRow(point.reading) }] }],
      data: { ...point, withinOnePercent },
      settings: { ...req, operator: "hessian", dtype: "float64" },
      seconds: (performance.now() - t0) / 1000,
    };
  },
  figures(r) {
    const d = r.data;
    return [
      {
        name: "a-histogram",
        title: "Hessian spectrum",
        caption: `All ${d.parameters} eigenvalues of the Hessian of ${d.model} on ${d.data}; left: linear axis, right: symmetric-log axis (linear near zero, logarithmic beyond). Counts on a log scale.`,
        spec: eigenvalueHistogram({ eigenvalues: d.eigenvalues, title: "Hessian eigenvalues", subtitle: `${d.model}, ${d.parameters} parameters`, xScale: "both" }),
      },
      {
        name: "a-top",
        title: "Top eigenvalues",
        caption: `The largest eigenvalues in order; the ${d.reading.outlierCount} outliers stand above the gap the split found.`,
        spec: rankPlot({ series: [{ name: "Hessian", eigenvalues: d.eigenvalues }], title: "Largest eigenvalues", top: 40, logY: true }),
      },
    ];
  },
};

/**
 * "Concentrated near zero": the median |eigenvalue| is at most 5% of the largest. A bulk that
 * spread evenly up to the outliers would have its median near half of max|l|; the trained
 * networks of this study have it at 1-3%.
 */
export const MEDIAN_NEAR_ZERO = 0.05;


