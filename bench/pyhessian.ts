/**
 * The PyHessian job end to end: a trained ResNet-20 on CIFAR-10 images, its top Hessian
 * eigenvalue, Hutchinson trace and SLQ spectral density, by PyHessian's own code (Yao et al.
 * 2020; bench/peers/pyhessian_job.py runs its `hessian` class as its example script does) and by
 * the curvlab commands a user would type (`curvlab spectrum`, `trace`, `density` on
 * `--model resnet:20 --weights W --data cifar10:DIR,n=N`; the top eigenvalue also on the same
 * network exported to ONNX, `--onnx FILE`), on the same weights and images, in the same run. Wall time is each whole job (for curvlab, the whole command: engine start, data,
 * the products); accuracy is judged by each estimator's own error (standard errors for the
 * trace, the power iteration's tolerance for the top eigenvalue).
 *
 * Needs a PyHessian checkout (PYHESSIAN_DIR; `git clone https://github.com/amirgholami/PyHessian`):
 * its trained checkpoint checkpoints/net.pkl is the point measured. CIFAR10_DIR, if set, names
 * the folder of the official binary batches; otherwise a synthetic set in the same format is
 * written (class-dependent patterns plus noise, seeded), so the comparison runs anywhere.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hostRng } from "../src/engine/host-rng.ts";
import type { BenchContext, BenchResult, BenchTable, Cell } from "./lib/contract.ts";
import { runIfMain } from "./lib/harness.ts";
import { findPython } from "./lib/peer.ts";
import { sig } from "./lib/stats.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PEER = join(ROOT, "bench", "peers", "pyhessian_job.py");
const CLI = join(ROOT, "bin", "curvlab.mjs");
/** Images of the ONNX comparison (module comment in run). */
const ONNX_IMAGES = 8;
const TITLE = "The PyHessian job: ResNet-20 on CIFAR-10, top eigenvalue, trace and density vs PyHessian";

/** n records in CIFAR-10's binary format (label byte + 3x32x32 channel-major pixels), seeded. */
export function writeSyntheticCifar(dir: string, n: number, seed = 0): void {
  mkdirSync(dir, { recursive: true });
  const rng = hostRng(seed);
  const patterns = Array.from({ length: 10 }, () => Float64Array.from({ length: 3072 }, () => rng.normal()));
  const bytes = new Uint8Array(n * 3073);
  for (let i = 0; i < n; i++) {
    const label = Math.floor(rng.uniform() * 10);
    bytes[i * 3073] = label;
    for (let j = 0; j < 3072; j++) {
      const v = 128 + 40 * patterns[label]![j]! + 30 * rng.normal();
      bytes[i * 3073 + 1 + j] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  writeFileSync(join(dir, "data_batch_1.bin"), bytes);
}

function checkoutCommit(dir: string): string {
  const r = spawnSync("git", ["-C", dir, "rev-parse", "--short", "HEAD"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "unknown";
}

interface Timed<T> {
  readonly value: T;
  readonly seconds: number;
}

function runCurvlab(args: string[], threads: number): Timed<Record<string, any>> {
  const t = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args, "--json", "--quiet", "--threads", String(threads)], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`curvlab ${args.join(" ")} failed (${r.status}): ${r.stderr.trim().split("\n").pop()}`);
  return { value: JSON.parse(r.stdout), seconds };
}

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const pyhessian = process.env.PYHESSIAN_DIR;
  const notes: string[] = [];
  if (!pyhessian || !existsSync(join(pyhessian, "pyhessian", "hessian.py"))) {
    return {
      title: TITLE,
      tables: [],
      notes: ["Not run: set PYHESSIAN_DIR to a checkout of https://github.com/amirgholami/PyHessian (its code and its trained checkpoint are the peer)."],
    };
  }
  const found = findPython("import torch, numpy");
  if (found.python === null) return { title: TITLE, tables: [], notes: [`Not run: no Python with PyTorch (${found.why}).`] };
  const py = { python: found.python };
  const threads = 2;
  const n = ctx.quick ? 32 : Number(process.env.PYHESSIAN_N ?? 200);
  const batchSize = Math.min(n, 200);
  const work = mkdtempSync(join(tmpdir(), "curvlab-pyhessian-"));
  try {
    let dataDir = process.env.CIFAR10_DIR;
    if (!dataDir) {
      dataDir = join(work, "cifar");
      writeSyntheticCifar(dataDir, n);
      notes.push(`Images: ${n} synthetic records in CIFAR-10's binary format (CIFAR10_DIR not set): the same bytes for both tools.`);
    } else notes.push(`Images: the first ${n} of CIFAR-10's training batches in ${dataDir}.`);
    const weights = join(work, "resnet20.safetensors");
    const exp = spawnSync(py.python, [PEER, "--pyhessian", pyhessian, "--export-weights", weights], { encoding: "utf8" });
    if (exp.status !== 0) throw new Error(`exporting PyHessian's checkpoint failed: ${exp.stderr}`);
    const onnxFile = join(work, "resnet20.onnx");
    const expOnnx = spawnSync(py.python, [PEER, "--pyhessian", pyhessian, "--export-onnx", onnxFile], { encoding: "utf8" });
    if (expOnnx.status !== 0) throw new Error(`exporting PyHessian's network to ONNX failed: ${expOnnx.stderr}`);

    ctx.log(`PyHessian: top, trace, density on ${n} images (batches of ${batchSize}) ...`);
    const peerRun = spawnSync(
      py.python,
      [PEER, "--pyhessian", pyhessian, "--data", dataDir, "--n", String(n), "--batch-size", String(batchSize), "--threads", String(threads)],
      { encoding: "utf8", maxBuffer: 1 << 28 },
    );
    if (peerRun.status !== 0) throw new Error(`PyHessian failed: ${peerRun.stderr.trim().split("\n").pop()}`);
    const peer = JSON.parse(peerRun.stdout);

    const common = ["--model", "resnet:20", "--weights", weights, "--data", `cifar10:${dataDir},n=${n}`, "--batch-size", String(batchSize)];
    ctx.log("curvlab spectrum --top 1 ...");
    const top = runCurvlab(["spectrum", ...common, "--top", "1"], threads);
    const traceMatvecs = Math.max(3, peer.trace.hvps as number);
    ctx.log(`curvlab trace (${traceMatvecs} products) ...`);
    const trace = runCurvlab(["trace", ...common, "--method", "hutchinson", "--matvecs", String(traceMatvecs)], threads);
    ctx.log("curvlab density --probes 1 --steps 100 ...");
    const density = runCurvlab(["density", ...common, "--probes", "1", "--steps", "100"], threads);

    // The ONNX export: its convolutions run through @jax-js/onnx's Conv (the engine's lax.conv, some
    // 8x slower than src/nn/conv.ts), so it is compared with --model resnet:20 on a few images.
    const nOnnx = Math.min(n, ONNX_IMAGES);
    const onnxData = ["--data", `cifar10:${dataDir},n=${nOnnx}`, "--batch-size", String(nOnnx), "--top", "1"];
    let onnxRow: Record<string, Cell> | null = null;
    try {
      ctx.log(`curvlab spectrum --top 1 on ${nOnnx} images: --onnx and --model resnet:20 ...`);
      const viaOnnx = runCurvlab(["spectrum", "--onnx", onnxFile, ...onnxData], threads);
      const builtIn = runCurvlab(["spectrum", "--model", "resnet:20", "--weights", weights, ...onnxData], threads);
      const a = viaOnnx.value.eigenvalues[0] as number, b = builtIn.value.eigenvalues[0] as number;
      onnxRow = {
        job: `top eigenvalue on ${nOnnx} images, ONNX export vs --model resnet:20`,
        "PyHessian s": "",
        "PyHessian HVPs": "",
        "curvlab s": `${sig(viaOnnx.seconds)} (ONNX) / ${sig(builtIn.seconds)} (resnet:20)`,
        "curvlab HVPs": `${viaOnnx.value.matvecs} / ${builtIn.value.matvecs}`,
        "curvlab/PyHessian time": "",
        PyHessian: "",
        curvlab: `${sig(a, 6)} (ONNX, ${viaOnnx.value.size} parameters) / ${sig(b, 6)} (resnet:20, ${builtIn.value.size})`,
        agreement: `rel. diff ${sig(Math.abs(a - b) / Math.abs(b), 2)}`,
      };
      if (viaOnnx.value.size !== builtIn.value.size) {
        notes.push(
          `The ONNX export has ${builtIn.value.size - viaOnnx.value.size} parameters fewer than the state_dict: torch.onnx.export merged initializers of equal values ` +
            "(curvlab warns, naming them), which ties parameters PyTorch keeps apart, so its Hessian is that of the tied network and its top eigenvalue differs by that much.",
        );
      }
    } catch (e) {
      notes.push(`ONNX row not run: ${e instanceof Error ? e.message : String(e)}`);
    }

    const cTrace = trace.value.estimates[0];
    const dq = density.value.density;
    const peerTop = peer.top.eigenvalues[0] as number;
    const cTop = top.value.eigenvalues[0] as number;
    const peerNodes = peer.density.nodes as number[];
    const rows: Record<string, Cell>[] = [
      {
        job: "top eigenvalue",
        "PyHessian s": sig(peer.top.seconds),
        "PyHessian HVPs": peer.top.hvps,
        "curvlab s": sig(top.seconds),
        "curvlab HVPs": top.value.matvecs,
        "curvlab/PyHessian time": sig(top.seconds / peer.top.seconds),
        PyHessian: sig(peerTop, 6),
        curvlab: sig(cTop, 6),
        agreement: `rel. diff ${sig(Math.abs(cTop - peerTop) / Math.abs(peerTop), 2)} (PyHessian's tol 1e-3; curvlab residual ${sig(top.value.residuals[0], 2)})`,
      },
      {
        job: "trace (Hutchinson)",
        "PyHessian s": sig(peer.trace.seconds),
        "PyHessian HVPs": peer.trace.hvps,
        "curvlab s": sig(trace.seconds),
        "curvlab HVPs": cTrace.matvecs,
        "curvlab/PyHessian time": sig(trace.seconds / peer.trace.seconds),
        PyHessian: `${sig(peer.trace.estimate, 5)} ± ${sig(peer.trace.standard_error ?? NaN, 2)}`,
        curvlab: `${sig(cTrace.estimate, 5)} ± ${sig(cTrace.standardError, 2)}`,
        agreement: `${sig(Math.abs(cTrace.estimate - peer.trace.estimate) / Math.hypot(cTrace.standardError, peer.trace.standard_error ?? 0), 2)} combined standard errors`,
      },
      {
        job: "density (SLQ, 1 probe x 100 steps)",
        "PyHessian s": sig(peer.density.seconds),
        "PyHessian HVPs": peer.density.hvps,
        "curvlab s": sig(density.seconds),
        "curvlab HVPs": dq.matvecs,
        "curvlab/PyHessian time": sig(density.seconds / peer.density.seconds),
        PyHessian: `nodes [${sig(Math.min(...peerNodes), 4)}, ${sig(Math.max(...peerNodes), 4)}]`,
        curvlab: `nodes [${sig(dq.range.min, 4)}, ${sig(dq.range.max, 4)}]`,
        agreement: `top node rel. diff ${sig(Math.abs(dq.range.max - Math.max(...peerNodes)) / Math.abs(Math.max(...peerNodes)), 2)}`,
      },
    ];
    if (onnxRow) rows.push(onnxRow);
    const totalPeer = peer.top.seconds + peer.trace.seconds + peer.density.seconds;
    const totalOurs = top.seconds + trace.seconds + density.seconds;
    const table: BenchTable = {
      title: `ResNet-20 (${peer.parameters} parameters, PyHessian's trained checkpoint), ${n} images, float32, ${threads} threads each`,
      rows,
      notes: [
        `Whole job: PyHessian ${sig(totalPeer)} s, curvlab ${sig(totalOurs)} s (ratio ${sig(totalOurs / totalPeer)}).`,
        "The ONNX row: the same network exported by torch.onnx.export (eval mode, training=PRESERVE: BatchNormalization kept with its running statistics), loaded with --onnx, against --model resnet:20 on the same first images; not counted in the whole job.",
        "curvlab times are whole commands (process start, engine, data, products); PyHessian's are its calls (its Python start and data loading not counted).",
        "Top eigenvalue: PyHessian's power iteration (maxIter 100, tol 1e-3) vs curvlab's Lanczos (tol 1e-4 in float32). Trace: PyHessian's Hutchinson stops at a relative change under 1e-3; curvlab spends the same number of products.",
      ],
    };
    return {
      title: TITLE,
      summary: "PyHessian's own code against the curvlab commands on the same weights and images, in the same run.",
      tables: [table],
      notes,
      peers: { PyHessian: `commit ${checkoutCommit(pyhessian)}, PyTorch ${peer.torch}, CPU, ${peer.threads} threads` },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url);
