/**
 * The bulk / outlier reading that `curvlab hessian` and `curvlab spectrum` print beside their
 * eigenvalues: the split's defaults (src/spectrum/bulk-outliers.ts), so a user reads a spectrum
 * the way the studies do.
 */
import { splitBulkOutliers } from "../spectrum/bulk-outliers.ts";

export interface SpectrumReadingSummary {
  readonly outliers: readonly number[];
  readonly outlierCount: number;
  readonly negativeOutlierCount: number;
  readonly gapRatio: number | null;
  readonly strongestGapRatio: number | null;
  /** Outlier counts at every gap of ratio >= 2.5, top group first. */
  readonly groups: readonly number[];
  readonly bulkMax: number;
  readonly bulkMin: number;
  readonly method: string;
}

/** The split's default reading of a spectrum, for results and summaries. */
export function readingOf(eigenvalues: readonly number[]): SpectrumReadingSummary {
  const s = splitBulkOutliers(eigenvalues);
  return {
    outliers: s.outliers,
    outlierCount: s.outlierCount,
    negativeOutlierCount: s.negativeOutlierCount,
    gapRatio: s.gap ? s.gap.ratio : null,
    strongestGapRatio: s.strongestGap ? s.strongestGap.ratio : null,
    groups: s.clearGaps.map((g) => g.index),
    bulkMax: s.bulk.max,
    bulkMin: s.bulk.min,
    method: s.method,
  };
}

/** One line: the outliers and their gap, or the strongest gap when none is clear. */
export function describeReading(r: SpectrumReadingSummary): string {
  if (r.outlierCount === 0) {
    return `bulk/outliers: no gap of 2.5 above the bulk (strongest ${r.strongestGapRatio === null ? "n/a" : r.strongestGapRatio.toFixed(2)}); the spectrum reads as one bulk`;
  }
  const groups = r.groups.length > 1 ? ` (groups at ${r.groups.join(", ")})` : "";
  return `bulk/outliers: ${r.outlierCount} outliers above a gap of ${r.gapRatio!.toFixed(2)}${groups}, bulk up to ${r.bulkMax.toPrecision(4)}` +
    (r.negativeOutlierCount > 0 ? `; ${r.negativeOutlierCount} negative outliers` : "");
}

