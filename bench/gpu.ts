/**
 * Benchmark: curvlab on WebGPU (jax-js's WebGPU backend; in Node through Dawn, the npm package
 * `webgpu`) against PyTorch on CUDA, on the same inputs, in the same process run.
 *
 *   node --import tsx bench/gpu.ts [--quick]         (on a GPU machine: bash .gpu-carry/remote.sh node --import tsx bench/gpu.ts)
 *
 * Cases (full; --quick: tiny sizes that run in a minute or two on the software adapter):
 * - matmul throughput, float32 n x n x n, n = 1024, 2048, 4096 (quick: 128, 256);
 * - HVP of mlp:784-1024-1024-10:tanh (1.86M parameters) at batch 4,096 (quick: mlp:784-32-10:tanh
 *   at 64): curvlab's default Hessian operator (linearize once, replay) and its gradient, PyTorch's
 *   double backward and autograd gradient; inputs N(0,1), uniform labels, seeded; the HVP values of
 *   both sides compared (max |a - b| / max |b|);
 * - HVP of resnet:20 at batch 1,024 (quick: 8), where parseModel knows the spec (skipped with a
 *   note otherwise); PyTorch times its own ResNet-20 (same architecture, its own weights);
 * - top-10 Lanczos (full reorthogonalization, curvlab's defaults) and SLQ 10 probes x 80 steps on
 *   the MNIST MLP mlp:784-128-10:tanh on 1,000 digits (quick: mlp:784-8-10:tanh on 100, top 3,
 *   SLQ 2 x 10); PyTorch runs the same Lanczos (the step count curvlab took) and SLQ on CUDA;
 * - accuracy of float32 on the device against float64 on wasm (a child process: the engine runs
 *   on one device per process): the top-10 Hessian eigenvalues, SLQ's (3 x 30) trace and
 *   ||H||_F^2 estimates and Hutch++'s trace (30 products), same seeds on both sides, on
 *   mlp:784-32-10:tanh on 1,000 digits (quick: mlp:784-8-10:tanh on 100, top 3). The float64
 *   side runs on wasm in float64 (no SIMD), so it is kept small: a few minutes on 4 threads.
 *   Measured on the software adapter (2-core machine, 2026-12-02): top-10 within 8.4e-7
 *   relative (wasm float32: 5.7e-7), SLQ trace 7e-8, ||H||_F^2 1.4e-6, Hutch++ 1.1e-6.
 * Timings are medians after a warm-up (every new shape compiles shaders: the first call is not
 * timed). PyTorch (bench/peers/gpu_torch.py) runs with TF32 off, on CUDA where it has it (on the
 * CPU otherwise, in --quick only, so that the peer is exercised). Without python3 + torch the
 * tables hold curvlab's numbers only.
 *
 * On a software adapter (SwiftShader: no GPU) only --quick runs; the full sizes would take hours.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEngine, type EngineInfo } from "../src/engine/start.ts";
import { numpy as np, jit, grad } from "../src/engine/jax.ts";
import { hostRng } from "../src/engine/host-rng.ts";
import type { DTypeName } from "../src/engine/dtype.ts";
import { InputError } from "../src/errors.ts";
import { parseModel } from "../src/nn/spec.ts";
import type { Model } from "../src/nn/model.ts";
import type { Dataset } from "../src/data/dataset.ts";
import { loadData } from "../src/data/spec.ts";
import { writeNpy, readNpy } from "../src/data/npy.ts";
import { makeProblem, batchLoss } from "../src/curvature/problem.ts";
import { hessianOperator } from "../src/curvature/hessian.ts";
import { curvatureOperator } from "../src/curvature/make.ts";
import { lanczosEigs } from "../src/linalg/lanczos.ts";
import { spectralDensity } from "../src/linalg/slq.ts";
import { hutchppTrace } from "../src/linalg/hutchpp.ts";
import type { BenchContext, BenchResult, BenchTable, Cell } from "./lib/contract.ts";
import { findPython, startPeer, type Peer } from "./lib/peer.ts";
import { median, sig, timeDevice, maxRelDiff } from "./lib/stats.ts";
import { runIfMain } from "./lib/harness.ts";

interface Sizes {
  readonly matmul: readonly number[];
  readonly mlp: { readonly model: string; readonly batch: number };
  readonly resnet: { readonly model: string; readonly batch: number };
  readonly spectra: { readonly model: string; readonly data: string; readonly top: number; readonly probes: number; readonly steps: number };
  readonly accuracy: { readonly model: string; readonly data: string; readonly top: number; readonly probes: number; readonly steps: number; readonly traceMatvecs: number };
  readonly reps: number;
}

const FULL: Sizes = {
  matmul: [1024, 2048, 4096],
  mlp: { model: "mlp:784-1024-1024-10:tanh", batch: 4096 },
  resnet: { model: "resnet:20", batch: 1024 },
  spectra: { model: "mlp:784-128-10:tanh", data: "mnist:n=1000", top: 10, probes: 10, steps: 80 },
  accuracy: { model: "mlp:784-32-10:tanh", data: "mnist:n=1000", top: 10, probes: 3, steps: 30, traceMatvecs: 30 },
  reps: 10,
};
const QUICK: Sizes = {
  matmul: [128, 256],
  mlp: { model: "mlp:784-32-10:tanh", batch: 64 },
  resnet: { model: "resnet:20", batch: 8 },
  spectra: { model: "mlp:784-8-10:tanh", data: "mnist:n=100", top: 3, probes: 2, steps: 10 },
  accuracy: { model: "mlp:784-8-10:tanh", data: "mnist:n=100", top: 3, probes: 2, steps: 10, traceMatvecs: 12 },
  reps: 3,
};
const SEED = 1;
const CLASSES = 10;
const SELF = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------------------------
// The float64 reference (wasm, child process) and the float32 side: the same computations.

interface AccuracyJob {
  readonly eigenvalues: readonly number[];
  readonly residuals: readonly number[];
  readonly lanczosSteps: number;
  readonly trace: number;
  readonly frobeniusSquared: number;
  readonly hutchpp: number;
  readonly seconds: number;
}

async function accuracyJob(s: Sizes["accuracy"], dtype: DTypeName): Promise<AccuracyJob> {
  const t0 = performance.now();
  const model = parseModel(s.model);
  const problem = makeProblem(model, loadData(s.data), model.init(0), { dtype });
  const op = curvatureOperator(problem, { operator: "hessian" });
  try {
    const l = await lanczosEigs(op, { k: s.top, which: "largest", seed: SEED, tol: dtype === "float64" ? 1e-10 : undefined });
    const d = await spectralDensity(op, { probes: s.probes, steps: s.steps, seed: SEED });
    const h = await hutchppTrace(op, { matvecs: s.traceMatvecs, seed: SEED });
    return {
      eigenvalues: l.eigenvalues, residuals: l.residuals, lanczosSteps: l.steps,
      trace: d.trace.estimate, frobeniusSquared: d.frobeniusSquared.estimate, hutchpp: h.estimate,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    op.dispose();
    problem.dispose();
  }
}

/** `node --import tsx bench/gpu.ts --reference SIZES_JSON`: the float64 side, on wasm, as JSON on stdout. */
async function referenceMain(): Promise<void> {
  const s = JSON.parse(process.argv[process.argv.indexOf("--reference") + 1]!) as Sizes["accuracy"];
  await startEngine({ device: "wasm" });
  process.stdout.write(JSON.stringify(await accuracyJob(s, "float64")));
  process.exit(0);
}

function wasmReference(s: Sizes["accuracy"]): Promise<AccuracyJob> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", SELF, "--reference", JSON.stringify(s)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve(JSON.parse(out) as AccuracyJob) : reject(new Error(`wasm reference failed (${code}): ${err.slice(-1000)}`))));
  });
}

// ---------------------------------------------------------------------------------------------
// Inputs shared with the peer.

function syntheticData(model: Model, batch: number, seed: number): Dataset {
  const rng = hostRng(seed);
  const d = model.inputShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(batch * d);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const y = Int32Array.from({ length: batch }, () => rng.int(CLASSES));
  return { x, featureShape: [...model.inputShape], y, numClasses: CLASSES, name: `normal(${batch}x${model.inputShape.join("x")}, seed ${seed})` };
}

function normalVector(n: number, seed: number): Float32Array {
  const rng = hostRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

function writeInputs(dir: string, data: Dataset, theta: Float32Array, v: Float32Array): void {
  const d = data.featureShape.reduce((a, b) => a * b, 1);
  writeNpy(join(dir, "x.npy"), { shape: [data.y.length, d], data: Float32Array.from(data.x as ArrayLike<number>) });
  writeNpy(join(dir, "y.npy"), { shape: [data.y.length], data: data.y });
  writeNpy(join(dir, "theta.npy"), { shape: [theta.length], data: theta });
  writeNpy(join(dir, "v.npy"), { shape: [v.length], data: v });
}

const widthsOf = (spec: string) => spec.split(":")[1]!.split("-").map(Number);
const activationOf = (spec: string) => spec.split(":")[2] ?? "relu";

// ---------------------------------------------------------------------------------------------

async function openPeer(ctx: BenchContext): Promise<{ peer: Peer | null; description: string | null; note?: string }> {
  const found = findPython("import torch, numpy");
  if (found.python === null) return { peer: null, description: null, note: `PyTorch peer not run: no python3 with torch (${found.why}).` };
  const peer = startPeer(found.python, fileURLToPath(new URL("./peers/gpu_torch.py", import.meta.url)), "PyTorch");
  const info = (await peer.ask({ cmd: "info" })) as { torch: string; cuda: string | null; device: string; threads: number };
  if (!info.cuda && !ctx.quick) {
    peer.close();
    return { peer: null, description: null, note: `PyTorch peer not run: torch ${info.torch} has no CUDA here (it runs on the CPU in --quick only).` };
  }
  const description = info.cuda ? `${info.torch}, CUDA ${info.cuda}, ${info.device}, TF32 off` : `${info.torch}, CPU (${info.threads} threads; no CUDA: a smoke run)`;
  ctx.log(`PyTorch ${description}`);
  return { peer, description };
}

async function timeMedian(reps: number, f: () => Promise<number>): Promise<number> {
  await f(); // warm-up: shader compilation
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) xs.push(await f());
  return median(xs);
}

async function peerMs(peer: Peer, msg: object): Promise<number> {
  const a = await peer.ask(msg);
  return median(a.seconds as number[]) * 1000;
}

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const title = "GPU: curvlab on WebGPU vs PyTorch on CUDA (float32)";
  let engine: EngineInfo;
  try {
    engine = await startEngine({ device: "webgpu" });
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { title, tables: [], notes: [`Not run: ${e.message}`] };
  }
  const adapter = `${engine.adapter}${engine.software ? " (software adapter)" : ""}`;
  ctx.log(`webgpu adapter: ${adapter}`);
  if (engine.software && !ctx.quick) {
    return { title, tables: [], notes: [`Not run: the WebGPU adapter is ${adapter}, a CPU emulation; the full sizes need a GPU (--quick runs the tiny sizes here).`] };
  }
  const S = ctx.quick ? QUICK : FULL;
  const accuracyRef = wasmReference(S.accuracy);
  accuracyRef.catch(() => {});
  const { peer, description, note } = await openPeer(ctx);
  const notes: string[] = [`WebGPU adapter: ${adapter}.`];
  if (note) notes.push(note);
  const tables: BenchTable[] = [];
  const dir = mkdtempSync(join(tmpdir(), "curvlab-gpu-bench-"));
  try {
    // --- matmul -----------------------------------------------------------------------------
    const mm: Record<string, Cell>[] = [];
    for (const n of S.matmul) {
      const a = np.array(normalVector(n * n, 2)).reshape([n, n]);
      const b = np.array(normalVector(n * n, 3)).reshape([n, n]);
      const ms = await timeMedian(S.reps, () => timeDevice(() => np.matmul(a.ref, b.ref)));
      a.dispose(), b.dispose();
      const ours = (2 * n ** 3) / (ms / 1000) / 1e9;
      const row: Record<string, Cell> = { n, "curvlab GFLOP/s": sig(ours), "curvlab ms": sig(ms) };
      if (peer) {
        const g = median((await peer.ask({ cmd: "gemm", n, reps: S.reps })).gflops as number[]);
        row["PyTorch GFLOP/s"] = sig(g);
        row["PyTorch / curvlab"] = sig(g / ours, 2);
      }
      ctx.log(`matmul ${n}: ${sig(ours)} GFLOP/s`);
      mm.push(row);
    }
    tables.push({ title: "Matmul throughput (float32, n x n times n x n)", rows: mm });

    // --- HVPs ---------------------------------------------------------------------------------
    const hv: Record<string, Cell>[] = [];
    {
      const { model: spec, batch } = S.mlp;
      const model = parseModel(spec);
      const data = syntheticData(model, batch, SEED);
      const theta = Float32Array.from(model.init(SEED));
      const vHost = normalVector(model.size, SEED + 1);
      const problem = makeProblem(model, data, theta, { dtype: "float32", loss: "cross-entropy", batchSize: batch });
      const v = np.array(vHost);
      const op = hessianOperator(problem);
      const first = op.matvec(v);
      const ours = Float32Array.from((await first.data()) as Float32Array);
      const gfn = jit(grad(batchLoss(problem)));
      const b = problem.batches[0]!;
      const gradMs = await timeMedian(S.reps, () => timeDevice(() => gfn(problem.theta.ref, b.x.ref, b.targets.ref)));
      const hvpMs = await timeMedian(S.reps, () => timeDevice(() => op.matvec(v)));
      const row: Record<string, Cell> = { model: spec, params: model.size, batch, "curvlab grad ms": sig(gradMs), "curvlab HVP ms": sig(hvpMs) };
      if (peer) {
        writeInputs(dir, data, theta, vHost);
        await peer.ask({ cmd: "load", dir, widths: widthsOf(spec), activation: activationOf(spec) });
        await peer.ask({ cmd: "hvp", out: dir });
        const ref = readNpy(join(dir, "torch_hvp_f32.npy")).data as Float32Array;
        row["PyTorch grad ms"] = sig(await peerMs(peer, { cmd: "time", what: "grad", reps: S.reps }));
        row["PyTorch HVP ms"] = sig(await peerMs(peer, { cmd: "time", what: "hvp", reps: S.reps }));
        row["HVP / PyTorch's"] = sig(hvpMs / (row["PyTorch HVP ms"] as number), 2);
        row["HVP max rel diff"] = sig(maxRelDiff(ours, ref), 2);
      }
      ctx.log(`${spec} batch ${batch}: grad ${sig(gradMs)} ms, HVP ${sig(hvpMs)} ms`);
      gfn.dispose(), op.dispose(), v.dispose(), problem.dispose();
      hv.push(row);
    }
    {
      const { model: spec, batch } = S.resnet;
      let model: Model | null = null;
      try {
        model = parseModel(spec);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        notes.push(`${spec}: skipped, this version's parseModel does not know it (${e.message}).`);
      }
      if (model) {
        const data = syntheticData(model, batch, SEED);
        const problem = makeProblem(model, data, model.init(SEED), { dtype: "float32", loss: "cross-entropy", batchSize: batch });
        const v = np.array(normalVector(model.size, SEED + 1));
        const op = hessianOperator(problem);
        const hvpMs = await timeMedian(S.reps, () => timeDevice(() => op.matvec(v)));
        const row: Record<string, Cell> = { model: spec, params: model.size, batch, "curvlab HVP ms": sig(hvpMs) };
        if (peer) {
          const a = await peer.ask({ cmd: "resnet", batch, reps: S.reps });
          row["PyTorch HVP ms"] = sig(median(a.seconds as number[]) * 1000);
          row["HVP / PyTorch's"] = sig(hvpMs / (row["PyTorch HVP ms"] as number), 2);
        }
        ctx.log(`${spec} batch ${batch}: HVP ${sig(hvpMs)} ms`);
        op.dispose(), v.dispose(), problem.dispose();
        hv.push(row);
        if (peer) notes.push(`${spec}: PyTorch times its own ResNet-20 (He et al. 2016, CIFAR variant, BatchNorm in eval mode), not curvlab's weights.`);
      }
    }
    tables.push({ title: "Hessian-vector products (float32, cross-entropy)", rows: hv });

    // --- Lanczos and SLQ on the MNIST MLP -----------------------------------------------------
    {
      const s = S.spectra;
      const model = parseModel(s.model);
      const data = loadData(s.data);
      const theta = Float32Array.from(model.init(0));
      const problem = makeProblem(model, data, theta, { dtype: "float32" });
      const op = curvatureOperator(problem, { operator: "hessian" });
      // Warm-up (shader compilation for every basis-block shape of a short run).
      await lanczosEigs(op, { k: 1, maxSteps: Math.min(16, model.size), seed: 99, confirm: false });
      let t0 = performance.now();
      const l = await lanczosEigs(op, { k: s.top, which: "largest", seed: SEED });
      const lanczosS = (performance.now() - t0) / 1000;
      t0 = performance.now();
      const d = await spectralDensity(op, { probes: s.probes, steps: s.steps, seed: SEED });
      const slqS = (performance.now() - t0) / 1000;
      const rows: Record<string, Cell>[] = [
        { job: `Lanczos top-${s.top}`, model: s.model, data: s.data, matvecs: l.matvecs, "curvlab s": sig(lanczosS), "curvlab ms / step": sig((1000 * lanczosS) / l.steps) },
        { job: `SLQ ${s.probes} x ${s.steps}`, model: s.model, data: s.data, matvecs: d.matvecs, "curvlab s": sig(slqS), "curvlab ms / step": sig((1000 * slqS) / d.matvecs) },
      ];
      ctx.log(`Lanczos top-${s.top}: ${l.steps} steps, ${sig(lanczosS)} s; SLQ: ${sig(slqS)} s`);
      if (peer) {
        writeInputs(dir, data, theta, new Float32Array(model.size));
        await peer.ask({ cmd: "load", dir, widths: widthsOf(s.model), activation: activationOf(s.model) });
        await peer.ask({ cmd: "lanczos", steps: 8, k: 1, seed: 99 }); // warm-up
        const pl = await peer.ask({ cmd: "lanczos", steps: l.steps, k: s.top, seed: SEED });
        const ps = await peer.ask({ cmd: "slq", probes: s.probes, steps: s.steps, seed: SEED });
        Object.assign(rows[0]!, { "PyTorch s": sig(pl.seconds as number), "curvlab / PyTorch": sig(lanczosS / (pl.seconds as number), 2) });
        Object.assign(rows[1]!, { "PyTorch s": sig(ps.seconds as number), "curvlab / PyTorch": sig(slqS / (ps.seconds as number), 2) });
        const top = pl.eigenvalues as number[];
        notes.push(`Lanczos: PyTorch runs ${l.steps} steps (curvlab's total over its runs, confirmation included); its top eigenvalue ${sig(top[0]!, 6)} vs curvlab's ${sig(l.eigenvalues[0]!, 6)}.`);
      }
      op.dispose(), problem.dispose();
      tables.push({ title: "Lanczos and SLQ on the MNIST MLP (Hessian at initialization, float32)", rows });
    }

    // --- Accuracy: float32 on the device against float64 on wasm ------------------------------
    {
      const s = S.accuracy;
      const gpu = await accuracyJob(s, "float32");
      const ref = await accuracyRef;
      const rel = (a: number, b: number) => sig(Math.abs(a - b) / Math.abs(b), 2);
      const lmax = Math.abs(ref.eigenvalues[0]!);
      const eigRel = gpu.eigenvalues.map((x, i) => Math.abs(x - ref.eigenvalues[i]!) / Math.abs(ref.eigenvalues[i]!));
      const rows: Record<string, Cell>[] = [
        ...[0, Math.floor((s.top - 1) / 2), s.top - 1].map((i) => ({
          quantity: `lambda_${i + 1}`, "float32 (webgpu)": sig(gpu.eigenvalues[i]!, 8), "float64 (wasm)": sig(ref.eigenvalues[i]!, 8), "relative difference": rel(gpu.eigenvalues[i]!, ref.eigenvalues[i]!),
        })),
        { quantity: `max over the top ${s.top}`, "float32 (webgpu)": null, "float64 (wasm)": null, "relative difference": sig(Math.max(...eigRel), 2) },
        { quantity: `SLQ ${s.probes} x ${s.steps} trace`, "float32 (webgpu)": sig(gpu.trace, 8), "float64 (wasm)": sig(ref.trace, 8), "relative difference": rel(gpu.trace, ref.trace) },
        { quantity: "SLQ Frobenius norm squared", "float32 (webgpu)": sig(gpu.frobeniusSquared, 8), "float64 (wasm)": sig(ref.frobeniusSquared, 8), "relative difference": rel(gpu.frobeniusSquared, ref.frobeniusSquared) },
        { quantity: `Hutch++ trace (${s.traceMatvecs} products)`, "float32 (webgpu)": sig(gpu.hutchpp, 8), "float64 (wasm)": sig(ref.hutchpp, 8), "relative difference": rel(gpu.hutchpp, ref.hutchpp) },
      ];
      notes.push(`Accuracy: ${s.model} on ${s.data} at initialization; Lanczos in float32 stops at its default relative residual 1e-4 (${gpu.lanczosSteps} steps; float64 at 1e-10, ${ref.lanczosSteps} steps); lambda_1 = ${sig(lmax, 5)}; the same seeds on both sides.`);
      tables.push({ title: "Accuracy: float32 on WebGPU against float64 on wasm", rows });
    }
  } finally {
    peer?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { title, summary: "Timings are medians after a warm-up call (shader compilation); HVP values compared with PyTorch's.", tables, notes, peers: description ? { PyTorch: description } : undefined };
}

if (process.argv.includes("--reference")) await referenceMain();
else runIfMain(import.meta.url);
