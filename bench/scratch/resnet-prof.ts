/**
 * Scratch: resnet:20 gradient and HVP times at n images, plus a kernel profile (1 thread).
 *   CURVLAB_THREADS=1 node --import tsx bench/scratch/resnet-prof.ts [n] [spec] [profile]
 */
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np, jit, grad, type Array } from "../../src/engine/jax.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { parseModel as makeModel } from "../../src/nn/spec.ts";
import { makeProblem, batchLoss } from "../../src/curvature/problem.ts";
import { hessianOperator } from "../../src/curvature/hessian.ts";
import { printProfile } from "./kprof.ts";

await startEngine();
const N = Number(process.argv[2] ?? 32);
const spec = process.argv[3] ?? "resnet:20:bn=batch";
const prof = process.argv[4] === "profile";
const model = makeModel(spec);
const rng = hostRng(1);
const x = Float32Array.from({ length: N * 3072 }, () => rng.normal());
const y = Int32Array.from({ length: N }, () => rng.int(10));
const data = { x, featureShape: [3, 32, 32], y, numClasses: 10, name: "normal" };
const theta = Float32Array.from(model.init(1));
const problem = makeProblem(model, data, theta, { dtype: "float32", loss: "cross-entropy", batchSize: N });
const v = np.array(Float32Array.from({ length: model.size }, () => rng.normal()));
const b = problem.batches[0]!;
const g = jit(grad(batchLoss(problem)));
const time = async (label: string, f: () => Array, reps = 2) => {
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const out = f();
    await out.blockUntilReady();
    out.dispose();
    console.log(`${label}: ${(performance.now() - t0).toFixed(0)} ms`);
  }
};
await time("grad (jit)", () => g(problem.theta.ref, b.x.ref, b.targets.ref));
if (prof) await printProfile("grad", () => g(problem.theta.ref, b.x.ref, b.targets.ref), 25);
if (process.argv[5] === "gradonly") process.exit(0);
let t0 = performance.now();
const op = hessianOperator(problem);
const h0 = op.matvec(v.ref); await h0.blockUntilReady(); h0.dispose();
console.log(`hessianOperator + 1st HVP: ${(performance.now() - t0).toFixed(0)} ms`);
await time("HVP replay", () => op.matvec(v.ref));
const mu = process.memoryUsage();
console.log(`rss ${(mu.rss / 2 ** 20).toFixed(0)} MiB, external+ab ${((mu.external + mu.arrayBuffers) / 2 ** 20).toFixed(0)} MiB`);
if (prof) {
  await printProfile("HVP", () => op.matvec(v.ref), 20);
}
