// BatchNorm buffers: re-estimation equals PyTorch's torch.optim.swa_utils.update_bn; weights
// files load parameters AND buffers (a missing buffer is an InputError), checkpoints keep them
// (num_batches_tracked as I64) and reload to the same logits; `curvlab train` trains bn=batch and
// bn=eval ResNets, re-estimating the running statistics of a bn=batch one into its checkpoint.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np } from "../../src/engine/jax.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { updateBatchNormStatistics } from "../../src/nn/batchnorm.ts";
import type { Model } from "../../src/nn/model.ts";
import { readNpy } from "../../src/data/npy.ts";
import { readSafetensors, writeSafetensors } from "../../src/data/safetensors.ts";
import { loadCheckpoint, loadModelWeights, loadWeights, saveCheckpoint } from "../../src/train/checkpoint.ts";
import { relativeError } from "../curvature/oracle.ts";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { throwsInput, withTmp } from "../data/helpers.ts";

async function withTmpAsync(fn: (dir: string) => Promise<void>): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), "curvlab-bn-"));
  try {
    await fn(tmp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await startEngine({ device: "cpu" });

const dir = fileURLToPath(new URL("../fixtures/architectures/", import.meta.url));
const SPEC = "resnet:8:width=2,classes=3,in=3x8x8";
const weights = join(dir, "resnet.safetensors");
const x = readNpy(join(dir, "x.npy")).data as Float64Array;
const xArr = (from: number, to: number) => np.array(x.slice(from * 192, to * 192), { dtype: np.float64 }).reshape([to - from, 3, 8, 8]);

async function logits(model: Model, theta: Float64Array): Promise<Float64Array> {
  return Float64Array.from(await model.apply(np.array(theta, { dtype: np.float64 }), xArr(0, 8)).data());
}

/** The buffers of a model as a name -> values map. */
function buffersOf(model: Model): Map<string, Float64Array> {
  return new Map(model.buffers!.layout.map((b) => [b.name, model.buffers!.values.subarray(b.offset, b.offset + b.size)]));
}

test("loading PyTorch's state_dict binds its running statistics (float and I64 buffers)", () => {
  const file = readSafetensors(weights);
  const { model, theta } = loadModelWeights(weights, parseModel(SPEC));
  assert.equal(theta.length, model.size);
  const bufs = buffersOf(model);
  // bn1, two per block (3 blocks), the shortcut's at stages 2 and 3: 9 BatchNorm layers.
  assert.equal(bufs.size, 3 * 9);
  for (const [name, values] of bufs) {
    const t = file.tensors.get(name)!;
    assert.deepEqual(Array.from(values), Array.from(t.data as ArrayLike<number | bigint>, Number), name);
  }
  // Three training-mode passes in the fixture: num_batches_tracked = 3, statistics moved off 0 / 1.
  assert.deepEqual(Array.from(bufs.get("layer2.0.downsample.1.num_batches_tracked")!), [3]);
  assert.ok(bufs.get("bn1.running_var")!.every((v) => v !== 1));
  // The theta-only reader accepts the same file; np.savez's archive of the state_dict is the same.
  assert.deepEqual(Array.from(loadWeights(weights, parseModel(SPEC))), Array.from(theta));
  const npz = loadModelWeights(join(dir, "resnet.npz"), parseModel(SPEC));
  assert.deepEqual(Array.from(npz.theta), Array.from(theta));
  assert.deepEqual(Array.from(npz.model.buffers!.values), Array.from(model.buffers!.values));
});

test("a weights file without the buffers, or with a misshapen one, is one InputError", () => {
  withTmp((tmp) => {
    const file = readSafetensors(weights);
    const without = new Map([...file.tensors].filter(([k]) => !k.endsWith("layer1.0.bn2.running_mean")));
    const p1 = join(tmp, "nobuf.safetensors");
    writeSafetensors(p1, without);
    throwsInput(() => loadModelWeights(p1, parseModel(SPEC)), "nobuf.safetensors", 'missing tensor "layer1.0.bn2.running_mean"');
    const odd = new Map(file.tensors);
    odd.set("bn1.running_var", { dtype: "F64", shape: [3], data: new Float64Array(3) });
    const p2 = join(tmp, "odd.safetensors");
    writeSafetensors(p2, odd);
    throwsInput(() => loadModelWeights(p2, parseModel(SPEC)), "odd.safetensors", '"bn1.running_var" has shape [3]');
    // A model without buffers refuses them: the integer one by its dtype, the others as unexpected.
    throwsInput(() => loadModelWeights(weights, parseModel("mlp:192-3")), '"bn1.num_batches_tracked" has dtype I64');
    const floats = new Map([...file.tensors].filter(([k]) => !k.endsWith("num_batches_tracked")));
    const p3 = join(tmp, "floats.safetensors");
    writeSafetensors(p3, floats);
    throwsInput(() => loadModelWeights(p3, parseModel("mlp:192-3")), "unexpected tensors", "bn1.running_mean");
  });
});

test("updateBatchNormStatistics equals torch.optim.swa_utils.update_bn (two batches of 4) to 1e-12", async () => {
  const { model, theta } = loadModelWeights(weights, parseModel(`${SPEC},bn=batch`));
  const t = np.array(theta, { dtype: np.float64 });
  const batches = [xArr(0, 4), xArr(4, 8)];
  const updated = await updateBatchNormStatistics(model, t, batches);
  t.dispose();
  for (const b of batches) b.dispose();
  const expected = readSafetensors(join(dir, "resnet_update_bn.safetensors")).tensors;
  const got = buffersOf(updated);
  assert.equal(expected.size, got.size);
  for (const [name, e] of expected) {
    const want = Float64Array.from(e.data as ArrayLike<number | bigint>, Number);
    const err = relativeError(got.get(name)!, want);
    assert.ok(err < 1e-12, `${name}: relative error ${err}`);
  }
  assert.deepEqual(Array.from(got.get("bn1.num_batches_tracked")!), [2]);
  // The function in batch mode does not depend on the buffers.
  assert.deepEqual(Array.from(await logits(updated, theta)), Array.from(await logits(model, theta)));
});

test("checkpoints keep the buffers (num_batches_tracked I64) and reload to the same eval logits", async () => {
  const { model, theta } = loadModelWeights(weights, parseModel(SPEC));
  const before = await logits(model, theta);
  await withTmpAsync(async (tmp) => {
    saveCheckpoint(tmp, { model, theta, dataSpec: "npy:x.npy,y.npy", dtype: "float64" });
    const file = readSafetensors(join(tmp, "model.safetensors"));
    assert.equal(file.tensors.get("bn1.num_batches_tracked")!.dtype, "I64");
    assert.equal(file.tensors.get("bn1.running_mean")!.dtype, "F64");
    const c = loadCheckpoint(tmp);
    assert.deepEqual(Array.from(c.model.buffers!.values), Array.from(model.buffers!.values));
    assert.deepEqual(Array.from(await logits(c.model, c.theta)), Array.from(before));
  });
});

test("curvlab train --out, bn=batch: the loss falls, the checkpoint has re-estimated running statistics; bn=eval keeps them", async () => {
  const { runCli } = await import("../cli/run-cli.ts");
  const data = `npy:${join(dir, "x.npy")},${join(dir, "y.npy")},classes=3`;
  await withTmpAsync(async (tmp) => {
    for (const bn of ["batch", "eval"]) {
      const out = join(tmp, bn);
      const r = runCli(["train", "--model", `${SPEC},bn=${bn}`, "--data", data, "--steps", "20", "--batch-size", "4", "--test-fraction", "0", "--dtype", "float64", "--quiet", "--out", out]);
      assert.equal(r.status, 0, r.stderr);
      const history = (JSON.parse(readFileSync(join(out, "train.json"), "utf8")) as { history: { trainLoss: number }[] }).history;
      assert.ok(history[history.length - 1]!.trainLoss < history[0]!.trainLoss, `${bn}: loss ${history[0]!.trainLoss} -> ${history[history.length - 1]!.trainLoss}`);
      const c = loadCheckpoint(out);
      const bufs = buffersOf(c.model);
      if (bn === "eval") {
        assert.ok(bufs.get("bn1.running_var")!.every((v) => v === 1));
        assert.deepEqual(Array.from(bufs.get("bn1.num_batches_tracked")!), [0]);
        continue;
      }
      assert.deepEqual(Array.from(bufs.get("bn1.num_batches_tracked")!), [2]);
      // Equal to re-estimating here at the saved parameters, in the same two batches.
      const t = np.array(c.theta, { dtype: np.float64 });
      const batches = [xArr(0, 4), xArr(4, 8)];
      const again = await updateBatchNormStatistics(parseModel(`${SPEC},bn=batch`), t, batches);
      t.dispose();
      for (const b of batches) b.dispose();
      const err = relativeError(c.model.buffers!.values, again.buffers!.values);
      assert.ok(err < 1e-12, `relative error ${err}`);
    }
  });
});
