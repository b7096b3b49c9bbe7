/** Scratch: gradientFunction and hessianOperator (auto) of resnet:20 on n images: time, chunk rows, rss. */
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np } from "../../src/engine/jax.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { makeProblem, gradientFunction } from "../../src/curvature/problem.ts";
import { hessianOperator } from "../../src/curvature/hessian.ts";
await startEngine();
const N = Number(process.argv[2] ?? 256);
const model = parseModel(process.argv[3] ?? "resnet:20");
const rng = hostRng(1);
const data = { x: Float32Array.from({ length: N * 3072 }, () => rng.normal()), featureShape: [3, 32, 32], y: Int32Array.from({ length: N }, () => rng.int(10)), numClasses: 10, name: "normal" };
const problem = makeProblem(model, data, Float32Array.from(model.init(1)), { dtype: "float32", loss: "cross-entropy", batchSize: N });
const rss = () => `maxrss ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`;
const g = gradientFunction(problem);
for (let r = 0; r < 2; r++) {
  const t0 = performance.now();
  const out = await g.compute();
  await out.blockUntilReady();
  out.dispose();
  console.log(`grad ${N}: ${(performance.now() - t0).toFixed(0)} ms, ${rss()}`);
}
g.dispose();
if (process.argv[4] === "gradonly") process.exit(0);
const op = hessianOperator(problem);
const v = np.array(Float32Array.from({ length: model.size }, () => rng.normal()));
for (let r = 0; r < 2; r++) {
  const t0 = performance.now();
  const out = await op.matvecAsync(v.ref);
  await out.blockUntilReady();
  out.dispose();
  console.log(`hvp ${N}: ${(performance.now() - t0).toFixed(0)} ms, ${rss()}`);
}
