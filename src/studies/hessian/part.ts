/**
 * One part of the Hessian study: a function from the study context to a JSON result (kept in the
 * journal, so a finished part is never recomputed) and a function from that result to a report
 * section (figures are rebuilt from the stored numbers, so the report can be re-rendered from
 * results.json alone). Every verdict is computed from the data and carries its numbers.
 */
import type { ReportFigure, ReportSection, ReportTable, ReportVerdict } from "../../report/html.ts";
import { readSpectrum, type SpectrumReading } from "../../spectrum/summary.ts";
import type { Eigenvalues } from "../../spectrum/values.ts";
import { hessianEigenvalues, modelKey, trainedModel, type StudyContext, type TrainRequest } from "./context.ts";
import type { PartId } from "./settings.ts";

export interface PartResult<D = unknown> {
  readonly id: PartId;
  readonly title: string;
  /** What the part tests, in a sentence. */
  readonly intro: string;
  readonly verdicts: readonly ReportVerdict[];
  readonly tables: readonly ReportTable[];
  /** The numbers the figures are drawn from. */
  readonly data: D;
  readonly settings: unknown;
  readonly seconds: number;
}

export interface StudyPart<D = unknown> {
  readonly id: PartId;
  run(ctx: StudyContext): Promise<PartResult<D>>;
  figures(result: PartResult<D>): ReportFigure[];
}

export function toSection<D>(part: StudyPart<D>, r: PartResult<D>): ReportSection {
  return {
    id: `part-${r.id}`,
    title: r.title,
    intro: r.intro,
    verdicts: r.verdicts,
    figures: part.figures(r),
    tables: r.tables,
    settings: r.settings,
    seconds: r.seconds,
  };
}

/**
 * The bulk / outlier reading used throughout the study: the split's defaults (src/spectrum/
 * bulk-outliers.ts: the lowest gap of ratio at least 2.5 among the top 50, the threshold at which
 * outlier-free bulks show a spurious gap in at most a few percent of cases). The study's
 * training protocol (settings.ts) is what makes the outliers clear, not the reading.
 */
export function readStudySpectrum(eigenvalues: Eigenvalues, opts: { readonly maxOutliers?: number } = {}): SpectrumReading {
  return readSpectrum(eigenvalues, opts.maxOutliers === undefined ? {} : { split: { maxOutliers: opts.maxOutliers } });
}

/** A compact JSON record of a reading (for results and tables). */
export function readingSummary(r: SpectrumReading) {
  const s = r.split;
  return {
    n: r.n,
    outliers: s.outliers.map((x) => Number(x.toPrecision(5))),
    outlierCount: s.outlierCount,
    negativeOutlierCount: s.negativeOutlierCount,
    gapRatio: s.gap ? Number(s.gap.ratio.toPrecision(4)) : null,
    strongestGapRatio: s.strongestGap ? Number(s.strongestGap.ratio.toPrecision(4)) : null,
    /** Outlier counts at every clear gap (ratio >= 2.5), top group first: [k, k^2] for class means over cross-class pairs. */
    groups: s.clearGaps.map((g) => g.index),
    groupGapRatios: s.clearGaps.map((g) => Number(g.ratio.toPrecision(4))),
    bulkMax: Number(s.bulk.max.toPrecision(4)),
    bulkMin: Number(s.bulk.min.toPrecision(4)),
    bulkScale: Number(s.bulk.scale.toPrecision(4)),
    /** p95 - p05 of the bulk: where 90% of its eigenvalues lie (the MAD measures only the spike at zero). */
    bulkRange90: Number((s.bulk.quantiles.p95 - s.bulk.quantiles.p05).toPrecision(4)),
    bulkCount: s.bulk.count,
    nearZeroFraction: Number(r.flatness.nearZeroFraction.toPrecision(4)),
    numericalRank: r.flatness.numericalRank,
    negativeMass: Number(r.flatness.negativeMass.toPrecision(4)),
    lambdaMax: Number(r.flatness.max.toPrecision(5)),
    lambdaMin: Number(r.flatness.min.toPrecision(5)),
    trace: Number(r.flatness.trace.toPrecision(5)),
  };
}
export type ReadingSummary = ReturnType<typeof readingSummary>;

/** A reading as one table row. */
export function flatRow(s: ReadingSummary) {
  return {
    outliers: s.outlierCount,
    "gap ratio": s.gapRatio,
    "lambda max": s.lambdaMax,
    "bulk top": s.bulkMax,
    "bulk scale": s.bulkScale,
    "near zero": s.nearZeroFraction,
    rank: s.numericalRank,
    "negative mass": s.negativeMass,
  };
}

/** The training request of an MLP on a mixture, with the study's training settings. */
export function gmmTraining(ctx: StudyContext, model: string, data: string): TrainRequest {
  return { key: `${modelKey(model, data)}-${ctx.settings.loss}`, model, data, seed: ctx.settings.seed, loss: ctx.settings.loss, ...ctx.settings.training };
}

/** One trained model of a sweep and its dense Hessian spectrum, read. */
export interface SweepPoint {
  readonly label: string;
  readonly model: string;
  readonly data: string;
  readonly parameters: number;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly eigenvalues: readonly number[];
  readonly reading: ReadingSummary;
}

/** Trains one model (or finds it in the journal) and reads its dense Hessian spectrum. */
export async function sweepPoint(ctx: StudyContext, label: string, model: string, data: string): Promise<SweepPoint> {
  const req = gmmTraining(ctx, model, data);
  const tm = await trainedModel(ctx, req);
  ctx.log(`${label}: dense Hessian of ${model} on ${data} (${tm.model.size} parameters)`);
  const eigenvalues = Array.from(await hessianEigenvalues(ctx, req.key, tm));
  return {
    label, model, data, parameters: tm.model.size, trainLoss: tm.loss, trainAccuracy: tm.accuracy,
    eigenvalues, reading: readingSummary(readStudySpectrum(eigenvalues)),
  };
}
