/**
 * Scratch: a ResNet-20-shaped stand-in (no BatchNorm: it is elementwise and cheap) built on
 * conv2d, to time gradient and HVP at 256 x 3x32x32 while the real resnet:20 is written
 * elsewhere: conv 3x3 3->16, 3 stages x 3 residual blocks (16/32/64, stride 2 and a 1x1 stride-2
 * shortcut at stage changes), ReLU, global average pool, linear 64->10.
 *   CURVLAB_THREADS=2 node --import tsx bench/scratch/resnet-standin.ts [n] [reps]
 */
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np, nn, jit, grad, type Array } from "../../src/engine/jax.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { conv2d, globalAvgPool } from "../../src/nn/conv.ts";
import { makeLayout, layoutSize } from "../../src/tree/layout.ts";
import { uniformFanIn } from "../../src/nn/init.ts";
import type { Model } from "../../src/nn/model.ts";
import { makeProblem, batchLoss } from "../../src/curvature/problem.ts";
import { hessianOperator } from "../../src/curvature/hessian.ts";
import { median, timeDevice, sig } from "../lib/stats.ts";

await startEngine();
const N = Number(process.argv[2] ?? 256);
const reps = Number(process.argv[3] ?? 3);
const blocks: { name: string; cin: number; cout: number; stride: number }[] = [];
{
  let cin = 16;
  for (const [i, cout] of [16, 32, 64].entries()) for (let b = 0; b < 3; b++) {
    blocks.push({ name: `layer${i + 1}.${b}`, cin, cout, stride: i > 0 && b === 0 ? 2 : 1 });
    cin = cout;
  }
}
const entries = [{ name: "conv1.weight", shape: [16, 3, 3, 3] }];
for (const b of blocks) {
  entries.push({ name: `${b.name}.conv1.weight`, shape: [b.cout, b.cin, 3, 3] }, { name: `${b.name}.conv2.weight`, shape: [b.cout, b.cout, 3, 3] });
  if (b.stride !== 1 || b.cin !== b.cout) entries.push({ name: `${b.name}.shortcut.0.weight`, shape: [b.cout, b.cin, 1, 1] });
}
entries.push({ name: "linear.weight", shape: [10, 64] }, { name: "linear.bias", shape: [10] });
const layout = makeLayout(entries);
const at = Object.fromEntries(layout.map((q) => [q.name, q]));
const take = (theta: Array, name: string) => theta.ref.slice([at[name]!.offset, at[name]!.offset + at[name]!.size]).reshape([...at[name]!.shape]);
const model: Model = {
  spec: "scratch:resnet20-standin",
  inputShape: [3, 32, 32],
  outputDim: 10,
  layout,
  size: layoutSize(layout),
  torch: "",
  apply(theta, x) {
    let h = nn.relu(conv2d(x.reshape([-1, 3, 32, 32]), take(theta, "conv1.weight"), { padding: 1 }));
    for (const b of blocks) {
      const o = nn.relu(conv2d(h.ref, take(theta, `${b.name}.conv1.weight`), { stride: b.stride, padding: 1 }));
      const o2 = conv2d(o, take(theta, `${b.name}.conv2.weight`), { padding: 1 });
      const sc = b.stride !== 1 || b.cin !== b.cout ? conv2d(h, take(theta, `${b.name}.shortcut.0.weight`), { stride: b.stride }) : h;
      h = nn.relu(o2.add(sc));
    }
    const out = np.matmul(globalAvgPool(h), take(theta, "linear.weight").transpose()).add(take(theta, "linear.bias"));
    theta.dispose();
    return out;
  },
  init: (seed) => uniformFanIn(layout, (name) => { const s = at[name]!.shape; return s.length === 4 ? s[1]! * s[2]! * s[3]! : 64; }, seed),
};
const rng = hostRng(1);
const x = Float32Array.from({ length: N * 3072 }, () => rng.normal());
const y = Int32Array.from({ length: N }, () => rng.int(10));
const problem = makeProblem(model, { x, featureShape: [3, 32, 32], y, numClasses: 10, name: "normal" }, model.init(1), { batchSize: N });
const b = problem.batches[0]!;
const g = process.env.EAGER_GRAD ? grad(batchLoss(problem)) : jit(grad(batchLoss(problem)));
const time = async (f: () => Array) => { await timeDevice(f); const t: number[] = []; for (let i = 0; i < reps; i++) t.push(await timeDevice(f)); return median(t); };
console.log(`stand-in: ${model.size} parameters, batch ${N}`);
if (process.env.PROFILE) { const { printProfile } = await import("./kprof.ts"); await printProfile("grad", () => g(problem.theta.ref, b.x.ref, b.targets.ref), 12); process.exit(0); }
console.log(`grad ${sig(await time(() => g(problem.theta.ref, b.x.ref, b.targets.ref)))} ms`);
const v = np.array(Float32Array.from({ length: model.size }, () => rng.normal()));
const t0 = performance.now();
const op = hessianOperator(problem);
await op.matvec(v.ref).blockUntilReady();
console.log(`setup + 1st HVP ${sig(performance.now() - t0)} ms`);
console.log(`HVP ${sig(await time(() => op.matvec(v.ref)))} ms`);
process.exit(0);
