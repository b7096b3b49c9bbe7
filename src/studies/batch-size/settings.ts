/**
 * Settings of the batch-size study (Granziol, Zohren, Roberts 2020, "Learning Rates as a
 * Function of Batch Size: A Random Matrix Theory Approach to Neural Network Training"): at one
 * trained point, the curvature of the mini-batch loss (1/B) sum_{i in batch} loss_i against
 * that of the whole training set, for batch sizes B from 16 to n.
 *
 * The paper models the mini-batch Hessian as H_B = H + E with E a random matrix whose entries'
 * variance scales with 1/B (here, drawing without replacement, with 1/B - 1/n: the batch of all
 * n rows is the full matrix). Its prediction for the extreme eigenvalues: an outlier lambda of
 * H moves out to lambda + P sigma^2 (1/B - 1/n) / lambda (a spike over the noise, excess linear
 * in 1/B - 1/n) while the noise is weak, and follows the edge of the noise, 2 sigma sqrt(P (1/B
 * - 1/n)), once it is strong (excess as its square root). So the excess of lambda_max(H_B) over
 * lambda_max(H) falls as (1/B - 1/n)^s with s between 1/2 and 1; the same holds for the
 * Gauss-Newton matrix. The largest stable learning rate of gradient descent on the batch's
 * quadratic model is 2 / lambda_max(H_B): it grows with B, about linearly while the noise
 * dominates, and saturates at 2 / lambda_max(H).
 *
 * Parts: "hessian" (largest and smallest eigenvalue of H_B) and "ggn" (largest of G_B; G is
 * positive semidefinite), each with SLQ densities at a few sizes. Each (size, draw) is a Lanczos
 * run for the extreme eigenvalue on that batch's operator (float64), kept in the journal.
 *
 * quick: mlp:20-32-5:tanh on a 5-cluster mixture of 2,000 points (separation 3), cross-entropy
 * as in the paper, sizes 16-2,000 with 4 draws each. full: MNIST, mlp:784-64-10:tanh (50,890
 * parameters) on 5,000 digits, sizes 16-5,000 with 5 draws, and more SLQ.
 */
import { optionError } from "../../errors.ts";
import { checkPartIds } from "../study.ts";
import type { LossName } from "../../nn/loss.ts";

export const PART_IDS = ["hessian", "ggn"] as const;
export type PartId = (typeof PART_IDS)[number];

export const PART_TITLES: Readonly<Record<PartId, string>> = {
  hessian: "The Hessian of the mini-batch loss against the full-data Hessian",
  ggn: "The Gauss-Newton matrix of the mini-batch loss against the full-data one",
};

export interface BatchSizeStudySettings {
  readonly preset: "quick" | "full";
  /** Seeds the data (mixtures), the initialization, the batches and the probes. */
  readonly seed: number;
  readonly model: string;
  /** Data spec (the study's seed is appended to mixtures). */
  readonly data: string;
  readonly loss: LossName;
  readonly training: { readonly epochs: number; readonly batchSize: number; readonly lr: number; readonly momentum: number };
  /** Mini-batch sizes below n (the whole set, n, is always measured too). */
  readonly sizes: readonly number[];
  /** Independent batches drawn per size. */
  readonly draws: number;
  /** Lanczos relative tolerance of each extreme eigenvalue. */
  readonly tol: number;
  /** Batch sizes whose SLQ density is drawn (one batch each; n is always added). */
  readonly densitySizes: readonly number[];
  readonly slq: { readonly probes: number; readonly steps: number };
}

const sizes = (max: number) => [16, 32, 64, 128, 256, 512, 1024, 2048, 4096].filter((b) => b < max);

export const PRESETS: Readonly<Record<"quick" | "full", BatchSizeStudySettings>> = {
  quick: {
    preset: "quick",
    seed: 0,
    model: "mlp:20-32-5:tanh",
    data: "gmm:k=5,d=20,n=400,sep=3",
    loss: "cross-entropy",
    training: { epochs: 20, batchSize: 64, lr: 0.1, momentum: 0.9 },
    sizes: sizes(2000),
    draws: 4,
    tol: 1e-6,
    densitySizes: [16, 128],
    slq: { probes: 3, steps: 60 },
  },
  full: {
    preset: "full",
    seed: 0,
    model: "mlp:784-64-10:tanh",
    data: "mnist:n=5000",
    loss: "cross-entropy",
    training: { epochs: 10, batchSize: 64, lr: 0.05, momentum: 0.9 },
    sizes: sizes(5000),
    draws: 5,
    tol: 1e-6,
    densitySizes: [16, 128, 1024],
    slq: { probes: 5, steps: 80 },
  },
};

/** The data spec with the study's seed for mixtures. */
export function dataSpecOf(settings: BatchSizeStudySettings): string {
  const d = settings.data;
  return d.startsWith("gmm:") && !/(^|[:,])seed=/.test(d) ? `${d},seed=${settings.seed}` : d;
}

/** Checks part ids (InputError naming --parts). */
export function checkParts(parts: readonly string[]): PartId[] {
  return checkPartIds(PART_IDS, parts);
}

/** Parses "16,64,256" into batch sizes (InputError naming --sizes). */
export function parseSizes(value: string): number[] {
  const parts = value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  const out = parts.map(Number);
  if (out.length === 0 || out.some((b) => !Number.isInteger(b) || b < 1)) {
    throw optionError("sizes", `expected a comma list of positive integers, got "${value}"`);
  }
  return [...new Set(out)].sort((a, b) => a - b);
}
