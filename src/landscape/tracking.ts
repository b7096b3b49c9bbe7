/**
 * Curvature during training: every N optimizer steps, the top Hessian eigenvalue, the Hessian
 * trace and/or the spectral density of the FULL-BATCH training loss at the current theta,
 * recorded beside the stability thresholds of the optimizer, so that progressive sharpening and
 * the edge of stability (Cohen, Kaur, Li, Kolter & Talwalkar, "Gradient Descent on Neural Networks
 * Typically Occurs at the Edge of Stability", ICLR 2021: under full-batch GD lambda_max rises
 * until it reaches 2 / lr, then hovers there) show in one figure.
 *
 * The tracker plugs into train()'s callbacks (train.ts: `onStep` lends the device theta after each
 * update). At each due step it copies theta to the host and measures, on a `modelObjective` over
 * the whole training set it was given (the caller may pass a fixed subset to make it cheaper;
 * the CLI passes the full train split), in float64 by default (curvature differences need it;
 * float32 for webgpu):
 * - lmax: Lanczos, k = 1 (sharpness.ts topEigenvalue; relative tolerance 1e-8 in float64).
 * - trace: Hutchinson with 10 Rademacher probes (default), with its standard error.
 * - density: SLQ (linalg/slq.ts) with 2 probes x 30 Lanczos steps (defaults), kept on a 200-point
 *   grid with its range (the largest node estimates lambda_max) and its trace estimate.
 * Defaults favour cost: each record costs tens to a few hundred Hessian-vector products, i.e.
 * the work of about as many full-batch gradient steps. Records start at the first due step
 * (onStep does not fire at step 0).
 *
 * Thresholds (stability.ts): GD lambda_max <= 2 / lr; heavy-ball momentum beta:
 * lambda_max <= (2 + 2 beta) / lr, recorded for sgd and momentum; Adam's preconditioned
 * dynamics have no such plain threshold (null).
 */
import type { Dataset } from "../data/dataset.ts";
import type { Model } from "../nn/model.ts";
import type { LossName } from "../nn/loss.ts";
import type { DTypeName } from "../engine/dtype.ts";
import { take } from "../engine/scope.ts";
import type { TrainCallbacks, StepInfo } from "../train/train.ts";
import type { OptimizerSettings } from "../train/optimizers.ts";
import { InputError, optionError } from "../errors.ts";
import { checkPositiveInteger } from "../validate.ts";
import { spectralDensity } from "../linalg/slq.ts";
import { modelObjective, type Objective } from "./objective.ts";
import { hessianTrace, topEigenvalue } from "./sharpness.ts";
import { gdThreshold } from "./stability.ts";

export type TrackQuantity = "lmax" | "trace" | "density";
export const TRACK_QUANTITIES: readonly TrackQuantity[] = ["lmax", "trace", "density"];

export const TRACKING_DEFAULTS = { traceProbes: 10, densityProbes: 2, densitySteps: 30, densityGrid: 200, seed: 0 } as const;

/** "lmax,trace" -> ["lmax", "trace"]; InputError naming `input` otherwise. */
export function parseTrackList(value: string, input = "track"): TrackQuantity[] {
  const items = value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw optionError(input, `expected a comma list among ${TRACK_QUANTITIES.join(", ")}, got "${value}"`);
  const out: TrackQuantity[] = [];
  for (const it of items) {
    if (!TRACK_QUANTITIES.includes(it as TrackQuantity)) {
      throw optionError(input, `expected a comma list among ${TRACK_QUANTITIES.join(", ")}, got "${it}"`);
    }
    if (!out.includes(it as TrackQuantity)) out.push(it as TrackQuantity);
  }
  return out;
}

export interface TrackerOptions {
  readonly track: readonly TrackQuantity[];
  /** Measure after every this many steps. */
  readonly every: number;
  /** The optimizer of the run (for the stability thresholds). */
  readonly optimizer: OptimizerSettings;
  /** Steps per epoch of the run (for the records' fractional epoch). */
  readonly stepsPerEpoch: number;
  /** Default "cross-entropy" (the run's loss). */
  readonly loss?: LossName;
  /** Arithmetic of the measurements (default "float64"). */
  readonly dtype?: DTypeName;
  readonly traceProbes?: number;
  readonly densityProbes?: number;
  readonly densitySteps?: number;
  readonly seed?: number;
  /** Called after each record (progress). */
  readonly onRecord?: (r: TrackRecord) => void;
}

export interface TrackRecord {
  readonly step: number;
  /** Fractional epochs done (step / steps per epoch). */
  readonly epoch: number;
  /** Full-batch loss at theta. */
  readonly loss: number;
  readonly lmax: { readonly value: number; readonly residual: number; readonly converged: boolean } | null;
  readonly trace: { readonly value: number; readonly standardError: number | null } | null;
  readonly density: {
    readonly x: readonly number[];
    readonly y: readonly number[];
    readonly range: { readonly min: number; readonly max: number };
    readonly trace: number;
  } | null;
  readonly matvecs: number;
  readonly seconds: number;
}

export interface TrackingResult {
  readonly method: string;
  readonly objective: string;
  readonly settings: {
    readonly track: readonly TrackQuantity[];
    readonly every: number;
    readonly dtype: DTypeName;
    readonly traceProbes: number;
    readonly densityProbes: number;
    readonly densitySteps: number;
    readonly seed: number;
    readonly optimizer: OptimizerSettings;
  };
  /** lambda_max thresholds: GD 2/lr, and (2 + 2 beta)/lr for momentum; null for Adam. */
  readonly thresholds: { readonly gd: number | null; readonly momentum: number | null };
  readonly records: readonly TrackRecord[];
  readonly matvecs: number;
  readonly seconds: number;
}

export interface CurvatureTracker {
  readonly callbacks: Required<Pick<TrainCallbacks, "onStep">>;
  readonly records: readonly TrackRecord[];
  result(): TrackingResult;
  dispose(): void;
}

const positiveInt = checkPositiveInteger;

export function thresholdsOf(opt: OptimizerSettings): TrackingResult["thresholds"] {
  if (opt.name === "adam") return { gd: null, momentum: null };
  return { gd: gdThreshold(opt.lr, 0), momentum: opt.name === "momentum" ? gdThreshold(opt.lr, opt.momentum) : null };
}

/** A tracker measuring `model` on `data` (module comment); pass `tracker.callbacks` to train(). */
export function curvatureTracker(model: Model, data: Dataset, opts: TrackerOptions): CurvatureTracker {
  const track = opts.track.length ? [...opts.track] : [];
  if (track.length === 0) throw optionError("track", "expected at least one quantity");
  const every = positiveInt("every", opts.every);
  const stepsPerEpoch = positiveInt("steps per epoch", opts.stepsPerEpoch);
  const dtype = opts.dtype ?? "float64";
  const traceProbes = positiveInt("trace probes", opts.traceProbes ?? TRACKING_DEFAULTS.traceProbes);
  const densityProbes = positiveInt("density probes", opts.densityProbes ?? TRACKING_DEFAULTS.densityProbes);
  const densitySteps = positiveInt("density steps", opts.densitySteps ?? TRACKING_DEFAULTS.densitySteps);
  const seed = opts.seed ?? TRACKING_DEFAULTS.seed;
  const thresholds = thresholdsOf(opts.optimizer);
  const objective: Objective = modelObjective(model, data, { loss: opts.loss, dtype });
  const records: TrackRecord[] = [];
  const t0 = performance.now();

  const measure = async (step: number, theta: Float64Array): Promise<TrackRecord> => {
    const r0 = performance.now();
    let matvecs = 0;
    const loss = (await objective.evaluate(theta)).loss;
    let lmax: TrackRecord["lmax"] = null, trace: TrackRecord["trace"] = null, density: TrackRecord["density"] = null;
    if (track.includes("lmax")) {
      const t = await topEigenvalue(objective, theta, { seed });
      lmax = { value: t.value, residual: t.residual, converged: t.converged };
      matvecs += t.cost.matvecs;
    }
    if (track.includes("trace")) {
      const t = await hessianTrace(objective, theta, { probes: traceProbes, seed });
      trace = { value: t.value, standardError: t.standardError };
      matvecs += t.cost.matvecs;
    }
    if (track.includes("density")) {
      const op = objective.curvature(theta);
      try {
        const d = await spectralDensity(op, { probes: densityProbes, steps: densitySteps, seed, grid: TRACKING_DEFAULTS.densityGrid });
        density = { x: d.density.x, y: d.density.y, range: d.range, trace: d.trace.estimate };
        matvecs += d.matvecs;
      } finally {
        op.dispose();
      }
    }
    return { step, epoch: step / stepsPerEpoch, loss, lmax, trace, density, matvecs, seconds: (performance.now() - r0) / 1000 };
  };

  return {
    callbacks: {
      async onStep(info: StepInfo) {
        if (info.step % every !== 0) return;
        const theta = Float64Array.from(await take(info.theta.ref));
        const rec = await measure(info.step, theta);
        records.push(rec);
        opts.onRecord?.(rec);
      },
    },
    records,
    result() {
      return {
        method: "full-batch curvature every N training steps (Lanczos lambda_max, Hutchinson trace, SLQ density)",
        objective: objective.description,
        settings: { track, every, dtype, traceProbes, densityProbes, densitySteps, seed, optimizer: opts.optimizer },
        thresholds,
        records: [...records],
        matvecs: records.reduce((s, r) => s + r.matvecs, 0),
        seconds: (performance.now() - t0) / 1000,
      };
    },
    dispose() {
      objective.dispose();
    },
  };
}
