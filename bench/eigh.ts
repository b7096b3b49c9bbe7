/**
 * Benchmark: all eigenvalues of random symmetric matrices, curvlab's eigh (TypeScript with
 * hand-written WebAssembly SIMD kernels for the reduction) against
 * LAPACK through numpy.linalg.eigvalsh, on the same matrices, in the same run.
 *
 *   npm run bench -- --only eigh        (through bench/run.ts, into BENCHMARKS.md)
 *   node --import tsx bench/eigh.ts     (alone)
 *
 * Two variants, each in its own process: both sides with their default threads, and both on one
 * thread (curvlab threads = 1; OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS = 1 for
 * numpy). Target (foundation issue): at most 4x LAPACK's time at n = 2000.
 *
 * Each matrix (standard Gaussian entries, symmetric) is written as raw float64 to a temporary
 * file that a long-lived Python peer (bench/peers/eigh_numpy.py) loads. Runs are interleaved, one
 * numpy call then one curvlab call, after one warm-up each, so that both see the same machine
 * load; the medians and their ratio are reported. Requires python3 with numpy.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { hostRng } from "../src/engine/host-rng.ts";
import { randomSymmetric } from "../src/linalg/dense/dense-matrix.ts";
import { eigh } from "../src/linalg/dense/eigh.ts";
import type { BenchContext, BenchResult, BenchVariant } from "./lib/contract.ts";
import { runIfMain } from "./lib/harness.ts";

export const variants: readonly BenchVariant[] = [
  { label: "default threads", env: {} },
  { label: "one thread", env: { CURVLAB_EIGH_SINGLE: "1", OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" } },
];

interface Args {
  sizes: number[];
  reps: number;
  seed: number;
  threads?: number;
  single: boolean;
}

/** A line-oriented JSON client for the Python peer. */
function startPeer(single: boolean) {
  const script = fileURLToPath(new URL("./peers/eigh_numpy.py", import.meta.url));
  const one = { OPENBLAS_NUM_THREADS: "1", OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1" };
  const env = single ? { ...process.env, ...one } : process.env;
  const proc = spawn("python3", [script], { stdio: ["pipe", "pipe", "inherit"], env });
  const lines = createInterface({ input: proc.stdout });
  const pending: ((line: string) => void)[] = [];
  lines.on("line", (line) => pending.shift()?.(line));
  proc.on("exit", (code) => {
    for (const p of pending.splice(0)) p(JSON.stringify({ error: `peer exited with code ${code}` }));
  });
  const ask = (msg: object): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      pending.push((line) => {
        const ans = JSON.parse(line) as Record<string, unknown>;
        if (ans.error) reject(new Error(`numpy peer: ${String(ans.error)}`));
        else resolve(ans);
      });
      proc.stdin.write(JSON.stringify(msg) + "\n");
    });
  return { ask, close: () => proc.stdin.end() };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("model name"));
    return line ? line.split(":")[1].trim() : "unknown";
  } catch {
    return "unknown";
  }
}

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const single = process.env.CURVLAB_EIGH_SINGLE === "1";
  const args: Args = ctx.quick
    ? { sizes: [500, 1000], reps: 3, seed: 1, single, threads: single ? 1 : undefined }
    : { sizes: [500, 1000, 2000], reps: 5, seed: 1, single, threads: single ? 1 : undefined };
  const dir = mkdtempSync(join(tmpdir(), "curvlab-eigh-bench-"));
  const peer = startPeer(args.single);
  try {
    const numpy = await peer.ask({ cmd: "info" });
    const rows = [];
    for (const n of args.sizes) {
      const A = randomSymmetric(n, hostRng(args.seed * 1_000_003 + n));
      const path = join(dir, `sym-${n}.f64`);
      writeFileSync(path, A.data);
      await peer.ask({ cmd: "load", path, n });
      const valuesPath = join(dir, `values-${n}.f64`);
      await peer.ask({ cmd: "values", out: valuesPath }); // also the numpy warm-up
      const buf = readFileSync(valuesPath);
      const ref = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      const opts = args.threads ? { threads: args.threads } : {};
      const first = eigh(A, opts); // warm-up (JIT, worker start-up)
      let maxAbsDiff = 0;
      for (let i = 0; i < n; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(first.values[i] - ref[i]));
      const ours: number[] = [];
      const theirs: number[] = [];
      let threads = first.threads;
      for (let r = 0; r < args.reps; r++) {
        const t = (await peer.ask({ cmd: "time", reps: 1 })).seconds as number[];
        theirs.push(t[0]);
        const res = eigh(A, opts);
        ours.push(res.seconds);
        threads = res.threads;
      }
      const curvlab = median(ours);
      const np = median(theirs);
      rows.push({
        n,
        curvlab_s: +curvlab.toPrecision(4),
        numpy_s: +np.toPrecision(4),
        ratio: +(curvlab / np).toPrecision(3),
        max_abs_diff: maxAbsDiff,
        curvlab_threads: threads,
      });
      ctx.log(`n=${n}: curvlab ${curvlab.toFixed(3)} s, numpy ${np.toFixed(3)} s`);
    }
    return {
      title: "All eigenvalues of a dense symmetric matrix: curvlab eigh vs LAPACK (numpy.linalg.eigvalsh)",
      summary: `Random symmetric matrices (Gaussian entries, seed ${args.seed}), the same bytes for both; medians of ${args.reps} interleaved runs after a warm-up. ${args.single ? "Both sides on one thread." : "Both sides with their default threads."} Target: at most 4x at n = 2000.`,
      tables: [{ title: `${args.single ? "one thread" : "default threads"} (${cpuModel()}, ${availableParallelism()} cores)`, rows }],
      peers: { numpy: `${String(numpy.numpy ?? "")}, LAPACK: ${String(numpy.lapack ?? "?")} ${String(numpy.lapack_version ?? "")}`.trim() },
    };
  } finally {
    peer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url);
