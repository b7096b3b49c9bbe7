/**
 * Scratch: hessianOperator (auto) on resnet:20, n images in chunks; matvecAsync time and rss.
 *   CURVLAB_THREADS=2 node --import tsx bench/scratch/resnet-op-mem.ts n [chunkRows] [spec]
 */
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np } from "../../src/engine/jax.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { makeProblem } from "../../src/curvature/problem.ts";
import { hessianOperator, resolveHvpMethod, chunkRowsFor } from "../../src/curvature/hessian.ts";
await startEngine();
const N = Number(process.argv[2] ?? 64);
const chunkRows = process.argv[3] ? Number(process.argv[3]) : undefined;
const model = parseModel(process.argv[4] ?? "resnet:20");
const rng = hostRng(1);
const data = { x: Float32Array.from({ length: N * 3072 }, () => rng.normal()), featureShape: [3, 32, 32], y: Int32Array.from({ length: N }, () => rng.int(10)), numClasses: 10, name: "normal" };
const problem = makeProblem(model, data, Float32Array.from(model.init(1)), { dtype: "float32", loss: "cross-entropy", batchSize: 1000 });
const method = resolveHvpMethod(problem);
console.log(`method ${method}, chunk rows ${method === "linearize" ? "-" : chunkRowsFor(problem, method, chunkRows)}`);
const op = hessianOperator(problem, { chunkRows });
const v = np.array(Float32Array.from({ length: model.size }, () => rng.normal()));
const mem = () => { const m = process.memoryUsage(); return `rss ${(m.rss / 2 ** 20).toFixed(0)} heap ${(m.heapUsed / 2 ** 20).toFixed(0)} ext ${(m.external / 2 ** 20).toFixed(0)} MiB`; };
for (let r = 0; r < Number(process.env.REPS ?? 3); r++) {
  const t0 = performance.now();
  const h = await op.matvecAsync(v.ref);
  const d = (await h.data()) as Float32Array;
  let s = 0; for (let i = 0; i < d.length; i++) s += d[i]! * d[i]!;
  (globalThis as { gc?: () => void }).gc?.();
  console.log(`HVP ${N} images: ${(performance.now() - t0).toFixed(0)} ms, |Hv| ${Math.sqrt(s).toExponential(5)}, ${mem()}`);
}
