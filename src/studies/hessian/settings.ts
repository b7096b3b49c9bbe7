/**
 * Settings of the Hessian study (Sagun, Evci, Güney, Dauphin, Bottou 2017, "Empirical Analysis
 * of the Hessian of Over-Parametrized Neural Networks"): two presets and the parts.
 *
 * The Gaussian-mixture parts train one-hidden-layer tanh MLPs `mlp:d-w-k:tanh` with
 * cross-entropy, SGD with momentum 0.9, lr 0.1, batch 64, for a fixed, short budget (10 epochs on
 * 1,000 points). Why short: with cross-entropy the loss keeps falling towards zero on separable
 * points and the whole Hessian shrinks with it (the output Hessian diag(p) - p p^T vanishes as
 * p becomes one-hot), so "the end of training" has no fixed scale. Ten epochs reach a plateau
 * of the train accuracy (85-95% at separation 3, near the Bayes rate of overlapping clusters)
 * where the spectrum's structure is stable; every part uses the same budget, so the comparisons
 * are fair. Separation 3 (cluster means 3 noise standard deviations apart) keeps the clusters
 * overlapping, as Sagun et al.'s "less separable" data; at separation 5 and beyond the points
 * are fitted exactly and the outliers merge into the shrinking bulk.
 *
 * Both presets share the base: 5 clusters of 200 points in 20 dimensions, hidden width 32 (837
 * parameters, over-parametrized: the sweeps showed that narrower models or fewer points blur the
 * outlier count at small k, e.g. 3 outliers for k = 3 at width 16 or with 500 points).
 * `quick` (the default of `npm start`) narrows the sweeps to run all parts in about 3 minutes on
 * 2 cores: widths 10-100, k in {3, 5, 7, 10}, 1,000 MNIST digits with short Lanczos and SLQ runs.
 * `full` is the study at the sizes of the issue (k = 2..10, six separations, widths 10-160 i.e.
 * dense spectra up to 4,165 parameters, MNIST MLP 784-128-10 on 5,000 digits); its time is in the
 * README.
 */
import { optionError } from "../../errors.ts";

export const PART_IDS = ["a", "b", "c", "d", "e", "f"] as const;
export type PartId = (typeof PART_IDS)[number];

export const PART_TITLES: Readonly<Record<PartId, string>> = {
  a: "a. The spectrum of a trained network: bulk and outliers",
  b: "b. Data fixed, parameters swept: the bulk scales, the outliers stay",
  c: "c. Model fixed, data swept: the outliers follow the clusters",
  d: "d. H = G + residual: where the outliers and the bulk come from",
  e: "e. Small batch vs large batch: one basin?",
  f: "f. MNIST, matrix-free: the same questions at 100k parameters",
};

export type Preset = "quick" | "full";

export interface GmmTraining {
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly momentum: number;
}

export interface HessianStudySettings {
  readonly preset: Preset;
  /** Seeds the data, the initializations and the probes. */
  readonly seed: number;
  /** Base mixture: clusters, dimension, points per cluster, separation. */
  readonly gmm: { readonly k: number; readonly d: number; readonly n: number; readonly sep: number };
  /** Hidden width of the base model mlp:d-hidden-k:tanh. */
  readonly hidden: number;
  readonly training: GmmTraining;
  /** Part b: hidden widths (at least 4, spanning at least 10x). */
  readonly widths: readonly number[];
  /** Part c: numbers of clusters (total points kept at k x n of the base mixture). */
  readonly clusters: readonly number[];
  /** Part c: separations, at the base k. */
  readonly separations: readonly number[];
  /** Part d: how many top eigenpairs to compare between H, G and the gradient covariance. */
  readonly compareTop: number;
  /** Part e: the two batch sizes, epochs of each, and the path. */
  readonly batches: {
    readonly small: number;
    readonly large: number;
    readonly smallEpochs: number;
    readonly largeEpochs: number;
    readonly lr: number;
    readonly alphas: readonly number[];
    /** Number of points on the path where the top eigenvalue and the trace are measured. */
    readonly curvaturePoints: number;
    readonly traceProbes: number;
  };
  /** Part f: MNIST with an MLP through Lanczos and SLQ. */
  readonly mnist: {
    readonly n: number;
    readonly hidden: number;
    readonly epochs: number;
    readonly batchSize: number;
    readonly lr: number;
    readonly top: number;
    readonly lanczosSteps: number;
    readonly slqProbes: number;
    readonly slqSteps: number;
  };
}

function range(a: number, b: number, step: number): number[] {
  const out: number[] = [];
  for (let x = a; x <= b + 1e-9; x += step) out.push(Math.round(x * 1000) / 1000);
  return out;
}

const TRAINING: GmmTraining = { epochs: 10, batchSize: 64, lr: 0.1, momentum: 0.9 };

export const PRESETS: Readonly<Record<Preset, HessianStudySettings>> = {
  quick: {
    preset: "quick",
    seed: 0,
    gmm: { k: 5, d: 20, n: 200, sep: 3 },
    hidden: 32,
    training: TRAINING,
    widths: [10, 20, 40, 100],
    clusters: [3, 5, 7, 10],
    separations: [1.5, 3, 6],
    compareTop: 8,
    batches: {
      small: 32, large: 1000, smallEpochs: 10, largeEpochs: 200, lr: 0.1,
      alphas: range(-0.5, 1.5, 0.1), curvaturePoints: 5, traceProbes: 20,
    },
    mnist: { n: 1000, hidden: 128, epochs: 5, batchSize: 64, lr: 0.1, top: 16, lanczosSteps: 50, slqProbes: 3, slqSteps: 40 },
  },
  full: {
    preset: "full",
    seed: 0,
    gmm: { k: 5, d: 20, n: 200, sep: 3 },
    hidden: 32,
    training: TRAINING,
    widths: [10, 20, 40, 80, 160],
    clusters: [2, 3, 4, 5, 6, 7, 8, 9, 10],
    separations: [1, 1.5, 2, 3, 4, 6],
    compareTop: 12,
    batches: {
      small: 32, large: 1000, smallEpochs: 10, largeEpochs: 200, lr: 0.1,
      alphas: range(-0.5, 1.5, 0.05), curvaturePoints: 9, traceProbes: 50,
    },
    mnist: { n: 5000, hidden: 128, epochs: 10, batchSize: 64, lr: 0.1, top: 24, lanczosSteps: 100, slqProbes: 10, slqSteps: 80 },
  },
};

/** Parses "a,c,d" (or "all") into part ids, in study order. */
export function parseParts(value: string): PartId[] {
  if (value === "all") return [...PART_IDS];
  const wanted = value.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0);
  if (wanted.length === 0) throw optionError("parts", `expected part letters among ${PART_IDS.join(",")}, got "${value}"`);
  for (const p of wanted) {
    if (!(PART_IDS as readonly string[]).includes(p)) {
      throw optionError("parts", `unknown part "${p}"; expected letters among ${PART_IDS.join(",")} or "all"`);
    }
  }
  return PART_IDS.filter((p) => wanted.includes(p));
}

/** The mixture spec of the base data with overrides (total points kept at k x n of the base). */
export function gmmSpecOf(s: HessianStudySettings, over: { k?: number; sep?: number } = {}): string {
  const k = over.k ?? s.gmm.k;
  const n = Math.round((s.gmm.k * s.gmm.n) / k);
  return `gmm:k=${k},d=${s.gmm.d},n=${n},sep=${over.sep ?? s.gmm.sep},seed=${s.seed}`;
}

export function mlpSpecOf(s: HessianStudySettings, over: { k?: number; hidden?: number } = {}): string {
  return `mlp:${s.gmm.d}-${over.hidden ?? s.hidden}-${over.k ?? s.gmm.k}:tanh`;
}
