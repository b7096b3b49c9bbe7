/**
 * Benchmark: Hessian-vector products of curvlab (jax-js, Wasm, float32) against PyTorch (CPU,
 * double backward), on the same MLPs, data, weights and vector, in the same process run.
 *
 *   node --import tsx bench/hvp.ts [--quick]      (or all benchmarks: npm run bench)
 *
 * Cases: mlp:784-128-10:tanh and mlp:784-512-512-10:tanh (tanh, so that the second-derivative
 * terms of the activations are in the Hessian), one batch of 1,000 examples with standard normal
 * inputs and uniform labels from a seeded host generator, PyTorch's default initialization
 * (seeded), cross-entropy, float32. The inputs go to the PyTorch peer (bench/peers/hvp_torch.py)
 * as .npy files, so both sides compute the same numbers; the results must agree to float32
 * rounding (both are also compared with PyTorch in float64).
 *
 * Timed, interleaved (ours, torch, ours, torch, ...), each call after a short idle pause (BLAS
 * threads spin after a call; see SETTLE_MS), medians over 15 repetitions after warm-up:
 * - curvlab: the gradient (jit(grad) of the batch loss); the HVP of the default
 *   `hessianOperator(problem)` (linearize once, replay; its one-time cost is reported apart);
 *   the `relinearize` method (linearize in every product);
 * - PyTorch (torch.set_num_threads(2)): autograd gradient; HVP by double backward;
 * - for the record, reverse-over-forward `jit(grad(q => jvp(f, [q], [v])[1]))`, which is not a
 *   method of curvlab: jax-js 0.1.25 gets its VALUES WRONG under jit in float64 (right in float32,
 *   which the table shows against PyTorch);
 * - matmul throughput of both engines at the MLPs' shapes, which explains most of the ratios.
 * Memory: engineMemoryBytes() before and after 2,000 consecutive HVPs on the small MLP (after
 * warm-up); it must not grow.
 *
 * Runs once with CURVLAB_THREADS=2 and once with 1 (the engine's thread count is fixed at import,
 * hence one process per setting). PyTorch is optional: without a python3 that imports torch the
 * tables hold curvlab's numbers only.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEngine, engineMemoryBytes } from "../src/engine/start.ts";
import { numpy as np, jit, grad, jvp, type Array } from "../src/engine/jax.ts";
import { hostRng } from "../src/engine/host-rng.ts";
import { parseModel } from "../src/nn/spec.ts";
import type { Model } from "../src/nn/model.ts";
import type { Dataset } from "../src/data/dataset.ts";
import { writeNpy, readNpy } from "../src/data/npy.ts";
import { makeProblem, batchLoss, type LossProblem } from "../src/curvature/problem.ts";
import { hessianOperator } from "../src/curvature/hessian.ts";
import type { BenchContext, BenchResult, BenchVariant, Cell } from "./lib/contract.ts";
import { findPython, startPeer, type Peer } from "./lib/peer.ts";
import { median, sig, timeDevice, maxRelDiff } from "./lib/stats.ts";
import { runIfMain } from "./lib/harness.ts";

export const variants: readonly BenchVariant[] = [
  { label: "threads=2", env: { CURVLAB_THREADS: "2" } },
  { label: "threads=1", env: { CURVLAB_THREADS: "1" } },
];

const MODELS = ["mlp:784-128-10:tanh", "mlp:784-512-512-10:tanh"];
const BATCH = 1000;
const CLASSES = 10;
const SEED = 1;
const TORCH_THREADS = 2;
/** Agreement expected between the float32 results of the two engines (max |a-b| / max |b|). */
const AGREE = 1e-4;
const WARMUP = 2;
/**
 * Idle time before each timed call. Helper threads of either side keep running for a while after
 * a call returns (OpenBLAS's and OpenMP's spin-waiting workers, Node's garbage collector), so
 * without a pause whichever side runs next shares the cores with them. Measured on 2 cores
 * without it: PyTorch's HVP 15-20x slower, curvlab's gradient up to 3x slower, both erratic.
 */
const SETTLE_MS = 150;
const settle = () => new Promise<void>((r) => setTimeout(r, SETTLE_MS));
/** Matmul shapes of the MLPs (m, k, n): NT = a Linear layer's forward, TN = a weight gradient. */
const GEMMS: readonly [number, number, number, "NT" | "TN"][] = [
  [1000, 784, 128, "NT"],
  [128, 1000, 784, "TN"],
  [1000, 784, 512, "NT"],
  [512, 1000, 784, "TN"],
  [1000, 512, 512, "NT"],
];

interface HostInputs {
  readonly data: Dataset;
  readonly theta: Float32Array;
  readonly v: Float32Array;
}

/** Inputs N(0,1), labels uniform, PyTorch-style initial weights, direction v N(0,1): all seeded. */
function makeInputs(model: Model, seed: number): HostInputs {
  const rng = hostRng(seed);
  const d = model.inputShape[0]!;
  const x = new Float32Array(BATCH * d);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const y = Int32Array.from({ length: BATCH }, () => rng.int(CLASSES));
  const v = new Float32Array(model.size);
  for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  const data: Dataset = { x, featureShape: [d], y, numClasses: CLASSES, name: `normal(${BATCH}x${d}, seed ${seed})` };
  return { data, theta: Float32Array.from(model.init(seed)), v };
}

function writeInputs(dir: string, inp: HostInputs): void {
  const d = inp.data.featureShape[0]!;
  writeNpy(join(dir, "x.npy"), { shape: [BATCH, d], data: inp.data.x });
  writeNpy(join(dir, "y.npy"), { shape: [BATCH], data: inp.data.y });
  writeNpy(join(dir, "theta.npy"), { shape: [inp.theta.length], data: inp.theta });
  writeNpy(join(dir, "v.npy"), { shape: [inp.v.length], data: inp.v });
}

// ---------------------------------------------------------------------------------------------
// The PyTorch peer (optional).

interface Torch {
  readonly peer: Peer;
  readonly description: string;
  readonly referenceBlas: boolean;
  time(what: "grad" | "hvp"): Promise<number>;
  gemm(m: number, k: number, n: number, kind: string): Promise<number>;
}

async function openTorch(ctx: BenchContext): Promise<{ torch: Torch | null; note?: string }> {
  const found = findPython("import torch, numpy");
  if (found.python === null) {
    return { torch: null, note: `PyTorch peer not run: no python3 with torch and numpy (${found.why}). Set CURVLAB_PYTHON to one.` };
  }
  const script = fileURLToPath(new URL("./peers/hvp_torch.py", import.meta.url));
  const peer = startPeer(found.python, script, "PyTorch");
  await peer.ask({ cmd: "threads", n: TORCH_THREADS });
  const info = (await peer.ask({ cmd: "info" })) as {
    torch: string;
    threads: number;
    blas: { name: string; config: string | null };
  };
  const blas = info.blas.config ? info.blas.config.split(" ").slice(0, 2).join(" ") : info.blas.name;
  const description = `${info.torch}, CPU, ${info.threads} threads, BLAS: ${blas}`;
  ctx.log(`PyTorch ${description}`);
  return {
    torch: {
      peer,
      description,
      referenceBlas: info.blas.name.startsWith("reference"),
      async time(what) {
        await settle();
        const ans = await peer.ask({ cmd: "time", what, reps: 1 });
        return (ans.seconds as number[])[0]! * 1000;
      },
      async gemm(m, k, n, kind) {
        await settle();
        const ans = await peer.ask({ cmd: "gemm", m, k, n, kind, reps: 1 });
        return (ans.gflops as number[])[0]!;
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// curvlab's functions under test.

/** jit(grad) of the batch loss, as problem.ts's `gradient` uses it, for the problem's one batch. */
function gradientFn(problem: LossProblem): { call: () => Array; dispose: () => void } {
  const f = jit(grad(batchLoss(problem)));
  const b = problem.batches[0]!;
  return { call: () => f(problem.theta.ref, b.x.ref, b.targets.ref), dispose: () => f.dispose() };
}

/**
 * Reverse-over-forward HVP under jit: the gradient of q -> (directional derivative of f along v),
 * the directional derivative computed by jvp. jax-js 0.1.25 gets its values WRONG under jit in
 * float64 (eager is right); timed for the record, never used by curvlab.
 */
function reverseOverForwardFn(problem: LossProblem, v: Array): { call: () => Array; dispose: () => void } {
  const L = batchLoss(problem);
  const f = jit((theta: Array, x: Array, targets: Array, dir: Array) => {
    const hv = grad((q: Array) => {
      const [primal, tangent] = jvp((w: Array) => L(w, x.ref, targets.ref), [q], [dir.ref]);
      primal.dispose();
      return tangent;
    })(theta);
    x.dispose(), targets.dispose(), dir.dispose();
    return hv;
  });
  const b = problem.batches[0]!;
  return { call: () => f(problem.theta.ref, b.x.ref, b.targets.ref, v.ref), dispose: () => f.dispose() };
}

async function read(x: Array): Promise<Float32Array> {
  return Float32Array.from((await x.data()) as Float32Array);
}

// ---------------------------------------------------------------------------------------------
// One model.

interface CaseOut {
  timing: Record<string, Cell>;
  oneTime: Record<string, Cell>;
}

async function benchModel(spec: string, torch: Torch | null, reps: number, threads: number, ctx: BenchContext): Promise<CaseOut> {
  const model = parseModel(spec);
  const inputs = makeInputs(model, SEED);
  const problem = makeProblem(model, inputs.data, inputs.theta, { dtype: "float32", loss: "cross-entropy", batchSize: BATCH });
  const v = np.array(inputs.v);
  const dir = mkdtempSync(join(tmpdir(), "curvlab-hvp-bench-"));
  try {
    // Reference values from PyTorch (float32 and float64), on the same inputs.
    let ref: { g32: Float32Array; h32: Float32Array; h64: Float64Array } | null = null;
    if (torch) {
      writeInputs(dir, inputs);
      await torch.peer.ask({ cmd: "load", dir, widths: spec.split(":")[1]!.split("-").map(Number), activation: "tanh" });
      await torch.peer.ask({ cmd: "compute", out: dir });
      const f = (name: string) => readNpy(join(dir, name)).data;
      ref = {
        g32: f("torch_grad_f32.npy") as Float32Array,
        h32: f("torch_hvp_f32.npy") as Float32Array,
        h64: f("torch_hvp_f64.npy") as Float64Array,
      };
    }

    const g = gradientFn(problem);
    // One-time cost of the default operator: linearization (trace + primal pass) + first product.
    let t0 = performance.now();
    const op = hessianOperator(problem);
    const first = op.matvec(v);
    await first.blockUntilReady();
    const setupMs = performance.now() - t0;
    const hvOurs = await read(first);
    const relin = hessianOperator(problem, { method: "relinearize" });
    t0 = performance.now();
    const firstRelin = relin.matvec(v);
    await firstRelin.blockUntilReady();
    const firstRelinMs = performance.now() - t0;
    const hvRelin = await read(firstRelin);
    const rof = reverseOverForwardFn(problem, v);
    const hvRof = await read(rof.call());
    const gOurs = await read(g.call());

    const ours = {
      grad: async () => (await settle(), timeDevice(g.call)),
      hvp: async () => (await settle(), timeDevice(() => op.matvec(v))),
      relin: async () => (await settle(), timeDevice(() => relin.matvec(v))),
      rof: async () => (await settle(), timeDevice(rof.call)),
    };
    for (let i = 0; i < WARMUP; i++) {
      for (const f of Object.values(ours)) await f();
      if (torch) await torch.time("grad"), await torch.time("hvp");
    }
    const t: Record<string, number[]> = { grad: [], hvp: [], relin: [], rof: [], tgrad: [], thvp: [] };
    for (let r = 0; r < reps; r++) {
      t.grad!.push(await ours.grad());
      if (torch) t.tgrad!.push(await torch.time("grad"));
      t.hvp!.push(await ours.hvp());
      if (torch) t.thvp!.push(await torch.time("hvp"));
      t.relin!.push(await ours.relin());
      t.rof!.push(await ours.rof());
    }
    const m = Object.fromEntries(Object.entries(t).map(([k, xs]) => [k, median(xs)])) as Record<string, number>;
    ctx.log(`${spec}: grad ${m.grad!.toFixed(1)} ms, HVP ${m.hvp!.toFixed(1)} ms, relinearize ${m.relin!.toFixed(1)} ms` +
      (torch ? `; torch grad ${m.tgrad!.toFixed(1)} ms, HVP ${m.thvp!.toFixed(1)} ms` : ""));

    g.dispose(), rof.dispose(), op.dispose(), relin.dispose();
    const timing: Record<string, Cell> = {
      model: spec,
      params: model.size,
      threads,
      "grad ms": sig(m.grad!),
      "HVP ms": sig(m.hvp!),
      "HVP/grad": sig(m.hvp! / m.grad!),
      "relinearize HVP ms": sig(m.relin!),
      "relin/grad": sig(m.relin! / m.grad!),
      ...(torch && {
        "torch grad ms": sig(m.tgrad!),
        "torch HVP ms": sig(m.thvp!),
        "torch HVP/grad": sig(m.thvp! / m.tgrad!),
        "HVP curvlab/torch": sig(m.hvp! / m.thvp!),
        "relin curvlab/torch": sig(m.relin! / m.thvp!),
      }),
    };
    const e = (a: ArrayLike<number>, b: ArrayLike<number>) => sig(maxRelDiff(a, b), 2);
    const oneTime: Record<string, Cell> = {
      model: spec,
      threads,
      "setup + 1st HVP ms": sig(setupMs),
      "linearize ms (relin - HVP)": sig(m.relin! - m.hvp!),
      "1st relinearize HVP ms": sig(firstRelinMs),
      ...(ref && {
        "grad: curvlab vs torch f32": e(gOurs, ref.g32),
        "HVP: curvlab vs torch f32": e(hvOurs, ref.h32),
        "HVP: curvlab f32 vs f64": e(hvOurs, ref.h64),
        "HVP: torch f32 vs f64": e(ref.h32, ref.h64),
      }),
      "relinearize vs linearize": e(hvRelin, hvOurs),
      "rev-over-fwd jit ms (not used: WRONG in float64)": sig(m.rof!),
      ...(ref ? { "rev-over-fwd f32 vs torch f64": e(hvRof, ref.h64) } : { "rev-over-fwd vs linearize": e(hvRof, hvOurs) }),
    };
    return { timing, oneTime };
  } finally {
    v.dispose();
    problem.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** engineMemoryBytes() around `count` consecutive products of the default operator (small MLP). */
async function memoryCheck(spec: string, count: number, threads: number): Promise<Record<string, Cell>> {
  const model = parseModel(spec);
  const inputs = makeInputs(model, SEED);
  const problem = makeProblem(model, inputs.data, inputs.theta, { dtype: "float32", batchSize: BATCH });
  const v = np.array(inputs.v);
  const op = hessianOperator(problem);
  const product = async () => {
    const hv = op.matvec(v);
    await hv.blockUntilReady();
    hv.dispose();
  };
  for (let i = 0; i < 20; i++) await product();
  const before = engineMemoryBytes();
  let after100 = before;
  for (let i = 1; i <= count; i++) {
    await product();
    if (i === 100) after100 = engineMemoryBytes();
  }
  const after = engineMemoryBytes();
  op.dispose(), v.dispose(), problem.dispose();
  const mb = (b: number) => sig(b / 2 ** 20, 4);
  return {
    model: spec,
    threads,
    HVPs: count,
    "before MiB": mb(before),
    "after 100 MiB": mb(after100),
    [`after ${count} MiB`]: mb(after),
    grew: after > before,
  };
}

/** GFLOP/s of one float32 matmul in jax-js (jit), same shapes as the peer's `gemm`. */
function jaxGemm(m: number, k: number, n: number, kind: "NT" | "TN") {
  const a = np.array(Float32Array.from({ length: m * k }, (_, i) => Math.sin(i))).reshape(kind === "TN" ? [k, m] : [m, k]);
  const b = np.array(Float32Array.from({ length: k * n }, (_, i) => Math.cos(i))).reshape(kind === "NT" ? [n, k] : [k, n]);
  const f = jit((x: Array, y: Array) => (kind === "NT" ? np.matmul(x, y.transpose()) : np.matmul(x.transpose(), y)));
  return {
    time: async () => (await settle(), (2 * m * k * n) / (await timeDevice(() => f(a.ref, b.ref))) / 1e6),
    dispose: () => (f.dispose(), a.dispose(), b.dispose()),
  };
}

async function gemmRows(torch: Torch | null, reps: number, threads: number): Promise<Record<string, Cell>[]> {
  const rows: Record<string, Cell>[] = [];
  for (const [m, k, n, kind] of GEMMS) {
    const ours = jaxGemm(m, k, n, kind);
    for (let i = 0; i < WARMUP; i++) await ours.time(), torch && (await torch.gemm(m, k, n, kind));
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < reps; r++) {
      a.push(await ours.time());
      if (torch) b.push(await torch.gemm(m, k, n, kind));
    }
    ours.dispose();
    const ga = median(a);
    const gb = torch ? median(b) : NaN;
    rows.push({
      "matmul (m x k x n)": `${m}x${k}x${n} ${kind === "NT" ? "A·Bᵀ" : "Aᵀ·B"}`,
      threads,
      "curvlab GFLOP/s": sig(ga),
      ...(torch && { "torch GFLOP/s": sig(gb), "torch/curvlab": sig(gb / ga) }),
    });
  }
  return rows;
}

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const engine = await startEngine({ device: "wasm" });
  const reps = ctx.quick ? 3 : 15;
  const memCount = ctx.quick ? 200 : 2000;
  const { torch, note } = await openTorch(ctx);
  const notes: string[] = [];
  if (note) notes.push(note), ctx.log(note);
  try {
    // First, on a fresh engine: the allocator never returns memory, so after a larger model
    // had run, its free space could hide a leak.
    ctx.log(`memory: ${memCount} HVPs`);
    const memory = await memoryCheck(MODELS[0]!, memCount, engine.threads);
    const timing: Record<string, Cell>[] = [];
    const oneTime: Record<string, Cell>[] = [];
    for (const spec of MODELS) {
      const out = await benchModel(spec, torch, reps, engine.threads, ctx);
      timing.push(out.timing);
      oneTime.push(out.oneTime);
      const diff = out.oneTime["HVP: curvlab vs torch f32"];
      if (typeof diff === "number" && !(diff <= AGREE)) {
        notes.push(`DISAGREEMENT: on ${spec} curvlab's and PyTorch's HVPs differ by ${diff} (max |a-b| / max |b|), above ${AGREE}.`);
        ctx.log(notes[notes.length - 1]!);
      }
    }
    ctx.log("matmul throughput");
    const gemm = await gemmRows(torch, reps, engine.threads);
    if (torch?.referenceBlas) {
      notes.push(
        "PyTorch here calls the reference (netlib) BLAS, not an optimized one (see the matmul table): its timings " +
          "are far slower than PyTorch usually is, and the curvlab/torch ratios flatter curvlab. On Debian, " +
          "installing libopenblas0-pthread gives PyTorch OpenBLAS.",
      );
    }
    return {
      title: "Hessian-vector products: MLP, batch 1,000, float32, cross-entropy",
      summary:
        `curvlab (jax-js ${engine.device}) against PyTorch on the same inputs, weights and vector (seed ${SEED}; ` +
        `tanh MLPs, PyTorch's default initialization, inputs N(0,1), 10 uniform classes). Medians over ${reps} ` +
        `interleaved repetitions (curvlab, PyTorch, curvlab, ...), each call after ${SETTLE_MS} ms idle, after ` +
        `${WARMUP} warm-up calls. ` +
        `"HVP" is the default \`hessianOperator(problem)\` (linearize once, replay); "relinearize" linearizes in every ` +
        `product; PyTorch's HVP is double backward (autograd.grad with create_graph=True, then the gradient of g·v) ` +
        `and recomputes the forward pass every time, like relinearize.`,
      tables: [
        { title: "Time per call (median ms) and ratios", rows: timing },
        {
          title: "One-time costs and agreement (max |a-b| / max |b|)",
          rows: oneTime,
          notes: [
            "setup + 1st HVP: hessianOperator() (trace, primal pass, linearization) plus the first product (compilation).",
            "rev-over-fwd: jit(grad(q => jvp(f, [q], [v])[1])), timed for the record only: it is not a method of " +
              "curvlab because jax-js 0.1.25 computes it WRONGLY under jit in float64 (relative errors of 1 and more " +
              "on these MLPs; eager is right). In float32, as here, its values agree (last column).",
          ],
        },
        {
          title: "Memory: engine memory around consecutive HVPs (after 20 warm-up products)",
          rows: [memory],
          notes: ["engineMemoryBytes(): the WebAssembly memory the engine holds; it grows only when live buffers need more."],
        },
        {
          title: "Matmul throughput at the MLPs' shapes (float32, median GFLOP/s)",
          rows: gemm,
          notes: ["A·Bᵀ is a Linear layer's forward pass (weights [out, in]); Aᵀ·B a weight gradient."],
        },
      ],
      notes,
      peers: torch ? { PyTorch: torch.description } : {},
    };
  } finally {
    torch?.peer.close();
  }
}

runIfMain(import.meta.url);
