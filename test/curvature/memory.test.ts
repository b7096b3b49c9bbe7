// 2,000 consecutive products without memory growth: engine (Wasm) memory only grows when live
// buffers grow, since freed blocks are reused, so any leak of even one buffer per product shows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine, engineMemoryBytes } from "../../src/engine/start.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { makeProblem } from "../../src/curvature/problem.ts";
import { curvatureOperator, type OperatorName } from "../../src/curvature/make.ts";
import { gaussianDirection } from "../../src/tree/vector.ts";

await startEngine({ device: "wasm" });

for (const [operator, count] of [["hessian", 2000], ["ggn", 300], ["gradcov", 300]] as [OperatorName, number][]) {
  test(`${count} consecutive ${operator} products do not grow engine memory`, async () => {
    const model = parseModel("mlp:20-32-5:tanh");
    const problem = makeProblem(model, loadData("gmm:k=5,d=20,n=60,sep=3,seed=0"), model.init(0), { batchSize: 128 });
    const op = curvatureOperator(problem, { operator });
    let v = gaussianDirection(1, model.size, "float32");
    const step = async () => {
      const w = op.matvec(v);
      // Normalize (power iteration) so values stay finite; read back so the work is done.
      const norm = Math.sqrt((await w.ref.mul(w.ref).sum().data())[0]);
      v.dispose();
      v = w.div(norm);
    };
    for (let i = 0; i < 50; i++) await step();
    const before = engineMemoryBytes();
    for (let i = 0; i < count; i++) await step();
    const after = engineMemoryBytes();
    v.dispose();
    op.dispose();
    problem.dispose();
    assert.ok(before > 0, "engine memory is measured");
    assert.equal(after, before, `engine memory grew from ${before} to ${after} bytes over ${count} products`);
  });
}
