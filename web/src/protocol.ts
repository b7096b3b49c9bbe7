/**
 * Messages between the lab page (main.ts) and its compute worker (compute-worker.ts). The page
 * holds the state (trained parameters, results) and builds the figures; the worker runs the
 * library (training, curvature, Lanczos, SLQ, slices, interpolation) off the UI thread and streams
 * progress. Everything here is structured-clone friendly (plain objects, typed arrays).
 */
import type { EvalRecord } from "../../src/train/train.ts";
import type { SpectrumReading } from "../../src/spectrum/summary.ts";

export interface TrainJob {
  readonly kind: "train";
  readonly model: string;
  readonly data: string;
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly momentum: number;
  readonly seed: number;
}

export interface SpectrumJob {
  readonly kind: "spectrum";
  readonly model: string;
  readonly data: string;
  readonly theta: Float64Array;
  /** Also the Gauss-Newton matrix (overlay). */
  readonly ggn: boolean;
  /** Models up to this many parameters get the exact dense spectrum; larger ones Lanczos + SLQ. */
  readonly denseMax: number;
  /** Top eigenvalues by Lanczos (matrix-free path). */
  readonly topK: number;
  readonly probes: number;
  readonly steps: number;
  readonly seed: number;
}

export interface SliceJob {
  readonly kind: "slice";
  readonly model: string;
  readonly data: string;
  readonly theta: Float64Array;
  readonly range: number;
  readonly points: number;
  readonly seed: number;
}

export interface InterpolateJob {
  readonly kind: "interpolate";
  readonly model: string;
  readonly data: string;
  readonly seed: number;
  readonly lr: number;
  readonly momentum: number;
  readonly smallBatch: number;
  readonly smallEpochs: number;
  /** Full-batch gradient-descent steps of the large-batch run. */
  readonly largeSteps: number;
  readonly points: number;
  /** Points on [0, 1] where the top Hessian eigenvalue is measured. */
  readonly curvaturePoints: number;
}

export type Job = TrainJob | SpectrumJob | SliceJob | InterpolateJob;

export interface TrainOutput {
  readonly kind: "train";
  readonly theta: Float64Array;
  readonly parameters: number;
  readonly history: readonly EvalRecord[];
  readonly seconds: number;
}

export interface OperatorSpectrum {
  readonly name: string;
  /** All eigenvalues (dense path, ascending) or the top-k Ritz values (matrix-free, descending). */
  readonly eigenvalues: Float64Array;
  readonly exact: boolean;
  /** SLQ density on a grid (the Hessian's always; the Gauss-Newton's on the matrix-free path). */
  readonly density: { readonly x: readonly number[]; readonly y: readonly number[]; readonly sigma: number } | null;
  /** Bulk / outlier reading (dense path only: it needs the whole spectrum). */
  readonly reading: SpectrumReading | null;
  readonly matvecs: number;
  readonly seconds: number;
}

export interface SpectrumOutput {
  readonly kind: "spectrum";
  readonly parameters: number;
  readonly dtype: "float32" | "float64";
  readonly method: "dense" | "matrix-free";
  readonly loss: number;
  readonly accuracy: number;
  readonly spectra: readonly OperatorSpectrum[];
  readonly seconds: number;
}

export interface SliceOutput {
  readonly kind: "slice";
  readonly lambdaMax: number;
  /** Directional derivative g·v of the loss at theta along the eigenvector. */
  readonly slope: number;
  readonly alphas: readonly number[];
  readonly loss: readonly number[];
  readonly accuracy: readonly number[] | null;
  /** The second-order model L(0) + slope a + lambda a^2 / 2 along the same line, for comparison. */
  readonly quadratic: readonly number[];
  readonly seconds: number;
}

export interface InterpolateOutput {
  readonly kind: "interpolate";
  readonly alphas: readonly number[];
  readonly loss: readonly number[];
  readonly accuracy: readonly number[];
  readonly barrier: number;
  readonly barrierAlpha: number;
  readonly distance: number;
  readonly small: { readonly batch: number; readonly loss: number; readonly accuracy: number };
  readonly large: { readonly batch: number; readonly loss: number; readonly accuracy: number };
  readonly curvature: readonly { readonly alpha: number; readonly lambdaMax: number }[];
  readonly seconds: number;
}

export type JobOutput = TrainOutput | SpectrumOutput | SliceOutput | InterpolateOutput;

export interface DeviceReport {
  readonly device: "wasm" | "webgpu";
  readonly threads: number;
  readonly adapter?: string;
  /** Why WebGPU was not used, when it was not. */
  readonly fallback?: string;
  readonly isolated: boolean;
}

/** Page -> worker. */
export type ToWorker =
  | { readonly type: "init"; readonly device: "auto" | "wasm" | "webgpu"; readonly cancelFlag: Int32Array | null }
  | { readonly type: "run"; readonly id: number; readonly job: Job };

/** Worker -> page. */
export type FromWorker =
  | { readonly type: "ready"; readonly device: DeviceReport }
  | { readonly type: "fatal"; readonly message: string }
  | { readonly type: "progress"; readonly id: number; readonly label: string; readonly done: number; readonly total: number }
  | { readonly type: "eval"; readonly id: number; readonly record: EvalRecord; readonly run?: string }
  | { readonly type: "done"; readonly id: number; readonly output: JobOutput }
  | { readonly type: "error"; readonly id: number; readonly message: string; readonly cancelled: boolean };
