// resnet:DEPTH against PyTorch (bench/fixtures/make_architectures.py: PyHessian's models/resnet.py
// rewritten, float64): resnet:8:width=2,classes=3,in=3x8x8 with PyTorch's state_dict (parameters
// and running statistics) gives PyTorch's logits and Hessian-vector products in both BatchNorm
// modes on the exact cpu device; the dense Hessian's eigenvalues through `curvlab hessian` (Wasm);
// names, sizes and spec errors.
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
import { curvatureOperator } from "../../src/curvature/make.ts";
import { loadModelWeights } from "../../src/train/checkpoint.ts";
import { relativeError } from "../curvature/oracle.ts";
import { throwsInput } from "../data/helpers.ts";

const heavy = process.env.CURVLAB_HEAVY === "1";
await startEngine({ device: "cpu" });

const dir = fileURLToPath(new URL("../fixtures/architectures/", import.meta.url));
const SPEC = "resnet:8:width=2,classes=3,in=3x8x8";
const dataSpec = `npy:${join(dir, "x.npy")},${join(dir, "y.npy")},classes=3`;
const npy = (name: string) => readNpy(join(dir, name)).data as Float64Array;

async function logits(spec: string): Promise<Float64Array> {
  const { model, theta } = loadModelWeights(join(dir, "resnet.safetensors"), parseModel(spec));
  const x = npy("x.npy");
  const out = model.apply(np.array(theta, { dtype: np.float64 }), np.array(x, { dtype: np.float64 }).reshape([8, 3, 8, 8]));
  return Float64Array.from(await out.data());
}

for (const mode of ["eval", "batch"] as const) {
  test(`${SPEC},bn=${mode}: PyTorch's logits (model.${mode === "eval" ? "eval" : "train"}()) to 1e-12 relative`, async () => {
    const err = relativeError(await logits(`${SPEC},bn=${mode}`), npy(`resnet_logits_${mode}.npy`));
    assert.ok(err < 1e-12, `relative error ${err}`);
  });

  test(`${SPEC},bn=${mode}: Hessian-vector products equal PyTorch's dense Hessian times v to 1e-10 relative`, async () => {
    const { model, theta } = loadModelWeights(join(dir, "resnet.safetensors"), parseModel(`${SPEC},bn=${mode}`));
    const P = model.size;
    const V = npy("resnet_v.npy");
    const HV = npy(`resnet_hvp_${mode}.npy`);
    assert.equal(V.length, 2 * P);
    const problem = makeProblem(model, loadData(dataSpec), theta, { dtype: "float64" });
    const op = curvatureOperator(problem);
    try {
      for (let r = 0; r < 2; r++) {
        const hv = Float64Array.from(await op.matvec(np.array(V.slice(r * P, (r + 1) * P), { dtype: np.float64 })).data());
        const err = relativeError(hv, HV.subarray(r * P, (r + 1) * P));
        assert.ok(err < 1e-10, `product ${r}: relative error ${err}`);
      }
    } finally {
      op.dispose();
      problem.dispose();
    }
  });
}

test("the two BatchNorm modes differ on these running statistics (the fixture exercises both)", async () => {
  const err = relativeError(await logits(`${SPEC},bn=eval`), await logits(`${SPEC},bn=batch`));
  assert.ok(err > 1e-2, `eval and batch logits differ by only ${err}`);
});

test("resnet:20 has PyHessian's state_dict: names, shapes, 272,474 parameters and 63 buffers", () => {
  const m = parseModel("resnet:20");
  assert.equal(m.size, 272474);
  assert.deepEqual(m.inputShape, [3, 32, 32]);
  assert.equal(m.outputDim, 10);
  const names = m.layout.map((p) => p.name);
  assert.deepEqual(names.slice(0, 6), ["conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv1.weight", "layer1.0.bn1.weight", "layer1.0.bn1.bias"]);
  assert.deepEqual(names.slice(-2), ["fc.weight", "fc.bias"]);
  const shape = (n: string) => m.layout.find((p) => p.name === n)?.shape;
  assert.deepEqual(shape("layer2.0.conv1.weight"), [32, 16, 3, 3]);
  assert.deepEqual(shape("layer2.0.downsample.0.weight"), [32, 16, 1, 1]);
  assert.deepEqual(shape("layer3.0.downsample.1.bias"), [64]);
  assert.deepEqual(shape("fc.weight"), [10, 64]);
  assert.equal(shape("layer1.0.downsample.0.weight"), undefined);
  assert.equal(names.filter((n) => n.includes("downsample")).length, 6);
  const buffers = m.buffers!.layout.map((b) => b.name);
  assert.equal(buffers.length, 3 * 21);
  assert.deepEqual(buffers.slice(0, 3), ["bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked"]);
  assert.ok(buffers.includes("layer3.0.downsample.1.running_var"));
  // PyTorch's initial buffers.
  for (const b of m.buffers!.layout) {
    const v = m.buffers!.values.subarray(b.offset, b.offset + b.size);
    assert.ok(v.every((x) => x === (b.name.endsWith("running_var") ? 1 : 0)), b.name);
  }
  assert.equal(parseModel("resnet:32").layout.filter((p) => p.name.endsWith("conv2.weight")).length, 15);
  assert.equal(parseModel("resnet:20:width=4").layout.find((p) => p.name === "fc.weight")!.shape[1], 16);
});

test("init: PyHessian's (conv normal(0, sqrt(2 / (k k out))), BatchNorm 1 and 0, fc uniform), seeded", () => {
  const m = parseModel("resnet:20");
  const theta = m.init(3);
  assert.deepEqual(Array.from(theta.subarray(0, 50)), Array.from(m.init(3).subarray(0, 50)));
  assert.notDeepEqual(Array.from(theta.subarray(0, 50)), Array.from(m.init(4).subarray(0, 50)));
  const block = (n: string) => { const p = m.layout.find((q) => q.name === n)!; return theta.subarray(p.offset, p.offset + p.size); };
  const w = block("layer3.1.conv1.weight");
  const sd = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(sd / Math.sqrt(2 / (9 * 64)) - 1) < 0.05, `std ${sd}`);
  assert.ok(block("layer2.0.bn1.weight").every((v) => v === 1));
  assert.ok(block("layer2.0.bn1.bias").every((v) => v === 0));
  assert.ok(block("fc.weight").every((v) => Math.abs(v) <= 1 / 8) && block("fc.bias").some((v) => v !== 0));
});

test("bad resnet specs: one InputError each", () => {
  throwsInput(() => parseModel("resnet:21"), "resnet:21", "6n + 2");
  throwsInput(() => parseModel("resnet:2"), "6n + 2");
  throwsInput(() => parseModel("resnet"), "resnet:DEPTH");
  throwsInput(() => parseModel("resnet:x"), "depth", "positive integer");
  throwsInput(() => parseModel("resnet:20:depth=3"), 'unknown key "depth"', "width, classes, in, bn");
  throwsInput(() => parseModel("resnet:20:bn=train"), "bn must be eval or batch");
  throwsInput(() => parseModel("resnet:20:width=0"), "width");
  throwsInput(() => parseModel("resnet:20:in=3x32"), "CxHxW");
  throwsInput(() => parseModel("resnet:20:width"), "key=value");
  throwsInput(() => parseModel("resnet:20:width=4,width=8"), "given twice");
});

test("curvlab hessian --dense on the fixture (Wasm, float64): PyTorch's eigenvalues in both modes", { skip: !heavy }, async () => {
  const { runCli } = await import("../cli/run-cli.ts");
  for (const mode of ["eval", "batch"]) {
    const r = runCli(["hessian", "--model", `${SPEC},bn=${mode}`, "--data", dataSpec, "--weights", join(dir, "resnet.safetensors"), "--dense", "--json", "--quiet"]);
    assert.equal(r.status, 0, r.stderr);
    const got = (JSON.parse(r.stdout) as { eigenvalues: number[] }).eigenvalues;
    const expected = npy(`resnet_hessian_${mode}_eigenvalues.npy`);
    assert.equal(got.length, expected.length);
    // Wasm's float64 exp and log are float32-accurate (ENGINE-NOTES: HVPs to about 2e-8 relative);
    // the exact products above hold to 1e-10.
    const err = relativeError(got, expected);
    assert.ok(err < 5e-8, `${mode}: max eigenvalue error ${err} relative to the largest`);
  }
});
