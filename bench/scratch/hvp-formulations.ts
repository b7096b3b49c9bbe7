/**
 * Scratch study (not a benchmark of bench/run.ts): other ways of forming the Hessian-vector
 * product of an MLP on this engine, timed against curvlab's default and the gradient.
 *
 *   CURVLAB_THREADS=1 node --import tsx bench/scratch/hvp-formulations.ts [mlp:784-128-10:tanh] [reps]
 *
 * Formulations (all float32, one batch of 1,000, cross-entropy; tanh MLPs only):
 * - grad: jit(grad(loss)), the reference cost;
 * - manual grad: the backward pass written out layer by layer, under jit;
 * - default: hessianOperator(problem) (linearize(grad) once, replay the linear part eagerly);
 * - jvp(manual grad) under jit: forward-mode through the hand-written backward pass (recomputes
 *   the gradient's primal work in every product);
 * - linearize(manual grad) once, replay;
 * - R-op by hand (Pearlmutter 1994) under jit, with the activations and back-propagated errors of
 *   theta computed once and passed in as arguments: the fewest matmuls an exact HVP needs.
 * Every result is compared with the default's (max |a-b| / max |b|).
 */
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np, nn, jit, grad, jvp, linearize, type Array } from "../../src/engine/jax.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { parseModel } from "../../src/nn/spec.ts";
import type { Model } from "../../src/nn/model.ts";
import { makeProblem, batchLoss } from "../../src/curvature/problem.ts";
import { hessianOperator } from "../../src/curvature/hessian.ts";
import { median, maxRelDiff, timeDevice, sig } from "../lib/stats.ts";

const spec = process.argv[2] ?? "mlp:784-128-10:tanh";
const reps = Number(process.argv[3] ?? 12);
if (!spec.endsWith(":tanh")) throw new Error("this study's hand-written passes are for tanh MLPs");
const engine = await startEngine();
const model = parseModel(spec);
const widths = spec.split(":")[1]!.split("-").map(Number);
const nL = widths.length - 1;
const N = 1000;
const rng = hostRng(1);
const d = widths[0]!;
const x = Float32Array.from({ length: N * d }, () => rng.normal());
const y = Int32Array.from({ length: N }, () => rng.int(10));
const problem = makeProblem(model, { x, featureShape: [d], y, numClasses: 10, name: "normal" }, model.init(1), { batchSize: N });
const v = np.array(Float32Array.from({ length: model.size }, () => rng.normal()));
const b = problem.batches[0]!;

/** Weight [out, in] and bias [out] of layer l, sliced from the flat vector (consumes nothing). */
function layer(m: Model, theta: Array, l: number): [Array, Array] {
  const w = m.layout[2 * l]!;
  const bias = m.layout[2 * l + 1]!;
  return [
    theta.ref.slice([w.offset, w.offset + w.size]).reshape([widths[l + 1]!, widths[l]!]),
    theta.ref.slice([bias.offset, bias.offset + bias.size]),
  ];
}

/** Forward pass: hidden activations h_1..h_{L-1} (tanh) and the logits. Consumes nothing. */
function forward(theta: Array, X: Array): { hs: Array[]; logits: Array } {
  const hs: Array[] = [];
  let h = X.ref;
  for (let l = 0; l < nL; l++) {
    const [W, bias] = layer(model, theta, l);
    const z = np.matmul(h, W.transpose()).add(bias);
    if (l + 1 < nL) {
      h = np.tanh(z);
      hs.push(h.ref);
    } else return { hs, logits: z };
  }
  throw new Error("unreachable");
}

/** The gradient written out layer by layer (flat, layout order). Consumes theta, X, T. */
function manualGrad(theta: Array, X: Array, T: Array): Array {
  const { hs, logits } = forward(theta, X);
  let delta = nn.softmax(logits, -1).sub(T).div(N);
  const parts: Array[] = [];
  for (let l = nL - 1; l >= 0; l--) {
    const hPrev = l === 0 ? X.ref : hs[l - 1]!.ref;
    parts.unshift(np.matmul(delta.ref.transpose(), hPrev).reshape([-1]), delta.ref.sum(0));
    if (l > 0) {
      const [W, bias] = layer(model, theta, l);
      bias.dispose();
      const h = hs[l - 1]!;
      delta = np.matmul(delta, W).mul(h.ref.mul(h).neg().add(1));
    } else delta.dispose();
  }
  theta.dispose(), X.dispose(); // T was consumed by the first delta
  return np.concatenate(parts);
}

/**
 * Pearlmutter's R-op for the tanh MLP with cross-entropy: H v from the activations hs, the
 * softmax p and the errors deltas (delta_l = dLoss/dz_l) at theta. Consumes everything.
 */
function rop(theta: Array, X: Array, hs: Array[], p: Array, deltas: Array[], V: Array): Array {
  let Rh: Array | null = null; // R{h_0} = 0: the inputs do not depend on theta
  const Rhs: Array[] = [];
  let Rz: Array | null = null;
  for (let l = 0; l < nL; l++) {
    const [W, bias] = layer(model, theta, l);
    bias.dispose();
    const [Vw, Vb] = layer(model, V, l);
    const hPrev = l === 0 ? X.ref : hs[l - 1]!.ref;
    let r = np.matmul(hPrev, Vw.transpose()).add(Vb);
    if (Rh) r = r.add(np.matmul(Rh, W.transpose()));
    else W.dispose();
    if (l + 1 < nL) {
      const h = hs[l]!;
      Rh = h.ref.mul(h.ref).neg().add(1).mul(r);
      Rhs.push(Rh.ref);
    } else Rz = r;
  }
  // Output layer: R{delta_L} = (p * Rz - p * sum(p * Rz)) / N.
  const pRz = p.ref.mul(Rz!);
  let Rdelta = pRz.ref.sub(p.ref.mul(pRz.sum(-1, { keepdims: true }))).div(N);
  const parts: Array[] = [];
  for (let l = nL - 1; l >= 0; l--) {
    const delta = deltas[l]!;
    const hPrev = l === 0 ? X.ref : hs[l - 1]!.ref;
    let gW = np.matmul(Rdelta.ref.transpose(), hPrev);
    if (l > 0) gW = gW.add(np.matmul(delta.ref.transpose(), Rhs[l - 1]!.ref));
    parts.unshift(gW.reshape([-1]), Rdelta.ref.sum(0));
    if (l > 0) {
      const [W, bias] = layer(model, theta, l);
      bias.dispose();
      const [Vw, Vb] = layer(model, V, l);
      Vb.dispose();
      const h = hs[l - 1]!;
      const dh = h.ref.mul(h.ref).neg().add(1);
      const back = np.matmul(delta.ref, W.ref); // delta_l W_l
      Rdelta = np.matmul(Rdelta, W)
        .add(np.matmul(delta.ref, Vw))
        .mul(dh)
        .add(back.mul(h.ref.mul(Rhs[l - 1]!.ref).mul(-2)));
    } else Rdelta.dispose();
  }
  for (const a of [theta, X, p, V, ...hs, ...deltas, ...Rhs]) a.dispose();
  return np.concatenate(parts);
}

/** Activations, softmax and errors at theta, for the R-op (computed once, like a linearization). */
function ropResiduals(theta: Array, X: Array, T: Array): Array[] {
  const { hs, logits } = forward(theta, X);
  const p = nn.softmax(logits, -1);
  const deltas: Array[] = [p.ref.sub(T).div(N)];
  for (let l = nL - 1; l > 0; l--) {
    const [W, bias] = layer(model, theta, l);
    bias.dispose();
    const h = hs[l - 1]!;
    deltas.unshift(np.matmul(deltas[0]!.ref, W).mul(h.ref.mul(h.ref).neg().add(1)));
  }
  theta.dispose(), X.dispose();
  return [...hs, p, ...deltas];
}

const L = batchLoss(problem);
const gradJit = jit(grad(L));
const manualJit = jit(manualGrad);
const op = hessianOperator(problem);
const jvpManual = jit((theta: Array, X: Array, T: Array, V: Array) => {
  const [g, hv] = jvp((t: Array) => manualGrad(t, X.ref, T.ref), [theta], [V]);
  g.dispose(), X.dispose(), T.dispose();
  return hv;
});
const [g0, linManual] = linearize((t: Array) => manualGrad(t, b.x.ref, b.targets.ref), [problem.theta.ref]);
g0.dispose();
const residualsJit = jit((theta: Array, X: Array, T: Array) => ropResiduals(theta, X, T));
let t0 = performance.now();
const res = residualsJit(problem.theta.ref, b.x.ref, b.targets.ref);
await Promise.all(res.map((r) => r.blockUntilReady()));
const ropSetupMs = performance.now() - t0;
const ropJit = jit((theta: Array, X: Array, V: Array, ...r: Array[]) =>
  rop(theta, X, r.slice(0, nL - 1), r[nL - 1]!, r.slice(nL), V),
);

const cases: Record<string, () => Array> = {
  "grad (jit autodiff)": () => gradJit(problem.theta.ref, b.x.ref, b.targets.ref),
  "grad (jit, hand-written backward)": () => manualJit(problem.theta.ref, b.x.ref, b.targets.ref),
  "HVP default (linearize, replay)": () => op.matvec(v),
  "HVP jit(jvp(hand-written grad))": () => jvpManual(problem.theta.ref, b.x.ref, b.targets.ref, v.ref),
  "HVP linearize(hand-written grad), replay": () => linManual(v.ref),
  "HVP R-op by hand (jit, cached activations)": () => ropJit(problem.theta.ref, b.x.ref, v.ref, ...res.map((r) => r.ref)),
};

const refHv = (await op.matvec(v).data()) as Float32Array;
const refG = (await gradJit(problem.theta.ref, b.x.ref, b.targets.ref).data()) as Float32Array;
const diffs: Record<string, number> = {};
for (const [name, f] of Object.entries(cases)) {
  const out = (await f().data()) as Float32Array;
  diffs[name] = maxRelDiff(out, name.startsWith("grad") ? refG : refHv);
}
const times: Record<string, number[]> = {};
for (let r = 0; r < reps + 2; r++) {
  for (const [name, f] of Object.entries(cases)) {
    const ms = await timeDevice(f);
    if (r >= 2) (times[name] ??= []).push(ms);
  }
}
const gradMs = median(times["grad (jit autodiff)"]!);
console.log(`${spec}, ${model.size} parameters, batch ${N}, float32, threads ${engine.threads}, median of ${reps}`);
console.log(`R-op residuals (one-time, jit incl. compile): ${ropSetupMs.toFixed(1)} ms`);
console.log("| formulation | ms | / grad | vs default (max rel) |\n| --- | ---: | ---: | ---: |");
for (const [name, xs] of Object.entries(times)) {
  const m = median(xs);
  console.log(`| ${name} | ${sig(m)} | ${sig(m / gradMs)} | ${diffs[name]!.toExponential(1)} |`);
}
process.exit(0);
