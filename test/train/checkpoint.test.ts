// Checkpoints: round trips (float32, float64), the file layout PyTorch reads (state_dict names
// and shapes, F32/F64), weights that do not fit the model, and nothing written on error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { startEngine } from "../../src/engine/start.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { readSafetensors, writeSafetensors, type TensorInput } from "../../src/data/safetensors.ts";
import { train } from "../../src/train/train.ts";
import { saveCheckpoint, loadCheckpoint, loadWeights } from "../../src/train/checkpoint.ts";
import { throwsInput, withTmp } from "../data/helpers.ts";

await startEngine({ device: "wasm" });

const model = parseModel("mlp:20-8-5:tanh");
const DATA = "gmm:k=5,d=20,n=20,sep=3,seed=0";

test("train -> save -> load: same theta, model and metadata (float32)", async () => {
  const r = await train({ model, train: loadData(DATA), epochs: 2, batchSize: 16 });
  await withTmp((dir) => {
    const ck = join(dir, "run");
    const meta = saveCheckpoint(ck, { model, theta: r.theta, dataSpec: DATA, settings: r.settings, metrics: r.final });
    assert.deepEqual(readdirSync(ck).sort(), ["checkpoint.json", "model.safetensors"]);
    const back = loadCheckpoint(ck);
    assert.deepEqual(back.theta, Float64Array.from(r.theta));
    assert.equal(back.model.spec, model.spec);
    assert.deepEqual(back.model.layout, model.layout);
    assert.deepEqual(back.meta, meta);
    assert.deepEqual(back.meta.settings, JSON.parse(JSON.stringify(r.settings)));
    assert.deepEqual(back.meta.metrics, r.final);
    assert.equal(meta.format, "curvlab-checkpoint");
    assert.equal(meta.version, 1);
    assert.equal(meta.data, DATA);
    assert.equal(meta.loss, "cross-entropy");
    assert.equal(meta.dtype, "float32");
    assert.equal(meta.parameters, model.size);
    assert.ok(!Number.isNaN(Date.parse(meta.created)));
    // The weights file as PyTorch sees it: state_dict names, shapes [out, in], F32, C order.
    const st = readSafetensors(join(ck, "model.safetensors"));
    assert.deepEqual([...st.tensors.keys()].sort(), ["0.bias", "0.weight", "2.bias", "2.weight"]);
    assert.deepEqual(st.tensors.get("0.weight")!.shape, [8, 20]);
    assert.deepEqual(st.tensors.get("2.weight")!.shape, [5, 8]);
    assert.deepEqual(st.tensors.get("2.bias")!.shape, [5]);
    for (const t of st.tensors.values()) assert.equal(t.dtype, "F32");
    const w2 = st.tensors.get("2.weight")!.data as Float32Array;
    const off = model.layout.find((p) => p.name === "2.weight")!.offset;
    assert.equal(w2[3 * 8 + 1], r.theta[off + 3 * 8 + 1]); // row 3, column 1
  });
});

test("float64 round trip is exact and stored as F64; a second save replaces the first", () => {
  const theta = model.init(1).map((v) => v + 1e-12); // not representable in float32
  withTmp((dir) => {
    saveCheckpoint(dir, { model, theta, dataSpec: DATA, loss: "mse" });
    const back = loadCheckpoint(dir);
    assert.deepEqual(back.theta, theta);
    assert.equal(back.meta.dtype, "float64");
    assert.equal(back.meta.loss, "mse");
    assert.equal(back.meta.settings, null);
    for (const t of readSafetensors(join(dir, "model.safetensors")).tensors.values()) assert.equal(t.dtype, "F64");
    const theta2 = model.init(2);
    saveCheckpoint(dir, { model, theta: theta2, dataSpec: DATA, dtype: "float32" });
    assert.deepEqual(loadCheckpoint(dir).theta, Float64Array.from(Float32Array.from(theta2)));
    assert.deepEqual(readdirSync(dir).sort(), ["checkpoint.json", "model.safetensors"]);
  });
});

/** A state_dict-like file for `model` with its own values, optionally edited. */
function stateDict(edit: (m: Map<string, TensorInput>) => void = () => {}): Map<string, TensorInput> {
  const m = new Map<string, TensorInput>();
  let k = 0;
  for (const p of model.layout) m.set(p.name, { shape: p.shape, data: Float32Array.from({ length: p.size }, () => (k++ % 17) / 16 - 0.5) });
  edit(m);
  return m;
}

test("loadWeights reads a state_dict file whatever its tensor order and float dtype", () => {
  withTmp((dir) => {
    const path = join(dir, "w.safetensors");
    const sd = stateDict();
    // Tensors written in reverse order, one of them as F16 (values exact in half precision).
    const reversed = new Map([...sd].reverse().map(([k, t]) => [k, k === "0.bias" ? { ...t, dtype: "F16" as const } : t]));
    writeSafetensors(path, reversed, { format: "pt" });
    const theta = loadWeights(path, model);
    const expected = new Float64Array(model.size);
    for (const p of model.layout) expected.set(sd.get(p.name)!.data as Float32Array, p.offset);
    assert.deepEqual(theta, expected);
  });
});

test("weights that do not fit the model: InputError naming the file and the tensor", () => {
  withTmp((dir) => {
    const cases: [string, (m: Map<string, TensorInput>) => void, string[]][] = [
      ["missing", (m) => m.delete("2.bias"), ["missing tensor", "2.bias"]],
      ["extra", (m) => m.set("4.weight", { shape: [1], data: new Float32Array(1) }), ["unexpected tensors", "4.weight"]],
      ["shape", (m) => m.set("0.weight", { shape: [20, 8], data: new Float32Array(160) }), ["0.weight", "[20,8]", "[8,20]"]],
      ["nan", (m) => m.set("2.bias", { shape: [5], data: Float32Array.of(0, 0, Number.NaN, 0, 0) }), ["2.bias", "non-finite"]],
      ["int", (m) => m.set("2.bias", { shape: [5], data: new Int32Array(5) }), ["2.bias", "I32", "float"]],
    ];
    for (const [name, edit, parts] of cases) {
      const path = join(dir, `${name}.safetensors`);
      writeSafetensors(path, stateDict(edit));
      throwsInput(() => loadWeights(path, model), path, ...parts);
    }
    // A model of another shape.
    const path = join(dir, "ok.safetensors");
    writeSafetensors(path, stateDict());
    throwsInput(() => loadWeights(path, parseModel("mlp:20-9-5:tanh")), path, "0.weight", "[9,20]");
    throwsInput(() => loadWeights(join(dir, "none.safetensors"), model), "none.safetensors", "no such file");
  });
});

test("nothing is written when saving fails; bad checkpoint folders are InputErrors", () => {
  withTmp((dir) => {
    const ck = join(dir, "ck");
    throwsInput(() => saveCheckpoint(ck, { model, theta: [1, 2], dataSpec: DATA }), ck, `${model.size} parameters`);
    const nan = model.init(0);
    nan[3] = Number.POSITIVE_INFINITY;
    throwsInput(() => saveCheckpoint(ck, { model, theta: nan, dataSpec: DATA }), ck, "parameter 3");
    throwsInput(() => saveCheckpoint(ck, { model, theta: model.init(0), dataSpec: DATA, settings: { n: 1n } }), ck, "JSON");
    assert.equal(existsSync(ck), false);
    // A file where the folder should be.
    const file = join(dir, "file");
    writeFileSync(file, "x");
    throwsInput(() => saveCheckpoint(file, { model, theta: model.init(0), dataSpec: DATA }), file);
    assert.equal(readFileSync(file, "utf8"), "x");

    saveCheckpoint(ck, { model, theta: model.init(0), dataSpec: DATA });
    const json = join(ck, "checkpoint.json");
    const meta = JSON.parse(readFileSync(json, "utf8"));
    writeFileSync(json, JSON.stringify({ ...meta, format: "other" }));
    throwsInput(() => loadCheckpoint(ck), json, "not a curvlab checkpoint");
    writeFileSync(json, JSON.stringify({ ...meta, version: 2 }));
    throwsInput(() => loadCheckpoint(ck), json, "version 2");
    writeFileSync(json, "{");
    throwsInput(() => loadCheckpoint(ck), json, "not valid JSON");
    writeFileSync(json, JSON.stringify({ ...meta, model: "mlp:20-9-5:tanh" }));
    throwsInput(() => loadCheckpoint(ck), join(ck, "model.safetensors"), "0.weight");
    const empty = join(dir, "empty");
    mkdirSync(empty);
    throwsInput(() => loadCheckpoint(empty), join(empty, "checkpoint.json"), "no such file");
  });
});
