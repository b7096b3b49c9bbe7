import { startEngine } from "../../src/engine/start.ts";
import { numpy as np, grad, jvp, makeJaxpr, type Array } from "../../src/engine/jax.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { makeProblem, batchLoss } from "../../src/curvature/problem.ts";
await startEngine();
const spec = process.argv[2] ?? "resnet:20:bn=batch";
const model = parseModel(spec);
for (const N of [1, 2, 4]) {
  const rng = hostRng(1);
  const d = model.inputShape.reduce((a, b) => a * b, 1);
  const data = { x: Float32Array.from({ length: N * d }, () => rng.normal()), featureShape: [...model.inputShape], y: Int32Array.from({ length: N }, () => rng.int(model.outputDim)), numClasses: model.outputDim, name: "n" };
  const problem = makeProblem(model, data as never, Float32Array.from(model.init(1)), { dtype: "float32", loss: "cross-entropy", batchSize: N });
  const b = problem.batches[0]!; const L = batchLoss(problem);
  const v = np.zeros([model.size]);
  const t0 = performance.now();
  const hvp = (t: Array, xx: Array, yy: Array, vv: Array) => grad((q: Array) => { const [l, dl] = jvp((p: Array) => L(p, xx.ref, yy.ref), [q], [vv.ref]); l.dispose(); return dl; })(t);
  const { jaxpr } = makeJaxpr(hvp)(problem.theta.ref, b.x.ref, b.targets.ref, v.ref);
  let floats = 0;
  for (const e of jaxpr.jaxpr.eqns) for (const o of e.outBinders) floats += o.aval.size;
  console.log(`${spec} N=${N}: ${jaxpr.jaxpr.eqns.length} eqns, ${(floats / 1e6).toFixed(2)}M floats, ${(performance.now() - t0).toFixed(0)} ms`);
  jaxpr.dispose();
}
