/**
 * Settings of the Hessian study (Sagun, Evci, Güney, Dauphin, Bottou 2017, "Empirical Analysis
 * of the Hessian of Over-Parametrized Neural Networks"): two presets and the parts.
 *
 * The protocol, found by measurement (dense float64 spectra of mlp:20-w-k on mixtures, read
 * with the bulk/outlier split's default rule: the lowest gap of ratio at least 2.5):
 * - Squared error (`loss: "mse"`), SGD with momentum 0.9, lr 0.1, batch 64, 20 epochs. With
 *   cross-entropy the top eigenvalues fall smoothly into the bulk (strongest consecutive gap
 *   1.3-1.6 at every separation, size and length of training tried): the output Hessian
 *   diag(p) - p p^T shrinks unevenly as p sharpens, and the loss has no fixed end of training.
 *   The squared error's output Hessian is constant, so the spectrum settles: the final training
 *   loss and accuracy are in the report. `--loss cross-entropy` runs the same study; its
 *   verdicts then say the outliers are not clear.
 * - 1,000 points per cluster (5,000 in all, 6x the 837 parameters of the base model): with 200
 *   per cluster the bulk, whose width grows with parameters / points (Marchenko-Pastur), reaches
 *   up to the outliers (gap 1.4).
 * - Separation 4 (cluster means 4 noise standard deviations apart, about 92% train accuracy):
 *   at 3 the class-mean groups sit just under the threshold (gaps 2.3-2.9 depending on seed and
 *   width), at 4 the k^2 outliers (k groups of k, part c) stand 4-8x above the bulk for k = 3
 *   and 5 at seeds 0-2 and widths 10-100, with relu and with two hidden layers.
 * - k = 7 (at any points per cluster tried) sits between two regimes: its top group of 7 stands
 *   only 2.2-2.6x above the class-mean groups, which merge into the bulk; the quick sweep takes
 *   k = 3, 5, 10 (`--clusters 3,5,7,10` shows it). At width 100 (2,605 parameters, half the
 *   points) the bulk reaches the k^2 group (gap 2.2), so the widths stop at 80 (2,085
 *   parameters); from width 8 (213 parameters) to 80 the 25 outliers stand above gaps of
 *   3.3-6.8 at seeds 0-2.
 * - MNIST (part f) trains at lr 0.02: with the squared error, lr 0.05 and 0.1 diverge on 784
 *   inputs (NaN within 5 epochs); 0.02 reaches 97% train accuracy on 1,000 digits.
 * Every part uses the same training, so the comparisons are fair.
 *
 * Both presets share the base: 5 clusters of 1,000 points in 20 dimensions, hidden width 32
 * (837 parameters).
 * `quick` (the default of `npm start`) narrows the sweeps: widths 8, 16, 32, 80, k in {3, 5, 10},
 * separations 2, 4, 6, 1,000 MNIST digits with short Lanczos and SLQ runs; its time is in the
 * README. `full` sweeps k = 2..10, six separations and seven widths from 8 to 80, and measures
 * MNIST's MLP 784-128-10 on 5,000 digits.
 */
import { optionError } from "../../errors.ts";
import { LOSSES, type LossName } from "../../nn/loss.ts";

/** Hidden activations the study's MLPs may use (`--activation`). */
export const STUDY_ACTIVATIONS = ["tanh", "relu", "gelu"] as const;
export type StudyActivation = (typeof STUDY_ACTIVATIONS)[number];

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
  /** Hidden width of the base model mlp:d-hidden-k:activation. */
  readonly hidden: number;
  /** Hidden layers of every mixture MLP (each of width `hidden`, or of the swept width in part b). */
  readonly depth: number;
  readonly activation: StudyActivation;
  /** The training loss and the loss whose Hessian is measured, in every part. */
  readonly loss: LossName;
  readonly training: GmmTraining;
  /** Part b: hidden widths (at least 4, spanning 8x or more). */
  readonly widths: readonly number[];
  /** Part c: numbers of clusters (total points kept at k x n of the base mixture). */
  readonly clusters: readonly number[];
  /** Part c: separations, at the base k. */
  readonly separations: readonly number[];
  /** Part d: how many top eigenpairs to compare between H, G and the gradient covariance. */
  readonly compareTop: number;
  /** Part e: its mixture's points per cluster, the two batch sizes, epochs of each, and the path. */
  readonly batches: {
    /** Points per cluster of part e's mixture (the base mixture's k, d and separation). */
    readonly n: number;
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

const TRAINING: GmmTraining = { epochs: 20, batchSize: 64, lr: 0.1, momentum: 0.9 };

export const PRESETS: Readonly<Record<Preset, HessianStudySettings>> = {
  quick: {
    preset: "quick",
    seed: 0,
    gmm: { k: 5, d: 20, n: 1000, sep: 4 },
    hidden: 32,
    depth: 1,
    activation: "tanh",
    loss: "mse",
    training: TRAINING,
    widths: [8, 16, 32, 80],
    clusters: [3, 5, 10],
    separations: [2, 4, 6],
    compareTop: 8,
    batches: {
      n: 200, small: 32, large: 1000, smallEpochs: 10, largeEpochs: 200, lr: 0.1,
      alphas: range(-0.5, 1.5, 0.1), curvaturePoints: 5, traceProbes: 20,
    },
    mnist: { n: 1000, hidden: 128, epochs: 5, batchSize: 64, lr: 0.02, top: 16, lanczosSteps: 50, slqProbes: 3, slqSteps: 40 },
  },
  full: {
    preset: "full",
    seed: 0,
    gmm: { k: 5, d: 20, n: 1000, sep: 4 },
    hidden: 32,
    depth: 1,
    activation: "tanh",
    loss: "mse",
    training: TRAINING,
    widths: [8, 16, 24, 32, 48, 64, 80],
    clusters: [2, 3, 4, 5, 6, 7, 8, 9, 10],
    separations: [1, 2, 3, 4, 5, 6],
    compareTop: 12,
    batches: {
      n: 200, small: 32, large: 1000, smallEpochs: 10, largeEpochs: 200, lr: 0.1,
      alphas: range(-0.5, 1.5, 0.05), curvaturePoints: 9, traceProbes: 50,
    },
    mnist: { n: 5000, hidden: 128, epochs: 10, batchSize: 64, lr: 0.02, top: 24, lanczosSteps: 100, slqProbes: 10, slqSteps: 80 },
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
export function gmmSpecOf(s: HessianStudySettings, over: { k?: number; sep?: number; n?: number } = {}): string {
  const k = over.k ?? s.gmm.k;
  const n = over.n ?? Math.round((s.gmm.k * s.gmm.n) / k);
  return `gmm:k=${k},d=${s.gmm.d},n=${n},sep=${over.sep ?? s.gmm.sep},seed=${s.seed}`;
}

export function mlpSpecOf(s: HessianStudySettings, over: { k?: number; hidden?: number } = {}): string {
  const hidden = Array.from({ length: s.depth }, () => over.hidden ?? s.hidden);
  return `mlp:${[s.gmm.d, ...hidden, over.k ?? s.gmm.k].join("-")}:${s.activation}`;
}

/** Values of the study's own options (`curvlab study hessian --k 4 --widths 8,64 ...`). */
export interface HessianStudyOverrides {
  readonly k?: number;
  readonly widths?: string;
  readonly clusters?: string;
  readonly hidden?: number;
  readonly depth?: number;
  readonly activation?: string;
  readonly loss?: string;
}

function intList(option: string, value: string, min: number): number[] {
  const parts = value.split(",").map((x) => x.trim());
  const out = parts.map(Number);
  if (parts.length === 0 || out.some((x, i) => parts[i] === "" || !Number.isInteger(x) || x < min)) {
    throw optionError(option, `expected a comma list of integers >= ${min}, got "${value}"`);
  }
  return out;
}

/**
 * A preset with the study's options applied: other k, widths, activation, depth and loss, for
 * checking that the verdicts hold on configurations the presets do not use. `k` changes the base
 * mixture (its points per cluster keep the total k x n of the preset) and, unless `clusters` is
 * given, the sweep of part c keeps its values.
 */
export function withOverrides(s: HessianStudySettings, o: HessianStudyOverrides): HessianStudySettings {
  let out = s;
  if (o.k !== undefined) {
    if (!Number.isInteger(o.k) || o.k < 2 || o.k > 50) throw optionError("k", `expected an integer in 2..50, got ${o.k}`);
    out = { ...out, gmm: { ...out.gmm, k: o.k, n: Math.round((s.gmm.k * s.gmm.n) / o.k) } };
  }
  if (o.widths !== undefined) {
    const widths = intList("widths", o.widths, 1);
    if (widths.length < 2) throw optionError("widths", `expected at least 2 widths, got "${o.widths}"`);
    out = { ...out, widths };
  }
  if (o.clusters !== undefined) {
    const clusters = intList("clusters", o.clusters, 2);
    if (clusters.length < 2) throw optionError("clusters", `expected at least 2 cluster counts, got "${o.clusters}"`);
    out = { ...out, clusters };
  }
  if (o.hidden !== undefined) {
    if (!Number.isInteger(o.hidden) || o.hidden < 1) throw optionError("hidden", `expected an integer >= 1, got ${o.hidden}`);
    out = { ...out, hidden: o.hidden };
  }
  if (o.depth !== undefined) {
    if (!Number.isInteger(o.depth) || o.depth < 1 || o.depth > 4) throw optionError("depth", `expected 1..4 hidden layers, got ${o.depth}`);
    out = { ...out, depth: o.depth };
  }
  if (o.activation !== undefined) {
    if (!(STUDY_ACTIVATIONS as readonly string[]).includes(o.activation)) {
      throw optionError("activation", `expected one of ${STUDY_ACTIVATIONS.join(", ")}, got "${o.activation}"`);
    }
    out = { ...out, activation: o.activation as StudyActivation };
  }
  if (o.loss !== undefined) {
    if (!(LOSSES as readonly string[]).includes(o.loss)) throw optionError("loss", `expected one of ${LOSSES.join(", ")}, got "${o.loss}"`);
    out = { ...out, loss: o.loss as LossName };
  }
  return out;
}
