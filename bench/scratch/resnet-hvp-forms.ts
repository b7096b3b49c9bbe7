/**
 * Scratch: HVP formulations on resnet:20 (memory and time), n images.
 *   CURVLAB_THREADS=1 node --import tsx bench/scratch/resnet-hvp-forms.ts n form
 * form: jvpgrad | gradjvp | linearize
 */
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np, jit, grad, jvp, linearize, type Array } from "../../src/engine/jax.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { makeProblem, batchLoss } from "../../src/curvature/problem.ts";

await startEngine();
const N = Number(process.argv[2] ?? 16);
const form = process.argv[3] ?? "jvpgrad";
const spec = process.argv[4] ?? "resnet:20:bn=batch";
const model = parseModel(spec);
const rng = hostRng(1);
const x = Float32Array.from({ length: N * 3072 }, () => rng.normal());
const y = Int32Array.from({ length: N }, () => rng.int(10));
const data = { x, featureShape: [3, 32, 32], y, numClasses: 10, name: "normal" };
const theta = Float32Array.from(model.init(1));
const problem = makeProblem(model, data, theta, { dtype: "float32", loss: "cross-entropy", batchSize: N });
const v = np.array(Float32Array.from({ length: model.size }, () => rng.normal()));
const b = problem.batches[0]!;
const L = batchLoss(problem);
const mem = () => `rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`;
let hvp: (v: Array) => Array;
if (form === "jvpgrad") {
  const f = jit((t: Array, xx: Array, yy: Array, vv: Array) => {
    const [g, hv] = jvp((q: Array) => grad(L)(q, xx.ref, yy.ref), [t], [vv]);
    g.dispose(); xx.dispose(); yy.dispose();
    return hv;
  });
  hvp = (vv) => f(problem.theta.ref, b.x.ref, b.targets.ref, vv);
} else if (form === "gradjvp") {
  const f = jit((t: Array, xx: Array, yy: Array, vv: Array) =>
    grad((q: Array) => { const [l, dl] = jvp((p: Array) => L(p, xx.ref, yy.ref), [q], [vv.ref]); l.dispose(); return dl; })(t));
  hvp = (vv) => f(problem.theta.ref, b.x.ref, b.targets.ref, vv);
} else {
  const t0 = performance.now();
  const [g, lin] = linearize((q: Array) => grad(L)(q, b.x.ref, b.targets.ref), [problem.theta.ref]);
  g.dispose();
  console.log(`linearize ${(performance.now() - t0).toFixed(0)} ms, ${mem()}`);
  hvp = (vv) => lin(vv);
}
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  const h = hvp(v.ref);
  const d = (await h.data()) as Float32Array;

  let s = 0; for (let i = 0; i < d.length; i++) s += d[i]! * d[i]!;
  console.log(`${form} n=${N}: ${(performance.now() - t0).toFixed(0)} ms, |Hv| ${Math.sqrt(s).toExponential(4)}, ${mem()}`);
}
