/**
 * Scratch profile (not a benchmark of bench/run.ts): where a LeNet's gradient and HVP spend
 * their time on this engine, piece by piece.
 *
 *   CURVLAB_THREADS=2 node --import tsx bench/scratch/conv-profile.ts [reps]
 */
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np, lax, nn, jit, grad, vjp, linearize, type Array } from "../../src/engine/jax.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { makeProblem, batchLoss } from "../../src/curvature/problem.ts";
import { hessianOperator } from "../../src/curvature/hessian.ts";
import { median, timeDevice, sig } from "../lib/stats.ts";

const reps = Number(process.argv[2] ?? 5);
await startEngine();
const rng = hostRng(1);
const randn = (shape: number[]) => np.array(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal())).reshape(shape);

async function time(label: string, f: () => Array, flops = 0): Promise<number> {
  await timeDevice(f); // warm-up / compile
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) ts.push(await timeDevice(f));
  const m = median(ts);
  console.log(`${label.padEnd(48)} ${sig(m).toString().padStart(8)} ms${flops ? `  ${sig(flops / m / 1e6)} GFLOP/s` : ""}`);
  return m;
}

const N = 1000;
// conv layers of LeNet
for (const [C, H, O, k] of [[1, 28, 6, 5], [6, 12, 16, 5]] as const) {
  const x = randn([N, C, H, H]);
  const w = randn([O, C, k, k]);
  const Ho = H - k + 1;
  const flops = 2 * N * O * Ho * Ho * C * k * k;
  const ct = randn([N, O, Ho, Ho]);
  const fwd = jit((a: Array, b: Array) => lax.conv(a, b, [1, 1], "VALID"));
  await time(`lax.conv fwd jit x[${N},${C},${H},${H}] w[${O},${C},${k},${k}]`, () => fwd(x.ref, w.ref), flops);
  await time(`lax.conv fwd eager`, () => lax.conv(x.ref, w.ref, [1, 1], "VALID"), flops);
  const bw = jit((a: Array, b: Array, c: Array) => {
    const [y, back] = vjp((p: Array, q: Array) => lax.conv(p, q, [1, 1], "VALID"), [a, b]);
    y.dispose();
    const [gx, gw] = back(c);
    back.dispose();
    return gx.sum().add(gw.sum());
  });
  await time(`lax.conv vjp (dx, dw) jit`, () => bw(x.ref, w.ref, ct.ref), 2 * flops);
  const bwx = jit((a: Array, b: Array, c: Array) => {
    const [y, back] = vjp((p: Array) => lax.conv(p, b.ref, [1, 1], "VALID"), [a]);
    y.dispose();
    const [gx] = back(c);
    back.dispose(); b.dispose();
    return gx;
  });
  await time(`lax.conv vjp dx only jit`, () => bwx(x.ref, w.ref, ct.ref), flops);
  const bww = jit((a: Array, b: Array, c: Array) => {
    const [y, back] = vjp((q: Array) => lax.conv(a.ref, q, [1, 1], "VALID"), [b]);
    y.dispose();
    const [gw] = back(c);
    back.dispose(); a.dispose();
    return gw;
  });
  await time(`lax.conv vjp dw only jit`, () => bww(x.ref, w.ref, ct.ref), flops);
  // pooling
  const pool = jit((a: Array) => a.reshape([N, O, Ho / 2, 2, Ho / 2, 2]).max([3, 5]));
  await time(`maxpool reshape+max fwd jit [${N},${O},${Ho},${Ho}]`, () => pool(ct.ref));
  const poolg = jit(grad((a: Array) => a.reshape([N, O, Ho / 2, 2, Ho / 2, 2]).max([3, 5]).sum()));
  await time(`maxpool reshape+max grad jit`, () => poolg(ct.ref));
  fwd.dispose(); bw.dispose(); bwx.dispose(); bww.dispose(); pool.dispose(); poolg.dispose();
  x.dispose(); w.dispose(); ct.dispose();
}

// whole model
const model = parseModel("cnn:lenet");
const x = Float32Array.from({ length: N * 784 }, () => rng.normal());
const y = Int32Array.from({ length: N }, () => rng.int(10));
const problem = makeProblem(model, { x, featureShape: [1, 28, 28], y, numClasses: 10, name: "normal" }, model.init(1), { batchSize: N });
const b = problem.batches[0]!;
const L = batchLoss(problem);
const fwd = jit((t: Array, xx: Array, tt: Array) => L(t, xx, tt));
await time("lenet loss jit", () => fwd(problem.theta.ref, b.x.ref, b.targets.ref));
const g = jit(grad(L));
await time("lenet grad jit", () => g(problem.theta.ref, b.x.ref, b.targets.ref));
const v = randn([model.size]).reshape([-1]);
let t0 = performance.now();
const op = hessianOperator(problem);
const hv0 = op.matvec(v.ref);
await hv0.blockUntilReady();
hv0.dispose();
console.log(`hessianOperator setup + first HVP ${sig(performance.now() - t0)} ms`);
await time("lenet HVP (linearize once, replay)", () => op.matvec(v.ref));
op.dispose();
const relin = hessianOperator(problem, { method: "relinearize" });
await time("lenet HVP (relinearize)", () => relin.matvec(v.ref));
process.exit(0);
