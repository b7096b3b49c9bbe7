// ONNX models of real architectures (bench/fixtures/make_onnx_architectures.py, PyTorch 1.13, float64):
// a CIFAR-style ResNet with BatchNorm in eval semantics (exported with TrainingMode.PRESERVE) and a
// tiny vision transformer (opset 13: LayerNorm decomposed; opset 17: LayerNormalization). Logits
// equal PyTorch's, and the dense Hessian of the mean cross-entropy w.r.t. the graph's parameters
// equals torch.autograd.functional.hessian's to 1e-8 of its largest entry, on the exact cpu device
// (through the rewrites of onnx-rewrite.ts: BatchNormalization, GlobalAveragePool, AveragePool, ReduceMean,
// LayerNormalization, Erf, folded integer constants). Running statistics stay constants. The
// default export (BatchNorm folded into the convolutions) computes the same logits and carries one
// warning; a node input that names no tensor is one InputError before anything runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema, AttributeProtoSchema, AttributeProto_AttributeType, type NodeProto } from "onnx-buf";
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np } from "../../src/engine/jax.ts";
import { loadData } from "../../src/data/spec.ts";
import { readNpy } from "../../src/data/npy.ts";
import { makeProblem } from "../../src/curvature/problem.ts";
import { curvatureOperator } from "../../src/curvature/make.ts";
import { materialize } from "../../src/curvature/dense.ts";
import { eigh } from "../../src/linalg/dense/eigh.ts";
import { float32Decimal } from "../../src/nn/onnx-rewrite.ts";
import { throwsInput, withTmp } from "../data/helpers.ts";
import { loadModel } from "../../src/data/model-file.ts";

await startEngine({ device: "cpu" });
const heavy = process.env.CURVLAB_HEAVY === "1";

const dir = fileURLToPath(new URL("../fixtures/onnx/", import.meta.url));
const data = (m: string) => `npy:${join(dir, `x_${m}.npy`)},${join(dir, "y.npy")},classes=3`;

/** The dense symmetric matrix from its upper triangle stored row by row (numpy.triu_indices). */
function fromTriu(triu: Float64Array): { n: number; data: Float64Array } {
  const n = Math.round((Math.sqrt(8 * triu.length + 1) - 1) / 2);
  assert.equal((n * (n + 1)) / 2, triu.length);
  const data = new Float64Array(n * n);
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) data[i * n + j] = data[j * n + i] = triu[k++]!;
  return { n, data };
}

function logits(file: string, m: string): { got: Float64Array; want: Float64Array } {
  const model = loadModel(`onnx:${join(dir, `${file}.onnx`)}`);
  const x = readNpy(join(dir, `x_${m}.npy`));
  const out = model.apply(np.array(model.init(0), { dtype: np.float64 }), np.array(x.data as Float64Array, { shape: [...x.shape], dtype: np.float64 }));
  assert.deepEqual(out.shape, [12, 3]);
  return { got: out.dataSync() as Float64Array, want: readNpy(join(dir, `${m}_logits.npy`)).data as Float64Array };
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((w, v, i) => Math.max(w, Math.abs(v - b[i]!)), 0);

const cases = [
  { file: "resnet_bn", m: "resnet", hessian: "resnet_bn", size: 297 },
  // The same network ending in nn.AvgPool2d(3) (an AveragePool node, as PyHessian's ResNets end).
  { file: "resnet_avgpool", m: "resnet", hessian: "resnet_bn", size: 297 },
  { file: "vit", m: "vit", hessian: "vit", size: 239 },
  { file: "vit_opset17", m: "vit", hessian: "vit", size: 239 },
];

/** Largest entry error of our Hessian (columns `cols`, or all) against PyTorch's, relative to PyTorch's largest entry. */
function compare(expected: { n: number; data: Float64Array }, got: (j: number) => Float64Array, cols: readonly number[]): number {
  const scale = expected.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let worst = 0;
  for (const j of cols) {
    const col = got(j);
    for (let i = 0; i < expected.n; i++) worst = Math.max(worst, Math.abs(col[i]! - expected.data[i * expected.n + j]!));
  }
  return worst / scale;
}

for (const c of cases) {
  test(`${c.file}.onnx: logits equal PyTorch's; the BatchNorm statistics are no parameters`, () => {
    const { got, want } = logits(c.file, c.m);
    assert.ok(maxAbsDiff(got, want) < 1e-12, `logits differ by ${maxAbsDiff(got, want)}`);
    const model = loadModel(`onnx:${join(dir, `${c.file}.onnx`)}`);
    assert.equal(model.size, c.size);
    assert.equal(model.warnings, undefined);
    assert.ok(!model.layout.some((p) => /running_(mean|var)|num_batches_tracked/.test(p.name)), model.layout.map((p) => p.name).join(" "));
  });

  // The exact cpu device takes 2-10 s per Hessian-vector product on these graphs (2 shared cores),
  // so the default run checks a few Hessian columns, one per kind of parameter block and the
  // first and last, and the heavy run all of them.
  const runColumns = (all: boolean) => async () => {
    const model = loadModel(`onnx:${join(dir, `${c.file}.onnx`)}`);
    const expected = fromTriu(readNpy(join(dir, `${c.hessian}_hessian_triu.npy`)).data as Float64Array);
    assert.equal(expected.n, model.size);
    const problem = makeProblem(model, loadData(data(c.m)), model.init(0), { dtype: "float64" });
    const op = curvatureOperator(problem);
    let rel: number;
    if (all) {
      const H = await materialize(op);
      rel = compare(expected, (j) => H.data.subarray(j * expected.n, (j + 1) * expected.n), Array.from({ length: expected.n }, (_, j) => j));
    } else {
      const cols = [0, ...model.layout.map((p) => p.offset + Math.floor(p.size / 2)).filter((_, i) => i % 3 === 1), expected.n - 1];
      rel = compare(expected, (j) => {
        const e = new Float64Array(expected.n);
        e[j] = 1;
        return op.matvec(np.array(e, { dtype: np.float64 })).dataSync() as Float64Array;
      }, cols);
    }
    op.dispose();
    problem.dispose();
    assert.ok(rel < 1e-8, `max Hessian entry error ${rel} of the largest entry`);
  };
  test(`${c.file}.onnx: Hessian columns equal PyTorch's to 1e-8 (float64, exact device)`, runColumns(false));
  test(`${c.file}.onnx: the dense Hessian equals PyTorch's to 1e-8 (float64, exact device)`, { skip: !heavy }, runColumns(true));
}

test("resnet_bn.onnx: the BatchNorm weights and biases are parameters, the running statistics are not", () => {
  const model = loadModel(`onnx:${join(dir, "resnet_bn.onnx")}`);
  const names = model.layout.map((p) => p.name);
  for (const bn of ["bn1", "layers.0.bn1", "layers.0.bn2", "layers.1.bn1", "layers.1.bn2"]) {
    assert.ok(names.includes(`${bn}.weight`) && names.includes(`${bn}.bias`), bn);
  }
  assert.equal(names.filter((s) => s.includes("running")).length, 0);
});

test("resnet_folded.onnx (BatchNorm folded by the default export): the same logits, one warning naming the PRESERVE export", () => {
  const { got, want } = logits("resnet_folded", "resnet");
  assert.ok(maxAbsDiff(got, want) < 1e-12, `logits differ by ${maxAbsDiff(got, want)}`);
  const model = loadModel(`onnx:${join(dir, "resnet_folded.onnx")}`);
  assert.equal(model.warnings?.length, 1);
  assert.match(model.warnings![0]!, /resnet_folded\.onnx.*folded BatchNorm into the convolutions.*training=torch\.onnx\.TrainingMode\.PRESERVE/);
  assert.ok(model.layout.some((p) => /^onnx::Conv_\d+$/.test(p.name)));
});

test("a node input that names no tensor, a BatchNorm in training mode: one InputError each, before anything runs", () => {
  withTmp((tmp) => {
    const proto = fromBinary(ModelProtoSchema, readFileSync(join(dir, "vit.onnx")));
    const k = proto.graph!.node.findIndex((n) => n.opType === "Softmax");
    const node = proto.graph!.node[k]!;
    node.input[0] = "no_such_tensor";
    const bad = join(tmp, "dangling.onnx");
    writeFileSync(bad, toBinary(ModelProtoSchema, proto));
    throwsInput(() => loadModel(`onnx:${bad}`), "dangling.onnx", `node ${k}`, node.name, '"no_such_tensor"', "no graph input, initializer or earlier node");

    const rn = fromBinary(ModelProtoSchema, readFileSync(join(dir, "resnet_bn.onnx")));
    const bn = rn.graph!.node.find((n) => n.opType === "BatchNormalization")!;
    bn.attribute.push(create(AttributeProtoSchema, { name: "training_mode", type: AttributeProto_AttributeType.INT, i: 1n }));
    const train = join(tmp, "train.onnx");
    writeFileSync(train, toBinary(ModelProtoSchema, rn));
    throwsInput(() => loadModel(`onnx:${train}`), "train.onnx", "training mode", "TrainingMode.PRESERVE");
  });
});

test("initializers the exporter merged (equal values): a running mean that is also a bias stays a constant there; a shared weight is one warning", () => {
  withTmp((tmp) => {
    const load = (edit: (bns: NodeProto[]) => void, name: string) => {
      const rn = fromBinary(ModelProtoSchema, readFileSync(join(dir, "resnet_bn.onnx")));
      edit(rn.graph!.node.filter((n) => n.opType === "BatchNormalization"));
      writeFileSync(join(tmp, name), toBinary(ModelProtoSchema, rn));
      return loadModel(`onnx:${join(tmp, name)}`);
    };
    // layers.0.bn1 reads its bias as its running mean too (as when both are zeros).
    const tiedStat = load((bns) => (bns[1]!.input[3] = bns[1]!.input[2]!), "stat.onnx");
    assert.equal(tiedStat.size, 297);
    assert.ok(tiedStat.layout.some((p) => p.name === "layers.0.bn1.bias"));
    assert.equal(tiedStat.warnings, undefined);
    const out = tiedStat.apply(np.array(tiedStat.init(0), { dtype: np.float64 }), np.zeros([2, 3, 6, 6], { dtype: np.float64 }));
    assert.ok((out.dataSync() as Float64Array).every(Number.isFinite));
    // layers.0.bn1 reads bn1's weight as its scale (as when both are still ones).
    const tiedWeight = load((bns) => (bns[1]!.input[1] = bns[0]!.input[1]!), "weight.onnx");
    assert.equal(tiedWeight.size, 297 - 2);
    assert.equal(tiedWeight.warnings?.length, 1);
    assert.match(tiedWeight.warnings![0]!, /weight\.onnx.*bn1\.weight \(2 uses\).*one parameter here/);
  });
});

test("float32 epsilon attributes read back as the decimal PyTorch wrote", () => {
  assert.equal(float32Decimal(Math.fround(1e-5)), 1e-5);
  assert.equal(float32Decimal(Math.fround(1e-6)), 1e-6);
  assert.equal(float32Decimal(Math.fround(0.1)), 0.1);
  assert.equal(Math.fround(float32Decimal(Math.fround(1 / 3))), Math.fround(1 / 3));
});

// The CLI runs on wasm in float64 (--exact, the cpu device, would take most of an hour for 297
// products): its exp and log are float32-precise there (ENGINE-NOTES: wasm-f64 Hessian products
// agree with exact ones to about 2e-8 relative), so eigenvalues are compared to 1e-7 of the largest.
test("curvlab hessian --dense and spectrum --top 3 on the ResNet fixture (image-shaped npy data): PyTorch's eigenvalues; the folded export warns once on stderr", async () => {
  const { runCli } = await import("../cli/run-cli.ts");
  const expected = eigh(fromTriu(readNpy(join(dir, "resnet_bn_hessian_triu.npy")).data as Float64Array)).values;
  const scale = Math.max(...Array.from(expected, Math.abs));
  const args = ["--onnx", join(dir, "resnet_bn.onnx"), "--data", data("resnet"), "--dtype", "float64", "--quiet", "--json"];
  const dense = runCli(["hessian", ...args, "--dense"]);
  assert.equal(dense.status, 0, dense.stderr);
  assert.equal(dense.stderr, "");
  const got = (JSON.parse(dense.stdout) as { eigenvalues: number[] }).eigenvalues;
  assert.equal(got.length, 297);
  got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-7 * scale, `eigenvalue ${i}: ${v} vs ${expected[i]}`));
  const top = runCli(["spectrum", ...args, "--top", "3"]);
  assert.equal(top.status, 0, top.stderr);
  const largest = [...(JSON.parse(top.stdout) as { eigenvalues: number[] }).eigenvalues].sort((a, b) => b - a);
  for (const k of [0, 1, 2]) {
    assert.ok(Math.abs(largest[k]! - expected[expected.length - 1 - k]!) < 1e-7 * scale, `top ${k}: ${largest[k]} vs ${expected[expected.length - 1 - k]}`);
  }
  const folded = runCli(["spectrum", "--onnx", join(dir, "resnet_folded.onnx"), "--data", data("resnet"), "--dtype", "float64", "--quiet", "--json", "--top", "1"]);
  assert.equal(folded.status, 0, folded.stderr);
  const lines = folded.stderr.trim().split("\n");
  assert.equal(lines.length, 1, folded.stderr);
  assert.match(lines[0]!, /^warning: .*resnet_folded\.onnx.*TrainingMode\.PRESERVE/);
});
