/**
 * Benchmark: matrix-free Hessian spectra of curvlab (jax-js, Wasm, float32) against the same jobs
 * in PyTorch (CPU), on the same model, data and weights, in the same process run, interleaved.
 *
 *   node --import tsx bench/spectra.ts [--quick]     (or: npm run bench -- --only spectra)
 *
 * Problem: mlp:784-128-10:tanh (101,770 parameters; tanh, so that the activations' second
 * derivatives are in the Hessian, as in bench/hvp.ts), cross-entropy (mean), the first 1,000
 * MNIST digits of src/data/mnist.ts (standardized, balanced classes), one batch of 1,000. Weights:
 * trained briefly, because the Hessian of a trained network (a few outliers above a bulk) is what
 * users measure and it differs from the one at initialization: train.ts's defaults (SGD momentum
 * 0.9, lr 0.1, batch 64) for TRAIN_EPOCHS epochs from model.init(TRAIN_SEED), in float32; about 1 s.
 * X, y and the trained weights go to the PyTorch peer (bench/peers/spectra_torch.py) as .npy
 * files, so both sides differentiate the same function at the same point.
 *
 * Jobs, each timed in full: building the Hessian operator (curvlab: `curvatureOperator(problem,
 * { operator: "hessian" })`, which linearizes the gradient once; PyTorch: the gradient with
 * create_graph=True, as PyHessian's constructor does), then the algorithm. Loading the data and
 * weights onto the device is not timed on either side.
 * 1. The user job "the 10 largest Hessian eigenvalues to 1e-4 relative":
 *    - curvlab `lanczosEigs(op, { k: 10, which: "largest", tol: 1e-4 })`: tol bounds the Ritz
 *      residual, ||H y - theta y|| <= 1e-4 |theta|, and an eigenvalue lies within the residual of
 *      theta, so each eigenvalue is guaranteed to 1e-4 relative (in fact to about residual^2 /
 *      gap, far better); the default confirmation run (which looks for missed copies of repeated
 *      eigenvalues) included. Also timed with `confirm: false`.
 *    - PyTorch, what PyHessian's `hessian.eigenvalues(maxIter=100, tol=1e-3, top_n=10)` does:
 *      deflated power iteration, stopping on the relative change of the estimate (not an error
 *      bound: see src/linalg/power-iteration.ts).
 *    - curvlab's own deflated power iteration (`powerIteration`, PyHessian's settings), for the
 *      count of products.
 *    Accuracy: the largest relative error over the 10 eigenvalues (worst over the runs) against a
 *    float64 reference computed by the PyTorch peer (Lanczos with full reorthogonalization, two
 *    Gram-Schmidt passes, REFERENCE_STEPS steps; its residuals are reported), which is also an
 *    oracle independent of curvlab's code.
 * 2. SLQ, 10 Rademacher probes x 80 steps (`spectralDensity`), and Hutch++ with 100 products
 *    (`hutchppTrace`), against the same algorithms written in PyTorch (Lanczos with full
 *    reorthogonalization on flat vectors; Hutch++ with a sketch of 33, QR, 33 more products and 34
 *    Hutchinson probes). Their trace estimates are shown side by side as a sanity check.
 *
 * Each run uses seed = its repetition number (start vectors, probes), the same on both sides (the
 * engines' random streams differ, so the vectors do not). Each timed call comes after a short idle
 * pause (helper threads of either side spin for a while after a call; see bench/hvp.ts). The first
 * run of every job is a warm-up (jax-js compiles its kernels then), reported apart as "1st run s".
 * PyTorch runs with torch.set_num_threads(2); curvlab with CURVLAB_THREADS=2 (one variant: a
 * second one with 1 thread would double the time of the benchmark). PyTorch is optional: without a
 * python3 that imports torch, the tables hold curvlab's numbers only, checked against curvlab's
 * own Lanczos at a tight tolerance.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEngine } from "../src/engine/start.ts";
import { loadData } from "../src/data/spec.ts";
import { writeNpy } from "../src/data/npy.ts";
import { parseModel } from "../src/nn/spec.ts";
import { train } from "../src/train/train.ts";
import { makeProblem, type LossProblem } from "../src/curvature/problem.ts";
import { curvatureOperator } from "../src/curvature/make.ts";
import type { LinearOperator } from "../src/curvature/operator.ts";
import { lanczosEigs } from "../src/linalg/lanczos.ts";
import { powerIteration } from "../src/linalg/power-iteration.ts";
import { spectralDensity } from "../src/linalg/slq.ts";
import { hutchppTrace } from "../src/linalg/hutchpp.ts";
import type { BenchContext, BenchResult, BenchVariant, Cell } from "./lib/contract.ts";
import { findPython, startPeer, type Peer } from "./lib/peer.ts";
import { median, sig } from "./lib/stats.ts";
import { runIfMain } from "./lib/harness.ts";

export const variants: readonly BenchVariant[] = [{ label: "threads=2", env: { CURVLAB_THREADS: "2" } }];

const MODEL = "mlp:784-128-10:tanh";
const WIDTHS = [784, 128, 10];
const ACTIVATION = "tanh";
const DATA = "mnist:n=1000";
const TRAIN_EPOCHS = 5;
const TRAIN_SEED = 0;
const TORCH_THREADS = 2;
/** The user job. */
const TOP_K = 10;
const TOP_TOL = 1e-4;
/** PyHessian's defaults. */
const PYHESSIAN = { maxIter: 100, tol: 1e-3 } as const;
const SLQ = { probes: 10, steps: 80 } as const;
const HUTCHPP_MATVECS = 100;
/** Steps of the float64 reference Lanczos (measured: after 80, the top 10 have residuals below 1e-20). */
const REFERENCE_STEPS = 100;
/** Without PyTorch: curvlab's float32 Lanczos at this residual tolerance is the reference. */
const FALLBACK_TOL = 1e-6;
/** Target of the issue: curvlab's time at most this fraction of the PyTorch PyHessian job's. */
const TARGET = 0.5;
const SETTLE_MS = 150;
const settle = () => new Promise<void>((r) => setTimeout(r, SETTLE_MS));

/** What one run of a job reports. */
interface JobOut {
  readonly seconds: number;
  readonly matvecs: number;
  /** Eigenvalue jobs: descending. */
  readonly eigenvalues?: readonly number[];
  readonly converged?: boolean;
  readonly trace?: number;
  readonly traceSE?: number | null;
  readonly range?: readonly [number, number];
}

interface Job {
  readonly name: string;
  readonly side: "curvlab" | "PyTorch";
  readonly settings: string;
  run(seed: number): Promise<JobOut>;
}

interface JobRuns {
  readonly job: Job;
  readonly first: JobOut;
  readonly runs: JobOut[];
}

const descending = (xs: readonly number[]) => [...xs].sort((a, b) => b - a);

/** max_i |a_i - r_i| / |r_i|: the user's "relative" accuracy, eigenvalue by eigenvalue. */
function maxRelErr(a: readonly number[], ref: readonly number[]): number {
  let e = 0;
  for (let i = 0; i < ref.length; i++) e = Math.max(e, Math.abs((a[i] ?? NaN) - ref[i]!) / Math.abs(ref[i]!));
  return e;
}

// ---------------------------------------------------------------------------------------------
// curvlab's jobs: operator construction + algorithm, timed together.

async function timed(problem: LossProblem, f: (op: LinearOperator) => Promise<Omit<JobOut, "seconds">>): Promise<JobOut> {
  const t0 = performance.now();
  const op = curvatureOperator(problem, { operator: "hessian" });
  try {
    const out = await f(op);
    return { ...out, seconds: (performance.now() - t0) / 1000 };
  } finally {
    op.dispose();
  }
}

function curvlabJobs(problem: LossProblem, probes: number) {
  const lanczos = (confirm: boolean): Job => ({
    name: `Lanczos, top ${TOP_K}${confirm ? "" : ", confirm: false"}`,
    side: "curvlab",
    settings: `lanczosEigs k ${TOP_K}, largest, residual tol ${TOP_TOL}${confirm ? "" : ", no confirmation run"}`,
    run: (seed) =>
      timed(problem, async (op) => {
        const r = await lanczosEigs(op, { k: TOP_K, which: "largest", tol: TOP_TOL, seed, confirm });
        return { matvecs: r.matvecs, eigenvalues: r.eigenvalues, converged: r.convergedCount === TOP_K };
      }),
  });
  const power: Job = {
    name: `deflated power iteration, top ${TOP_K}`,
    side: "curvlab",
    settings: `powerIteration k ${TOP_K}, tol ${PYHESSIAN.tol}, maxIter ${PYHESSIAN.maxIter}`,
    run: (seed) =>
      timed(problem, async (op) => {
        const r = await powerIteration(op, { k: TOP_K, tol: PYHESSIAN.tol, maxIter: PYHESSIAN.maxIter, seed });
        return { matvecs: r.matvecs, eigenvalues: descending(r.eigenvalues), converged: r.convergedCount === TOP_K };
      }),
  };
  const slq: Job = {
    name: "SLQ",
    side: "curvlab",
    settings: `spectralDensity ${probes} Rademacher probes x ${SLQ.steps} steps`,
    run: (seed) =>
      timed(problem, async (op) => {
        const r = await spectralDensity(op, { probes, steps: SLQ.steps, seed });
        return { matvecs: r.matvecs, trace: r.trace.estimate, traceSE: r.trace.standardError, range: [r.range.min, r.range.max] };
      }),
  };
  const hutchpp: Job = {
    name: "Hutch++",
    side: "curvlab",
    settings: `hutchppTrace ${HUTCHPP_MATVECS} products`,
    run: (seed) =>
      timed(problem, async (op) => {
        const r = await hutchppTrace(op, { matvecs: HUTCHPP_MATVECS, seed });
        return { matvecs: r.matvecs, trace: r.estimate, traceSE: r.standardError };
      }),
  };
  return { lanczos: lanczos(true), lanczosNoConfirm: lanczos(false), power, slq, hutchpp };
}

// ---------------------------------------------------------------------------------------------
// The PyTorch peer (optional).

interface Torch {
  readonly peer: Peer;
  readonly description: string;
}

async function openTorch(ctx: BenchContext, dir: string): Promise<{ torch: Torch | null; note?: string }> {
  const found = findPython("import torch, numpy");
  if (found.python === null) {
    return { torch: null, note: `PyTorch peer not run: no python3 with torch and numpy (${found.why}). Set CURVLAB_PYTHON to one.` };
  }
  const script = fileURLToPath(new URL("./peers/spectra_torch.py", import.meta.url));
  const peer = startPeer(found.python, script, "PyTorch");
  await peer.ask({ cmd: "threads", n: TORCH_THREADS });
  const info = (await peer.ask({ cmd: "info" })) as { torch: string; threads: number; blas: { name: string; config: string | null } };
  const blas = info.blas.config ? info.blas.config.split(" ").slice(0, 2).join(" ") : info.blas.name;
  const description = `${info.torch}, CPU, ${info.threads} threads, BLAS: ${blas}`;
  ctx.log(`PyTorch ${description}`);
  await peer.ask({ cmd: "load", dir, widths: WIDTHS, activation: ACTIVATION });
  return { torch: { peer, description } };
}

function torchJobs(peer: Peer, probes: number) {
  const ask = async (msg: object) => (await peer.ask(msg)) as Record<string, unknown>;
  const pyhessian: Job = {
    name: `PyHessian eigenvalues, top ${TOP_K}`,
    side: "PyTorch",
    settings: `deflated power iteration, maxIter ${PYHESSIAN.maxIter}, tol ${PYHESSIAN.tol}`,
    async run(seed) {
      const a = await ask({ cmd: "topk", k: TOP_K, maxIter: PYHESSIAN.maxIter, tol: PYHESSIAN.tol, seed });
      const its = a.iterations as number[];
      return {
        seconds: a.seconds as number,
        matvecs: a.matvecs as number,
        eigenvalues: descending(a.eigenvalues as number[]),
        converged: its.every((i) => i < PYHESSIAN.maxIter),
      };
    },
  };
  const slq: Job = {
    name: "SLQ",
    side: "PyTorch",
    settings: `${probes} Rademacher probes x ${SLQ.steps} steps, full reorthogonalization`,
    async run(seed) {
      const a = await ask({ cmd: "slq", probes, steps: SLQ.steps, seed });
      return {
        seconds: a.seconds as number,
        matvecs: a.matvecs as number,
        trace: a.trace as number,
        traceSE: a.trace_se as number | null,
        range: [a.min as number, a.max as number],
      };
    },
  };
  const hutchpp: Job = {
    name: "Hutch++",
    side: "PyTorch",
    settings: `${HUTCHPP_MATVECS} products (sketch ${Math.floor(HUTCHPP_MATVECS / 3)}, QR, ${HUTCHPP_MATVECS - 2 * Math.floor(HUTCHPP_MATVECS / 3)} probes)`,
    async run(seed) {
      const a = await ask({ cmd: "hutchpp", matvecs: HUTCHPP_MATVECS, seed });
      return { seconds: a.seconds as number, matvecs: a.matvecs as number, trace: a.trace as number, traceSE: a.trace_se as number | null };
    },
  };
  return { pyhessian, slq, hutchpp };
}

// ---------------------------------------------------------------------------------------------

/**
 * A first run of each job (seed 0: a warm-up, where jax-js compiles), then `reps` rounds over the
 * jobs in turn (seed = round). With `warmup` false (quick runs) the first run is also round 1.
 */
async function interleaved(jobs: readonly Job[], reps: number, warmup: boolean, ctx: BenchContext): Promise<JobRuns[]> {
  const out: JobRuns[] = [];
  for (const job of jobs) {
    await settle();
    const first = await job.run(0);
    ctx.log(`${job.side} ${job.name}: 1st run ${first.seconds.toFixed(2)} s, ${first.matvecs} products`);
    out.push({ job, first, runs: warmup ? [] : [first] });
  }
  for (let r = warmup ? 0 : 1; r < reps; r++) {
    for (const o of out) {
      await settle();
      o.runs.push(await o.job.run(r));
    }
    ctx.log(`round ${r + 1}/${reps}: ${out.map((o) => `${o.job.side} ${o.job.name} ${o.runs[r]!.seconds.toFixed(2)} s`).join("; ")}`);
  }
  return out;
}

const med = (o: JobRuns, f: (x: JobOut) => number) => median(o.runs.map(f));

interface Reference {
  readonly values: readonly number[];
  readonly description: string;
}

async function reference(torch: Torch | null, problem: LossProblem, ctx: BenchContext): Promise<Reference> {
  if (torch) {
    const a = (await torch.peer.ask({ cmd: "lanczos64", steps: REFERENCE_STEPS, k: TOP_K, seed: 0 })) as {
      eigenvalues: number[];
      residuals: number[];
      steps: number;
      seconds: number;
    };
    const rel = Math.max(...a.residuals.map((r, i) => r / Math.abs(a.eigenvalues[i]!)));
    ctx.log(`reference (PyTorch float64 Lanczos, ${a.steps} steps): ${a.seconds.toFixed(1)} s, max residual/|value| ${rel.toExponential(1)}`);
    return {
      values: a.eigenvalues,
      description: `PyTorch float64 Lanczos with full reorthogonalization, ${a.steps} steps (max residual / |eigenvalue| ${sig(rel, 2)})`,
    };
  }
  const op = curvatureOperator(problem, { operator: "hessian" });
  try {
    const r = await lanczosEigs(op, { k: TOP_K, which: "largest", tol: FALLBACK_TOL, seed: 1000 });
    const rel = Math.max(...r.residuals.map((x, i) => x / Math.abs(r.eigenvalues[i]!)));
    return {
      values: r.eigenvalues,
      description: `curvlab float32 Lanczos at residual tol ${FALLBACK_TOL} (no PyTorch for a float64 reference; max residual / |eigenvalue| ${sig(rel, 2)})`,
    };
  } finally {
    op.dispose();
  }
}

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const engine = await startEngine({ device: "wasm" });
  const threads = engine.threads;
  const topReps = ctx.quick ? 1 : 5;
  const traceReps = ctx.quick ? 1 : 3;
  // A quick run is a smoke test: SLQ with 2 probes instead of 10 (same steps, same kernels).
  const slqProbes = ctx.quick ? 2 : SLQ.probes;
  const notes: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), "curvlab-spectra-bench-"));
  let torch: Torch | null = null;
  try {
    const data = loadData(DATA);
    const model = parseModel(MODEL);
    const trained = await train({ model, train: data, epochs: TRAIN_EPOCHS, seed: TRAIN_SEED, dtype: "float32" });
    const theta = Float32Array.from(trained.theta);
    const fit = trained.final;
    ctx.log(`trained ${TRAIN_EPOCHS} epochs in ${trained.seconds.toFixed(1)} s: loss ${fit.trainLoss.toFixed(4)}, accuracy ${fit.trainAccuracy}`);
    const n = data.y.length;
    writeNpy(join(dir, "x.npy"), { shape: [n, WIDTHS[0]!], data: Float32Array.from(data.x) });
    writeNpy(join(dir, "y.npy"), { shape: [n], data: data.y });
    writeNpy(join(dir, "theta.npy"), { shape: [theta.length], data: theta });
    const opened = await openTorch(ctx, dir);
    torch = opened.torch;
    if (opened.note) notes.push(opened.note), ctx.log(opened.note);

    const problem = makeProblem(model, data, theta, { dtype: "float32", loss: "cross-entropy", batchSize: n });
    try {
      const ref = await reference(torch, problem, ctx);
      const ours = curvlabJobs(problem, slqProbes);
      const theirs = torch ? torchJobs(torch.peer, slqProbes) : null;

      // 1. The user job, interleaved: curvlab Lanczos, PyTorch PyHessian, curvlab variants.
      ctx.log(`top-${TOP_K} eigenvalues: ${topReps} rounds`);
      const topJobs = [ours.lanczos, ...(theirs ? [theirs.pyhessian] : []), ours.lanczosNoConfirm, ours.power];
      const top = await interleaved(topJobs, topReps, !ctx.quick, ctx);
      const pyh = top.find((o) => o.job.side === "PyTorch") ?? null;
      const pyhSeconds = pyh ? med(pyh, (x) => x.seconds) : NaN;
      const topRows: Record<string, Cell>[] = top.map((o) => {
        const s = med(o, (x) => x.seconds);
        const mv = o.runs.map((x) => x.matvecs);
        const errs = o.runs.map((x) => maxRelErr(x.eigenvalues!, ref.values));
        return {
          threads,
          side: o.job.side,
          job: o.job.name,
          settings: o.job.settings,
          "wall s (median)": sig(s),
          "/ PyTorch PyHessian": pyh ? sig(s / pyhSeconds) : null,
          "products (median)": median(mv),
          "products min-max": `${Math.min(...mv)}-${Math.max(...mv)}`,
          "ms per product": sig((1000 * s) / median(mv)),
          "max rel. error (worst run)": sig(Math.max(...errs), 2),
          "max rel. error (median run)": sig(median(errs), 2),
          "all stopped by their rule": o.runs.every((x) => x.converged),
          "1st run s": sig(o.first.seconds),
        };
      });
      const lz = top[0]!;
      if (pyh) {
        const ratio = med(lz, (x) => x.seconds) / pyhSeconds;
        notes.push(
          `Top-${TOP_K} job: curvlab Lanczos / PyTorch PyHessian = ${sig(ratio)} (target <= ${TARGET}: ${ratio <= TARGET ? "met" : "NOT met"}); ` +
            `products ${median(lz.runs.map((x) => x.matvecs))} against ${median(pyh.runs.map((x) => x.matvecs))}.`,
        );
      }
      const errLz = Math.max(...lz.runs.map((x) => maxRelErr(x.eigenvalues!, ref.values)));
      if (!(errLz <= TOP_TOL)) notes.push(`ACCURACY: curvlab Lanczos missed ${TOP_TOL} relative on some eigenvalue (${sig(errLz, 2)}).`);

      // Eigenvalues side by side (run with seed 0 of each job).
      const firstRun = (o: JobRuns | null | undefined) => o?.runs[0]?.eigenvalues ?? null;
      const powerRun = top.find((o) => o.job === ours.power);
      const valueRows: Record<string, Cell>[] = ref.values.map((v, i) => ({
        threads,
        i: i + 1,
        reference: sig(v, 9),
        "curvlab Lanczos": sig(firstRun(lz)![i]!, 9),
        "Lanczos rel. error": sig(Math.abs(firstRun(lz)![i]! - v) / Math.abs(v), 2),
        ...(pyh && {
          "PyTorch PyHessian": sig(firstRun(pyh)![i]!, 6),
          "PyHessian rel. error": sig(Math.abs(firstRun(pyh)![i]! - v) / Math.abs(v), 2),
        }),
        "curvlab power iteration": sig(firstRun(powerRun)![i]!, 6),
        "power rel. error": sig(Math.abs(firstRun(powerRun)![i]! - v) / Math.abs(v), 2),
      }));

      // 2. SLQ and Hutch++, interleaved.
      ctx.log(`SLQ and Hutch++: ${traceReps} rounds`);
      const traceJobs = [ours.slq, ...(theirs ? [theirs.slq] : []), ours.hutchpp, ...(theirs ? [theirs.hutchpp] : [])];
      const tr = await interleaved(traceJobs, traceReps, !ctx.quick, ctx);
      const traceRows: Record<string, Cell>[] = tr.map((o) => {
        const peerOf = tr.find((p) => p.job.name === o.job.name && p.job.side === "PyTorch");
        const s = med(o, (x) => x.seconds);
        const mv = median(o.runs.map((x) => x.matvecs));
        const r0 = o.runs[0]!;
        return {
          threads,
          job: o.job.name,
          side: o.job.side,
          settings: o.job.settings,
          "wall s (median)": sig(s),
          "curvlab / PyTorch": o.job.side === "curvlab" && peerOf ? sig(s / med(peerOf, (x) => x.seconds)) : null,
          products: mv,
          "ms per product": sig((1000 * s) / mv),
          "tr(H) (seed 0)": sig(r0.trace!, 5),
          "standard error": r0.traceSE == null ? null : sig(r0.traceSE, 3),
          "tr(H) (mean over runs)": sig(o.runs.reduce((a, x) => a + x.trace!, 0) / o.runs.length, 5),
          "node range (seed 0)": r0.range ? `[${sig(r0.range[0], 4)}, ${sig(r0.range[1], 4)}]` : null,
          "1st run s": sig(o.first.seconds),
        };
      });
      // Power iteration finds the largest |lambda|: the comparison is fair only if the 10 largest
      // are also the 10 largest in magnitude. SLQ's extreme nodes estimate the spectrum's ends.
      const lowest = Math.min(...tr.filter((o) => o.job.name === "SLQ").map((o) => o.runs[0]!.range![0]));
      const tenth = ref.values[TOP_K - 1]!;
      notes.push(
        `Smallest Hessian eigenvalue about ${sig(lowest, 3)} (lowest SLQ node): ${Math.abs(lowest) < tenth ? "below" : "NOT below"} the ` +
          `${TOP_K}th largest (${sig(tenth, 4)}) in magnitude, so power iteration's largest-magnitude pairs are the ${TOP_K} largest.`,
      );

      const peerNote = torch ? "" : " (PyTorch absent: curvlab only)";
      return {
        title: `Matrix-free Hessian spectra: MLP 784-128-10 (tanh) on 1,000 MNIST digits, float32${peerNote}`,
        summary:
          `curvlab (jax-js ${engine.device}, ${threads} threads) against the same jobs in PyTorch on the same data, weights and loss ` +
          `(${MODEL}, ${model.size.toLocaleString("en-US")} parameters, cross-entropy, ${DATA} as one batch; weights after ${TRAIN_EPOCHS} ` +
          `epochs of SGD momentum 0.9, lr 0.1, batch 64, seed ${TRAIN_SEED}: train loss ${sig(fit.trainLoss, 3)}, accuracy ${fit.trainAccuracy}). ` +
          `Each time covers building the Hessian operator (curvlab: linearize the gradient once; PyTorch: the gradient with ` +
          `create_graph=True, then one backward through the kept graph per product, as PyHessian) and the algorithm. Medians ` +
          `over ${topReps} (eigenvalues) and ${traceReps} (SLQ, Hutch++) rounds interleaved job by job, seed = round, each call ` +
          `after ${SETTLE_MS} ms idle, after one warm-up run per job ("1st run s", where jax-js compiles its kernels). ` +
          `Reference eigenvalues: ${ref.description}.`,
        tables: [
          {
            title: `The ${TOP_K} largest Hessian eigenvalues to ${TOP_TOL} relative`,
            rows: topRows,
            notes: [
              `curvlab Lanczos stops when every wanted Ritz pair has ||H y - theta y|| <= ${TOP_TOL} |theta|, which bounds each ` +
                `eigenvalue's relative error by ${TOP_TOL}; the confirmation run (default) then looks for eigenvalues it could have ` +
                `missed (copies of repeated ones). PyHessian's rule, |new - old| / (|old| + 1e-6) < ${PYHESSIAN.tol} on successive ` +
                `estimates, bounds nothing, and it returns the estimate before the last.`,
              "max rel. error: max over the 10 eigenvalues of |value - reference| / |reference|; float32 products limit any " +
                "float32 method to about 1e-6.",
            ],
          },
          { title: "Eigenvalues of the runs with seed 0 against the reference (descending)", rows: valueRows },
          {
            title: `SLQ (${slqProbes} probes x ${SLQ.steps} steps) and Hutch++ (${HUTCHPP_MATVECS} products): time and trace estimates`,
            rows: traceRows,
            notes: [
              "Both SLQ implementations: unit Rademacher probes, Lanczos with full reorthogonalization (three-term step + one " +
                "classical Gram-Schmidt pass against the whole basis), tr(H) ~ n mean over probes of sum_i w_i theta_i. " +
                "Hutch++ (Meyer et al. 2021): 33 sketch products, QR, 33 products with Q, 34 Hutchinson probes on the deflated " +
                "operator. The two sides draw different random vectors, so their estimates differ by sampling error (see the " +
                "standard errors).",
            ],
          },
        ],
        notes,
        peers: torch ? { PyTorch: torch.description } : {},
      };
    } finally {
      problem.dispose();
    }
  } finally {
    torch?.peer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url);
