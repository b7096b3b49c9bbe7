// The Hessian-vector product methods of curvature/hessian.ts against PyTorch's dense Hessian
// (bench/fixtures/make_architectures.py: PyHessian's ResNet at resnet:8:width=2,classes=3,in=3x8x8,
// float64, 8 examples, both BatchNorm modes), through matvec and matvecAsync, with batches cut in
// chunks (bn=eval) and not (bn=batch: the chunks are the statistics' batches); and `auto`'s choice.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np } from "../../src/engine/jax.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { readNpy } from "../../src/data/npy.ts";
import { makeProblem } from "../../src/curvature/problem.ts";
import { hessianOperator, resolveHvpMethod, chunkRowsFor, type HvpMethod } from "../../src/curvature/hessian.ts";
import { loadModelWeights } from "../../src/train/checkpoint.ts";
import type { DTypeName } from "../../src/engine/dtype.ts";
import { relativeError } from "./oracle.ts";

await startEngine({ device: "wasm" });

const dir = fileURLToPath(new URL("../fixtures/architectures/", import.meta.url));
const SPEC = "resnet:8:width=2,classes=3,in=3x8x8";
const dataSpec = `npy:${join(dir, "x.npy")},${join(dir, "y.npy")},classes=3`;
const npy = (name: string) => readNpy(join(dir, name)).data as Float64Array;

// float64 on Wasm is bounded by its float32-precise transcendentals (operators-wasm.test.ts).
const BOUND: Record<DTypeName, number> = { float64: 2e-7, float32: 2e-5 };
const CASES: readonly { method: HvpMethod; dtype: DTypeName }[] = [
  { method: "linearize", dtype: "float64" },
  { method: "relinearize", dtype: "float64" },
  { method: "grad-of-jvp", dtype: "float32" },
  { method: "linearize", dtype: "float32" },
];

for (const mode of ["eval", "batch"] as const) {
  for (const { method, dtype } of CASES) {
    test(`${SPEC},bn=${mode}: ${method} (${dtype}, chunkRows 3) equals PyTorch's dense Hessian times v`, async () => {
      const { model, theta } = loadModelWeights(join(dir, "resnet.safetensors"), parseModel(`${SPEC},bn=${mode}`));
      const P = model.size;
      const V = npy("resnet_v.npy");
      const HV = npy(`resnet_hvp_${mode}.npy`);
      // bn=batch: one batch of 8 (the fixture's statistics); chunkRows must not cut it.
      const problem = makeProblem(model, loadData(dataSpec), theta, { dtype, batchSize: mode === "eval" ? 4 : 8 });
      const op = hessianOperator(problem, { method, chunkRows: 3 });
      const Array_ = dtype === "float64" ? Float64Array : Float32Array;
      try {
        for (let r = 0; r < 2; r++) {
          const v = np.array(Array_.from(V.subarray(r * P, (r + 1) * P)), { dtype: dtype === "float64" ? np.float64 : np.float32 });
          const sync = Float64Array.from(await op.matvec(v.ref).data());
          const bounded = Float64Array.from(await (await op.matvecAsync(v)).data());
          const expected = HV.subarray(r * P, (r + 1) * P);
          assert.ok(relativeError(sync, expected) < BOUND[dtype], `matvec ${r}: relative error ${relativeError(sync, expected)}`);
          assert.ok(relativeError(bounded, sync) < BOUND[dtype] / 10, `matvecAsync ${r} differs from matvec: ${relativeError(bounded, sync)}`);
        }
        assert.equal(op.matvecs, 4);
      } finally {
        op.dispose();
        problem.dispose();
      }
    });
  }
}

test("grad-of-jvp refuses float64 (jax-js computes it wrongly under jit there)", () => {
  const model = parseModel(SPEC);
  const problem = makeProblem(model, loadData(dataSpec), model.init(0), { dtype: "float64" });
  try {
    assert.throws(() => hessianOperator(problem, { method: "grad-of-jvp" }), /float32 only/);
  } finally {
    problem.dispose();
  }
});

test("auto: linearize where the linearizations fit, per-batch methods where they do not, chunks sized by the activations", () => {
  const small = makeProblem(parseModel(SPEC), loadData(dataSpec), parseModel(SPEC).init(0), { dtype: "float32" });
  assert.equal(resolveHvpMethod(small), "linearize");
  small.dispose();
  // No activation count (an MLP): linearize, as before.
  const mlp = makeProblem(parseModel("mlp:784-100-10:tanh"), loadData("mnist:n=50"), parseModel("mlp:784-100-10:tanh").init(0), { dtype: "float32" });
  assert.equal(resolveHvpMethod(mlp), "linearize");
  mlp.dispose();
  // resnet:20 on 64 CIFAR-shaped images: 64 x 200,704 activations x 257 floats x 4 bytes = 13 GB of linearizations.
  const model = parseModel("resnet:20");
  assert.equal(model.activationsPerExample, 16 * 32 * 32 * 7 + 32 * 16 * 16 * 7 + 64 * 8 * 8 * 7);
  const n = 64;
  const data = { x: new Float32Array(n * 3072), featureShape: [3, 32, 32], y: new Int32Array(n), numClasses: 10, name: "zeros" };
  for (const [dtype, method] of [["float32", "grad-of-jvp"], ["float64", "relinearize"]] as const) {
    const problem = makeProblem(model, data, new Float64Array(model.size), { dtype, batchSize: 1000 });
    assert.equal(resolveHvpMethod(problem), method);
    const rows = chunkRowsFor(problem, method);
    assert.ok(rows >= 1 && rows < n, `chunk rows ${rows}`);
    assert.equal(chunkRowsFor(problem, method, 5), 5);
    problem.dispose();
  }
});
