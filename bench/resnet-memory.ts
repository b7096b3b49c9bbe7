/**
 * Benchmark: the memory of Hessian-vector products of ResNet-20 on many CIFAR-sized images, as a
 * user runs them (`curvlab trace --model resnet:20 --data cifar10:DIR,n=N --batch-size B`, one
 * Hutchinson product), at a few N with the same B: the peak resident memory of the whole command
 * (getrusage of the child process: Wasm memory, worker threads and Node's heap together) should
 * not grow with N, because the operator sums over batches and, inside a batch, over chunks of
 * images, waiting for each term before the next (src/curvature/operator.ts, hessian.ts).
 *
 *   node --import tsx bench/resnet-memory.ts [--quick]   (or: npm run bench -- --only resnet-memory)
 *
 * Images: synthetic records in CIFAR-10's binary format (bench/pyhessian.ts), the same bytes at
 * every N (the first N of 5,000); weights: the model's seeded initialization.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchContext, BenchResult, Cell } from "./lib/contract.ts";
import { runIfMain } from "./lib/harness.ts";
import { sig } from "./lib/stats.ts";
import { writeSyntheticCifar } from "./pyhessian.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(ROOT, "bin", "curvlab.mjs");
const MAX_RSS = join(ROOT, "bench", "lib", "max-rss.mjs");
const THREADS = 2;
/** The bound for 5,000 images. */
const LIMIT_GIB = 4;

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const sizes = ctx.quick ? [64, 256] : [500, 5000];
  const batchSize = ctx.quick ? 64 : 500;
  const work = mkdtempSync(join(tmpdir(), "curvlab-resnet-memory-"));
  const rows: Record<string, Cell>[] = [];
  try {
    const dataDir = join(work, "cifar");
    writeSyntheticCifar(dataDir, Math.max(...sizes));
    for (const n of sizes) {
      const rssFile = join(work, `rss-${n}`);
      const args = ["--import", MAX_RSS, CLI, "trace", "--model", "resnet:20", "--data", `cifar10:${dataDir},n=${n}`];
      args.push("--batch-size", String(batchSize), "--method", "hutchinson", "--matvecs", "1");
      args.push("--json", "--quiet", "--threads", String(THREADS));
      ctx.log(`curvlab trace on ${n} images (batches of ${batchSize}) ...`);
      const t = performance.now();
      const r = spawnSync(process.execPath, args, { encoding: "utf8", env: { ...process.env, CURVLAB_MAXRSS_FILE: rssFile } });
      const seconds = (performance.now() - t) / 1000;
      if (r.status !== 0) throw new Error(`curvlab trace on ${n} images failed (${r.status}): ${r.stderr.trim().split("\n").pop()}`);
      const out = JSON.parse(r.stdout);
      const peakMiB = Number(readFileSync(rssFile, "utf8").trim().split("\n").pop()) / 1024;
      const hvpSeconds = out.estimates[0].seconds as number;
      rows.push({
        images: n,
        "batch size": batchSize,
        threads: THREADS,
        "command s": sig(seconds),
        "HVP s": sig(hvpSeconds),
        "HVP ms per image": sig((hvpSeconds * 1000) / n),
        "peak memory MiB": sig(peakMiB),
        [`under ${LIMIT_GIB} GiB`]: peakMiB < LIMIT_GIB * 1024,
      });
      ctx.log(`  ${n} images: ${seconds.toFixed(0)} s, peak ${peakMiB.toFixed(0)} MiB`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return {
    title: "Memory: Hessian-vector products of ResNet-20 on up to 5,000 images",
    summary:
      "Peak resident memory of the whole `curvlab trace --model resnet:20 --data cifar10:DIR,n=N --batch-size B " +
      "--method hutchinson --matvecs 1` command (one product; getrusage of the child: Wasm memory, workers and heap), float32, " +
      "synthetic CIFAR-10 records, the model's seeded initialization (BatchNorm on running statistics).",
    tables: [
      {
        title: `Peak memory against the number of images (batches of ${batchSize})`,
        rows,
        notes: [
          "HVP s: the estimator's own time (the operator's set-up and the product); command s adds process start, engine and data.",
          "The products run `--hvp auto`: grad-of-jvp under jit on chunks of each batch (src/curvature/chunks.ts, CHUNK_BUDGET), each chunk awaited before the next.",
        ],
      },
    ],
  };
}

runIfMain(import.meta.url);
