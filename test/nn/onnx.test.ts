// Models from ONNX files: PyTorch's own dense Hessian eigenvalues (bench/fixtures/make_onnx.py,
// torch.autograd.functional.hessian in float64) reproduced to 1e-8 relative on the exact cpu
// device, for an MLP and a CNN; weights from the PyTorch state_dict (safetensors) load into the
// imported model; the op table matches the installed @jax-js/onnx; bad files are one InputError.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { startEngine } from "../../src/engine/start.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { JAXJS_ONNX_OPS, SUPPORTED_ONNX_OPS } from "../../src/nn/onnx.ts";
import { REWRITTEN_ONNX_OPS } from "../../src/nn/onnx-rewrite.ts";
import { loadData } from "../../src/data/spec.ts";
import { readNpy } from "../../src/data/npy.ts";
import { makeProblem } from "../../src/curvature/problem.ts";
import { curvatureOperator } from "../../src/curvature/make.ts";
import { materialize } from "../../src/curvature/dense.ts";
import { eigh } from "../../src/linalg/dense/eigh.ts";
import { loadWeights } from "../../src/train/checkpoint.ts";
import { throwsInput, withTmp } from "../data/helpers.ts";
import { loadModel } from "../../src/data/model-file.ts";

await startEngine({ device: "cpu" });

const dir = fileURLToPath(new URL("../fixtures/onnx/", import.meta.url));
const data = (name: string) => loadData(`npy:${join(dir, `x_${name}.npy`)},${join(dir, "y.npy")},classes=3`);

for (const name of ["mlp", "cnn"]) {
  test(`${name}.onnx: dense Hessian eigenvalues equal PyTorch's to 1e-8 relative (float64, exact device)`, async () => {
    const model = loadModel(`onnx:${join(dir, `${name}.onnx`)}`);
    const expected = readNpy(join(dir, `${name}_hessian_eigenvalues.npy`)).data as Float64Array;
    assert.equal(model.size, expected.length);
    assert.equal(model.outputDim, 3);
    // The stored weights are the model's init, and equal the state_dict PyTorch saved.
    const fromStateDict = loadWeights(join(dir, `${name}.safetensors`), model);
    assert.deepEqual(Array.from(model.init(0)), Array.from(fromStateDict));
    const problem = makeProblem(model, data(name), model.init(0), { dtype: "float64" });
    const op = curvatureOperator(problem);
    const H = await materialize(op);
    op.dispose();
    problem.dispose();
    const { values } = eigh(H);
    const scale = Math.max(...Array.from(expected, Math.abs));
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(values[i] - expected[i]) / scale);
    assert.ok(worst < 1e-8, `max relative eigenvalue error ${worst}`);
  });
}

test("the same MLP built in (mlp:4-6-3:tanh) with PyTorch's state_dict from safetensors: PyTorch's eigenvalues", async () => {
  const model = parseModel("mlp:4-6-3:tanh");
  const expected = readNpy(join(dir, "mlp_hessian_eigenvalues.npy")).data as Float64Array;
  const problem = makeProblem(model, data("mlp"), loadWeights(join(dir, "mlp.safetensors"), model), { dtype: "float64" });
  const op = curvatureOperator(problem);
  const { values } = eigh(await materialize(op));
  op.dispose();
  problem.dispose();
  const scale = Math.max(...Array.from(expected, Math.abs));
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(values[i] - expected[i]) < 1e-8 * scale, `eigenvalue ${i}: ${values[i]} vs ${expected[i]}`);
});

test("the op table is the installed @jax-js/onnx's; the supported ops are it plus the rewritten ones", () => {
  const require = createRequire(import.meta.url);
  const js = readFileSync(require.resolve("@jax-js/onnx").replace(/index\.c?js$/, "index.js"), "utf8");
  const table = /var ops_exports = [^{]*\{([^}]*)\}/.exec(js);
  assert.ok(table, "ops table not found in @jax-js/onnx");
  const ops = [...table[1].matchAll(/(\w+): \(\) =>/g)].map((m) => m[1]).sort();
  assert.deepEqual([...JAXJS_ONNX_OPS].sort(), ops);
  assert.deepEqual([...SUPPORTED_ONNX_OPS], [...new Set([...ops, ...REWRITTEN_ONNX_OPS])].sort());
  assert.ok(!ops.includes("BatchNormalization") && !ops.includes("GlobalAveragePool"), "the package now has its own BatchNormalization/GlobalAveragePool: re-check the rewrites");
});

test("bad ONNX files: not ONNX, truncated, an unsupported op; one InputError each", () => {
  withTmp((tmp) => {
    const junk = join(tmp, "junk.onnx");
    writeFileSync(junk, "this is not a protobuf");
    throwsInput(() => loadModel(`onnx:${junk}`), "junk.onnx");
    const bytes = readFileSync(join(dir, "mlp.onnx"));
    const cut = join(tmp, "cut.onnx");
    writeFileSync(cut, bytes.subarray(0, bytes.length - 200));
    throwsInput(() => loadModel(`onnx:${cut}`), "cut.onnx");
    // Rename the Tanh node's op type (NodeProto field 4: tag 0x22, length 4) to one no runtime
    // knows: same byte length, so the protobuf stays valid.
    const i = bytes.indexOf(Buffer.from([0x22, 0x04, ...Buffer.from("Tanh")]));
    assert.ok(i > 0);
    const odd = Buffer.from(bytes);
    odd.write("Tanq", i + 2);
    const oddPath = join(tmp, "odd.onnx");
    writeFileSync(oddPath, odd);
    throwsInput(() => loadModel(`onnx:${oddPath}`), "odd.onnx", "unsupported ONNX op Tanq");
    throwsInput(() => loadModel(`onnx:${join(tmp, "none.onnx")}`), "none.onnx", "no such file");
  });
});

test("curvlab hessian --onnx and spectrum --onnx: PyTorch's eigenvalues; an unsupported op exits 2 with one line", async () => {
  const { runCli } = await import("../cli/run-cli.ts");
  const args = ["--onnx", join(dir, "mlp.onnx"), "--data", `npy:${join(dir, "x_mlp.npy")},${join(dir, "y.npy")},classes=3`, "--exact", "--quiet", "--json"];
  const dense = runCli(["hessian", ...args, "--dense"]);
  assert.equal(dense.status, 0, dense.stderr);
  const got = JSON.parse(dense.stdout) as { eigenvalues: number[]; weights: string };
  const expected = readNpy(join(dir, "mlp_hessian_eigenvalues.npy")).data as Float64Array;
  assert.match(got.weights, /^onnx:/);
  const scale = Math.max(...Array.from(expected, Math.abs));
  got.eigenvalues.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-8 * scale, `eigenvalue ${i}: ${v} vs ${expected[i]}`));
  const top = runCli(["spectrum", ...args, "--top", "2"]);
  assert.equal(top.status, 0, top.stderr);
  const tj = JSON.parse(top.stdout) as { eigenvalues: number[] };
  const largest = [...tj.eigenvalues].sort((a, b) => b - a);
  for (const k of [0, 1]) {
    assert.ok(Math.abs(largest[k] - expected[expected.length - 1 - k]) < 1e-8 * scale, `top ${k}: ${largest[k]} vs ${expected[expected.length - 1 - k]}`);
  }
  withTmp((tmp) => {
    const bytes = readFileSync(join(dir, "mlp.onnx"));
    const odd = Buffer.from(bytes);
    odd.write("Tanq", bytes.indexOf(Buffer.from([0x22, 0x04, ...Buffer.from("Tanh")])) + 2);
    writeFileSync(join(tmp, "odd.onnx"), odd);
    const bad = runCli(["hessian", ...args.slice(2), "--onnx", join(tmp, "odd.onnx"), "--dense"]);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    assert.match(bad.stderr, /odd\.onnx.*unsupported ONNX op Tanq/);
    const both = runCli(["hessian", ...args, "--model", "mlp:4-6-3", "--dense"]);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--onnx.*not both/);
  });
});
