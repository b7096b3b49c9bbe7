/**
 * Settings of the intrinsic-dimension study (Li, Farkhoor, Liu, Yosinski 2018, "Measuring the
 * Intrinsic Dimension of Objective Landscapes"): MNIST with one-hidden-layer ReLU MLPs
 * `mlp:784-w-10:relu` of several widths w; for each width, the full model is trained once (the
 * baseline) and the model restricted to a random d-dimensional subspace at each d of a grid; the
 * intrinsic dimension d_int90 is the smallest d reaching 90% of the baseline's test accuracy
 * (src/landscape/intrinsic-dimension.ts). Li et al. report d_int90 of about 750 for fully
 * connected MNIST networks, nearly the same across widths and depths.
 *
 * Data: the first n digits of the package's MNIST (class-balanced), split at random into train
 * and test (testFraction held out, seeded).
 *
 * Training, both batch 64, float32: the baseline with SGD momentum 0.9, lr 0.05, 20 epochs (a
 * converged reference: with train()'s default lr 0.1 and 10 epochs a width-16 ReLU baseline
 * stalled at 84% test accuracy); the subspace models with Adam lr 0.03 on z, 10 epochs. Adam moves
 * each coordinate of z by about lr per step, so ||theta - theta0|| grows with sqrt(d) at a fixed
 * lr: measured on 1,500 digits, width 32, lr 0.1 made the test accuracy FALL from d = 1600 to
 * d = 3200 (83% -> 77%), while lr 0.03 rises to the end (80.4, 85.4, 88.2% at d = 400, 1600,
 * 3200; lr 0.05: 79.6, 87.2, 87.2%); lr 0.01 under-trains in 10 epochs (width 64, d = 200: 54%
 * against 72% at lr 0.1). Projections "auto": dense while D d <= 2^20, Fastfood beyond.
 *
 * Verdict threshold: the intrinsic dimension "varies little with width" when max/min d_int90
 * over the widths is at most SPREAD_LIMIT = 2 while the parameter count grows by the width ratio
 * (4x in quick, 8x in full); Li et al.'s MNIST FC values stay within such a factor.
 *
 * `quick` (2.7 minutes measured on 2 cores shared with other work): 3,000 digits (2,250 train /
 * 750 test), widths 32, 64, 128, d in 100..3200 (doubling). Measured (seed 0): baselines 92.7,
 * 92.8, 93.9% test accuracy; d_int90 566, 636, 707 (max/min 1.25, "varies little" holds; Li et
 * al.: about 750); accuracy rises with d on every width. `full`: all 10,000 digits (8,000 /
 * 2,000), widths 32..256 (8x in parameters), a finer grid to 3200, about 1,250 steps per
 * training; not timed here: from the per-step costs measured on quick (Fastfood doubles with
 * each doubling of the width), estimated at 45-60 minutes on 2 cores.
 */
import type { ProjectionName } from "../../landscape/subspace.ts";

export type Preset = "quick" | "full";

export const SPREAD_LIMIT = 2;

export interface IntrinsicDimStudySettings {
  readonly preset: Preset;
  /** Seeds the split, initializations, shuffles and projections. */
  readonly seed: number;
  readonly mnist: { readonly n: number; readonly testFraction: number };
  readonly activation: "relu" | "tanh";
  readonly widths: readonly number[];
  /** The subspace dimensions swept (same grid for every width). */
  readonly dims: readonly number[];
  /**
   * Bisections of the grid cell where each width first reaches the target (landscape/
   * intrinsic-dimension.ts `refine`): on a doubling grid every width could cross in one cell,
   * and a spread of at most 2x could then not fail.
   */
  readonly refine: number;
  /** Fraction of the baseline accuracy that defines d_int (0.9: d_int90). */
  readonly threshold: number;
  readonly epochs: number;
  readonly batchSize: number;
  /** Adam's learning rate for z. */
  readonly subspaceLr: number;
  /** SGD momentum 0.9's learning rate for the full model. */
  readonly baselineLr: number;
  /** Epochs of the full model (a converged reference; the subspace models get `epochs`). */
  readonly baselineEpochs: number;
  readonly projection: ProjectionName;
  /** max/min d_int90 over widths at or under which it "varies little". */
  readonly spreadLimit: number;
}

const common = {
  seed: 0,
  activation: "relu",
  threshold: 0.9,
  epochs: 10,
  batchSize: 64,
  subspaceLr: 0.03,
  baselineLr: 0.05,
  baselineEpochs: 20,
  projection: "auto",
  spreadLimit: SPREAD_LIMIT,
  refine: 2,
} as const;

export const PRESETS: Readonly<Record<Preset, IntrinsicDimStudySettings>> = {
  quick: {
    ...common,
    preset: "quick",
    mnist: { n: 3000, testFraction: 0.25 },
    widths: [32, 64, 128],
    dims: [100, 200, 400, 800, 1600, 3200],
  },
  full: {
    ...common,
    preset: "full",
    mnist: { n: 10000, testFraction: 0.2 },
    widths: [32, 64, 128, 256],
    dims: [100, 200, 300, 400, 600, 800, 1200, 1600, 2400, 3200],
  },
};

export function modelSpec(s: IntrinsicDimStudySettings, width: number): string {
  return `mlp:784-${width}-10:${s.activation}`;
}
