/**
 * One reading of a whole spectrum: the bulk / outlier split (bulk-outliers.ts) and the flatness
 * measures (flatness.ts) in a single JSON-serializable record, with every setting written out.
 * The defaults are those of the two parts (see their head comments).
 */
import { splitBulkOutliers, type BulkOutlierSplit, type SplitOptions } from "./bulk-outliers.ts";
import { flatness, type Flatness, type FlatnessOptions } from "./flatness.ts";
import type { Eigenvalues } from "./values.ts";

export interface ReadSpectrumOptions {
  readonly split?: SplitOptions;
  readonly flatness?: FlatnessOptions;
}

export interface SpectrumReading {
  readonly n: number;
  readonly outlierCount: number;
  readonly negativeOutlierCount: number;
  readonly split: BulkOutlierSplit;
  readonly flatness: Flatness;
  readonly settings: { readonly split: BulkOutlierSplit["settings"]; readonly flatness: Flatness["settings"] };
}

export function readSpectrum(eigenvalues: Eigenvalues, opts: ReadSpectrumOptions = {}): SpectrumReading {
  const split = splitBulkOutliers(eigenvalues, opts.split);
  const flat = flatness(eigenvalues, opts.flatness);
  return {
    n: split.n,
    outlierCount: split.outlierCount,
    negativeOutlierCount: split.negativeOutlierCount,
    split,
    flatness: flat,
    settings: { split: split.settings, flatness: flat.settings },
  };
}
