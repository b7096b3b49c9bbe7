/** Scratch: peak rss of one jit(grad) of resnet:20 on n images. node --import tsx bench/scratch/resnet-grad-mem.ts n */
import { startEngine } from "../../src/engine/start.ts";
import { jit, grad } from "../../src/engine/jax.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { makeProblem, batchLoss } from "../../src/curvature/problem.ts";
await startEngine();
const N = Number(process.argv[2] ?? 32);
const model = parseModel(process.argv[3] ?? "resnet:20");
const rng = hostRng(1);
const data = { x: Float32Array.from({ length: N * 3072 }, () => rng.normal()), featureShape: [3, 32, 32], y: Int32Array.from({ length: N }, () => rng.int(10)), numClasses: 10, name: "normal" };
const problem = makeProblem(model, data, Float32Array.from(model.init(1)), { dtype: "float32", loss: "cross-entropy", batchSize: N });
const b = problem.batches[0]!;
const base = process.resourceUsage().maxRSS;
const f = jit(grad(batchLoss(problem)));
for (let r = 0; r < 2; r++) {
  const t0 = performance.now();
  const g = f(problem.theta.ref, b.x.ref, b.targets.ref);
  await g.blockUntilReady();
  g.dispose();
  console.log(`grad ${N}: ${(performance.now() - t0).toFixed(0)} ms, maxrss ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (before ${(base / 1024).toFixed(0)})`);
}
