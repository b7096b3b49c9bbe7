/**
 * The lab's compute worker: the curvlab library, run off the page's UI thread. One job at a time
 * (train, spectrum, slice, interpolate; see protocol.ts), each a thin composition of library
 * calls, the same ones the CLI and the Hessian study make (Sagun, Evci, Güney, Dauphin & Bottou
 * 2017, "Empirical Analysis of the Hessian of Over-Parametrized Neural Networks"):
 * - train: src/train/train.ts (momentum SGD), evaluations streamed for the live loss curve;
 * - spectrum: up to `denseMax` parameters the exact spectrum (materialize the operator, dense
 *   eigh) read by readSpectrum (bulk / outlier split); beyond it matrix-free Lanczos (top k).
 *   Both get an SLQ density (Ubaru, Chen & Saad 2017) for the density figure. The Gauss-Newton
 *   matrix gets the same treatment for the overlay;
 * - slice: top Hessian eigenvector (Lanczos) and the loss along it (slice1d);
 * - interpolate: small-batch and large-batch runs from one initialization, the loss on the line
 *   through them (interpolatePath) and the top eigenvalue at a few points.
 *
 * Device: WebGPU when the browser has a working adapter (float32), otherwise Wasm (float64 for
 * the curvature, float32 for training, as the CLI). Cancellation: the page sets a shared flag;
 * every progress callback checks it and throws Cancelled, which ends the job at the next step
 * or product and leaves the worker ready for the next one.
 */
import "./worker-threads.ts";
import { startEngine, type EngineInfo } from "../../src/engine/start.ts";
import { parseModel } from "../../src/nn/spec.ts";
import type { Model } from "../../src/nn/model.ts";
import { loadData } from "../../src/data/spec.ts";
import type { Dataset } from "../../src/data/dataset.ts";
import { train } from "../../src/train/train.ts";
import { makeProblem, evaluate } from "../../src/curvature/problem.ts";
import { curvatureOperator, type OperatorName } from "../../src/curvature/make.ts";
import { materialize } from "../../src/curvature/dense.ts";
import { eigvalsh } from "../../src/linalg/dense/eigh.ts";
import { lanczosEigs } from "../../src/linalg/lanczos.ts";
import { spectralDensity } from "../../src/linalg/slq.ts";
import { readSpectrum } from "../../src/spectrum/summary.ts";
import { modelObjective } from "../../src/landscape/objective.ts";
import { eigenDirections } from "../../src/landscape/directions.ts";
import { slice1d } from "../../src/landscape/slices.ts";
import { interpolatePath, interpolate } from "../../src/landscape/interpolation.ts";
import { loadMnistBrowser } from "./mnist-browser.ts";
import type {
  DeviceReport, FromWorker, InterpolateJob, InterpolateOutput, Job, JobOutput, OperatorSpectrum, SliceJob, SliceOutput,
  SpectrumJob, SpectrumOutput, ToWorker, TrainJob, TrainOutput,
} from "./protocol.ts";

class Cancelled extends Error {
  constructor() {
    super("cancelled");
  }
}

const post = (m: FromWorker) => (self as unknown as Worker).postMessage(m);
let cancelFlag: Int32Array | null = null;
let engine: EngineInfo | null = null;

function checkCancelled(): void {
  if (cancelFlag && Atomics.load(cancelFlag, 0) !== 0) throw new Cancelled();
}

/** A progress reporter for one stage: checks the cancel flag at every call, posts at most every 60 ms. */
function stage(id: number, label: string): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    checkCancelled();
    const now = performance.now();
    if (done >= total || now - last > 60) {
      last = now;
      post({ type: "progress", id, label, done, total });
    }
  };
}

const datasets = new Map<string, Dataset>();
async function dataOf(spec: string, id: number): Promise<Dataset> {
  let ds = datasets.get(spec);
  if (!ds) {
    const m = /^mnist:n=(\d+)$/.exec(spec);
    ds = m ? await loadMnistBrowser(Number(m[1]), stage(id, "Loading MNIST digits")) : loadData(spec);
    datasets.set(spec, ds);
  }
  return ds;
}

/** Curvature arithmetic: float64 on Wasm (as the CLI), float32 on WebGPU (its only float). */
const curvatureDtype = () => (engine?.device === "webgpu" ? "float32" : "float64");

async function runTrain(id: number, job: TrainJob): Promise<TrainOutput> {
  const model = parseModel(job.model);
  const data = await dataOf(job.data, id);
  const steps = Math.ceil(data.y.length / job.batchSize) * job.epochs;
  const progress = stage(id, "Training");
  const r = await train({
    model, train: data, epochs: job.epochs, batchSize: job.batchSize, seed: job.seed,
    optimizer: { name: "momentum", lr: job.lr, momentum: job.momentum },
    // About 40 points on the live curve.
    evalEvery: Math.max(1, Math.round(steps / 40)),
  }, {
    onStep: (s) => progress(s.step, steps),
    onEval: (record) => post({ type: "eval", id, record }),
  });
  return { kind: "train", theta: Float64Array.from(r.theta), parameters: model.size, history: r.history, seconds: r.seconds };
}

async function operatorSpectrum(
  id: number, model: Model, data: Dataset, theta: Float64Array, operator: OperatorName, job: SpectrumJob,
): Promise<OperatorSpectrum> {
  const t0 = performance.now();
  const label = operator === "hessian" ? "Hessian" : "Gauss-Newton";
  const problem = makeProblem(model, data, theta, { dtype: curvatureDtype() });
  const op = curvatureOperator(problem, { operator });
  try {
    let eigenvalues: Float64Array, exact: boolean;
    if (model.size <= job.denseMax) {
      const A = await materialize(op, { onProgress: stage(id, `${label}: ${model.size} columns`) });
      checkCancelled();
      post({ type: "progress", id, label: `${label}: dense eigensolver (n = ${A.n})`, done: 0, total: 1 });
      eigenvalues = eigvalsh({ n: A.n, data: A.data }, { overwrite: true });
      exact = true;
    } else {
      const p = stage(id, `${label}: Lanczos, top ${job.topK}`);
      const r = await lanczosEigs(op, { k: job.topK, which: "largest", seed: job.seed, confirm: false, onProgress: (q) => p(q.converged, q.wanted) });
      eigenvalues = Float64Array.from(r.eigenvalues);
      exact = false;
    }
    // The density figure shows the Hessian's SLQ density (checked against the exact eigenvalues
    // when there are); the Gauss-Newton one is needed only when there is no exact spectrum.
    const density = operator === "hessian" || !exact
      ? (await spectralDensity(op, { probes: job.probes, steps: job.steps, seed: job.seed, grid: 400, onProgress: stage(id, `${label}: SLQ density`) })).density
      : null;
    return {
      name: label,
      eigenvalues,
      exact,
      density: density && { x: density.x, y: density.y, sigma: density.sigma },
      // The split's defaults, as in the Hessian study: a cross-entropy model's outliers often
      // stand only 1.3-1.8x above the bulk, and the page then names the clearest gap instead.
      reading: exact ? readSpectrum(eigenvalues, { flatness: { dtype: curvatureDtype() } }) : null,
      matvecs: op.matvecs,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    op.dispose();
    problem.dispose();
  }
}

async function runSpectrum(id: number, job: SpectrumJob): Promise<SpectrumOutput> {
  const t0 = performance.now();
  const model = parseModel(job.model);
  const data = await dataOf(job.data, id);
  const problem = makeProblem(model, data, job.theta, { dtype: curvatureDtype() });
  const m = await evaluate(problem);
  problem.dispose();
  const spectra = [await operatorSpectrum(id, model, data, job.theta, "hessian", job)];
  if (job.ggn) spectra.push(await operatorSpectrum(id, model, data, job.theta, "ggn", job));
  return {
    kind: "spectrum", parameters: model.size, dtype: curvatureDtype(), method: model.size <= job.denseMax ? "dense" : "matrix-free",
    loss: m.loss, accuracy: m.accuracy, spectra, seconds: (performance.now() - t0) / 1000,
  };
}

async function runSlice(id: number, job: SliceJob): Promise<SliceOutput> {
  const t0 = performance.now();
  const model = parseModel(job.model);
  const data = await dataOf(job.data, id);
  const objective = modelObjective(model, data, { dtype: curvatureDtype() });
  try {
    const p = stage(id, "Top eigenvector (Lanczos)");
    const top = await eigenDirections(objective, job.theta, 1, { seed: job.seed, onProgress: (q) => p(q.converged, q.wanted) });
    const s = await slice1d(objective, job.theta, top.directions[0]!, { from: -job.range, to: job.range, points: job.points, onProgress: stage(id, "Loss along the eigenvector") });
    const lambda = top.eigenvalues[0]!;
    // Second-order model along the line: L(θ) + (g·v) a + λ a²/2 (θ is not exactly a minimum).
    const g = await objective.gradient(job.theta);
    const v = top.directions[0]!;
    let slope = 0;
    for (let i = 0; i < g.length; i++) slope += g[i]! * v[i]!;
    return {
      kind: "slice", lambdaMax: lambda, slope, alphas: s.alphas, loss: s.loss, accuracy: s.accuracy,
      quadratic: s.alphas.map((a) => s.originLoss + slope * a + 0.5 * lambda * a * a), seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    objective.dispose();
  }
}

async function runInterpolate(id: number, job: InterpolateJob): Promise<InterpolateOutput> {
  const t0 = performance.now();
  const model = parseModel(job.model);
  const data = await dataOf(job.data, id);
  const n = data.y.length;
  const init = model.init(job.seed);
  const optimizer = { name: "momentum" as const, lr: job.lr, momentum: job.momentum };
  const smallSteps = Math.ceil(n / job.smallBatch) * job.smallEpochs;
  const ps = stage(id, `Training with batch ${job.smallBatch}`);
  const small = await train({ model, train: data, epochs: job.smallEpochs, batchSize: job.smallBatch, seed: job.seed, optimizer, initTheta: init },
    { onStep: (s) => ps(s.step, smallSteps) });
  const pl = stage(id, `Training with the full batch (${n})`);
  const large = await train({ model, train: data, steps: job.largeSteps, batchSize: n, seed: job.seed, optimizer, initTheta: init },
    { onStep: (s) => pl(s.step, job.largeSteps) });
  const a = Float64Array.from(small.theta), b = Float64Array.from(large.theta);
  const objective = modelObjective(model, data, { dtype: curvatureDtype() });
  try {
    const pp = stage(id, "Loss along the line");
    const path = await interpolatePath(objective, a, b, { from: -0.5, to: 1.5, points: job.points, onPoint: (d, t) => pp(d, t) });
    const curvature: { alpha: number; lambdaMax: number }[] = [];
    const pc = stage(id, "Top eigenvalue along the line");
    for (let i = 0; i < job.curvaturePoints; i++) {
      const alpha = job.curvaturePoints === 1 ? 0 : i / (job.curvaturePoints - 1);
      const op = objective.curvature(interpolate(a, b, alpha));
      try {
        const r = await lanczosEigs(op, { k: 1, which: "largest", tol: 1e-6, seed: job.seed, confirm: false, onProgress: () => checkCancelled() });
        curvature.push({ alpha, lambdaMax: r.eigenvalues[0]! });
      } finally {
        op.dispose();
      }
      pc(i + 1, job.curvaturePoints);
    }
    return {
      kind: "interpolate", alphas: path.alphas, loss: path.loss, accuracy: path.accuracy.map((x) => x ?? NaN),
      barrier: path.barrier, barrierAlpha: path.barrierAlpha, distance: path.distance,
      small: { batch: job.smallBatch, loss: path.lossA, accuracy: small.final.trainAccuracy },
      large: { batch: n, loss: path.lossB, accuracy: large.final.trainAccuracy },
      curvature, seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    objective.dispose();
  }
}

function run(id: number, job: Job): Promise<JobOutput> {
  switch (job.kind) {
    case "train": return runTrain(id, job);
    case "spectrum": return runSpectrum(id, job);
    case "slice": return runSlice(id, job);
    case "interpolate": return runInterpolate(id, job);
  }
}

/** WebGPU when asked for (or "auto") and an adapter answers; Wasm otherwise, with the reason. */
async function start(device: "auto" | "wasm" | "webgpu"): Promise<DeviceReport> {
  const isolated = (self as unknown as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  let fallback: string | undefined;
  if (device !== "wasm") {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null> } }).gpu;
    if (!gpu) fallback = "this browser has no WebGPU";
    else {
      try {
        const adapter = await gpu.requestAdapter();
        if (!adapter) fallback = "no WebGPU adapter";
        else {
          engine = await startEngine({ device: "webgpu" });
          const info = adapter.info ?? {};
          const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(" ") || "GPU";
          return { device: "webgpu", threads: 1, adapter: name, isolated };
        }
      } catch (e) {
        fallback = `WebGPU failed to start (${(e as Error).message})`;
      }
    }
  }
  engine = await startEngine({ device: "wasm" });
  return { device: "wasm", threads: engine.threads, isolated, ...(fallback && device !== "wasm" ? { fallback } : {}) };
}

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  if (msg.type === "init") {
    cancelFlag = msg.cancelFlag;
    try {
      post({ type: "ready", device: await start(msg.device) });
    } catch (err) {
      post({ type: "fatal", message: (err as Error).message });
    }
    return;
  }
  // The page clears the flag when a user action starts (an action may chain several jobs).
  try {
    const output = await run(msg.id, msg.job);
    post({ type: "done", id: msg.id, output });
  } catch (err) {
    const cancelled = err instanceof Cancelled;
    if (!cancelled) console.warn("curvlab lab job failed:", err);
    post({ type: "error", id: msg.id, message: cancelled ? "cancelled" : (err as Error).message ?? String(err), cancelled });
  }
};
