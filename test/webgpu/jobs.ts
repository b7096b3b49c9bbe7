/**
 * The jobs the webgpu tests compare with wasm: the same code, run by the test on webgpu (float32)
 * and by reference.ts on wasm in a child process (float64, except the study, which trains in
 * float32 by design). Each job returns plain JSON. Models are tiny because the software adapter
 * (SwiftShader) is slow, and every new kernel shape costs a shader compilation there.
 */
import type { DTypeName } from "../../src/engine/dtype.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { makeProblem } from "../../src/curvature/problem.ts";
import { curvatureOperator } from "../../src/curvature/make.ts";
import { lanczosEigs } from "../../src/linalg/lanczos.ts";
import { spectralDensity } from "../../src/linalg/slq.ts";
import { hutchppTrace } from "../../src/linalg/hutchpp.ts";
import { train } from "../../src/train/train.ts";
import { memoryJournal } from "../../src/linalg/journal.ts";
import { runIntrinsicDimStudy } from "../../src/studies/intrinsic-dim/run.ts";
import { PRESETS, type IntrinsicDimStudySettings } from "../../src/studies/intrinsic-dim/settings.ts";

/** A 4-class mixture in 8 dimensions and a tanh MLP on it (212 parameters). */
export const SETUP = { model: "mlp:8-16-4:tanh", data: "gmm:k=4,d=8,n=32,sep=3,seed=0", init: 3 } as const;

function hessianOf(dtype: DTypeName) {
  const model = parseModel(SETUP.model);
  const problem = makeProblem(model, loadData(SETUP.data), model.init(SETUP.init), { dtype });
  const op = curvatureOperator(problem, { operator: "hessian" });
  return { op, dispose: () => (op.dispose(), problem.dispose()) };
}

export interface LanczosJob { readonly eigenvalues: readonly number[]; readonly residuals: readonly number[]; readonly steps: number }
export interface SlqJob {
  readonly nodes: readonly (readonly number[])[];
  readonly weights: readonly (readonly number[])[];
  readonly trace: number;
  readonly frobeniusSquared: number;
}
export interface TraceJob { readonly estimate: number; readonly samples: readonly number[] }
export interface TrainJob { readonly losses: readonly number[]; readonly accuracies: readonly number[]; readonly theta: readonly number[] }
export interface StudyJob {
  readonly points: readonly { readonly label: string; readonly trainLoss: number; readonly trainAccuracy: number; readonly testAccuracy: number | null }[];
}

/** The intrinsic-dimension study on 100 MNIST digits: one width (3,190 parameters), two subspace dimensions. */
export const TINY_STUDY: IntrinsicDimStudySettings = {
  ...PRESETS.quick,
  mnist: { n: 100, testFraction: 0.25 },
  widths: [4],
  dims: [16, 64],
  epochs: 2,
  baselineEpochs: 2,
};

export const JOBS = {
  /** Top 5 Hessian eigenvalues by Lanczos (float64: tol 1e-10; float32: its default 1e-4). */
  async lanczos(dtype: DTypeName): Promise<LanczosJob> {
    const { op, dispose } = hessianOf(dtype);
    const r = await lanczosEigs(op, { k: 5, which: "largest", seed: 1, tol: dtype === "float64" ? 1e-10 : undefined });
    dispose();
    return { eigenvalues: r.eigenvalues, residuals: r.residuals, steps: r.steps };
  },
  /** SLQ, 3 Rademacher probes x 20 steps: the probes are the same on every device (counter-based keys). */
  async slq(dtype: DTypeName): Promise<SlqJob> {
    const { op, dispose } = hessianOf(dtype);
    const d = await spectralDensity(op, { probes: 3, steps: 20, seed: 2 });
    dispose();
    return {
      nodes: d.quadrature.map((q) => q.nodes), weights: d.quadrature.map((q) => q.weights),
      trace: d.trace.estimate, frobeniusSquared: d.frobeniusSquared.estimate,
    };
  },
  /** Hutch++ with 30 products (a 10-column sketch, 10 probes). */
  async hutchpp(dtype: DTypeName): Promise<TraceJob> {
    const { op, dispose } = hessianOf(dtype);
    const r = await hutchppTrace(op, { matvecs: 30, seed: 3 });
    dispose();
    return { estimate: r.estimate, samples: r.samples };
  },
  /** 20 steps of SGD with momentum (lr 0.1, batches of 16), evaluated every 5 steps. */
  async train(dtype: DTypeName): Promise<TrainJob> {
    const model = parseModel(SETUP.model);
    const r = await train({
      model, train: loadData(SETUP.data), steps: 20, batchSize: 16, seed: 4, dtype, evalEvery: 5,
      optimizer: { name: "momentum", lr: 0.1, momentum: 0.9 },
    });
    return { losses: r.history.map((h) => h.trainLoss), accuracies: r.history.map((h) => h.trainAccuracy), theta: Array.from(r.theta) };
  },
  /** The intrinsic-dimension study (float32 on every device: its own arithmetic). */
  async study(): Promise<StudyJob> {
    const r = await runIntrinsicDimStudy(TINY_STUDY, { journal: memoryJournal() });
    const points: { label: string; trainLoss: number; trainAccuracy: number; testAccuracy: number | null }[] = [];
    for (const w of r.data.widths) {
      const b = w.sweep.baseline;
      points.push({ label: `width ${w.width} baseline`, trainLoss: b.trainLoss, trainAccuracy: b.trainAccuracy, testAccuracy: b.testAccuracy });
      for (const p of w.sweep.points) points.push({ label: `width ${w.width} d=${p.d}`, trainLoss: p.trainLoss, trainAccuracy: p.trainAccuracy, testAccuracy: p.testAccuracy });
    }
    return { points };
  },
} as const;

export type JobName = keyof typeof JOBS;
