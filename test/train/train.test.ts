// The training loop: accuracy with the default settings, reproducibility, history and callbacks,
// flat memory, bad configs. MNIST (>= 90% test accuracy) runs with CURVLAB_HEAVY=1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine, engineMemoryBytes } from "../../src/engine/start.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { trainTestSplit } from "../../src/data/split.ts";
import { train, DEFAULT_TRAIN, type EvalRecord } from "../../src/train/train.ts";
import { throwsInput } from "../data/helpers.ts";

await startEngine({ device: "wasm" });
const heavy = process.env.CURVLAB_HEAVY === "1";

const model = parseModel("mlp:20-64-5:tanh");
const gmm = loadData("gmm:k=5,d=20,n=200,sep=3,seed=0");

async function rejects(p: Promise<unknown>, ...parts: string[]): Promise<void> {
  let err: unknown;
  try { await p; } catch (e) { err = e; }
  throwsInput(() => { if (err) throw err; }, ...parts);
}

test("defaults: mlp:20-64-5:tanh on the 5-cluster mixture reaches >= 97% train accuracy", async () => {
  const r = await train({ model, train: gmm });
  // 1000 points, 64 per batch: 16 steps per epoch (the last batch holds 40).
  assert.equal(r.steps, DEFAULT_TRAIN.epochs * 16);
  assert.equal(r.epochs, DEFAULT_TRAIN.epochs);
  assert.ok(r.final.trainAccuracy >= 0.97, `train accuracy ${r.final.trainAccuracy}`);
  assert.ok(r.history[0]!.trainAccuracy < 0.5, "starts near chance");
  assert.ok(r.final.trainLoss < r.history[0]!.trainLoss / 10);
  assert.ok(r.seconds < 20, `${r.seconds} s`);
  assert.equal(r.history.length, DEFAULT_TRAIN.epochs + 1);
  assert.deepEqual(r.history.map((h) => h.step), Array.from({ length: DEFAULT_TRAIN.epochs + 1 }, (_, e) => 16 * e));
  assert.equal(r.settings.optimizer.name, "momentum");
  assert.equal(r.final.testAccuracy, null);
  assert.ok(r.theta instanceof Float32Array && r.theta.length === model.size);
  // JSON: everything but theta (non-enumerable).
  const json = JSON.parse(JSON.stringify(r));
  assert.deepEqual(Object.keys(json).sort(), ["epochs", "evalSeconds", "final", "history", "seconds", "settings", "steps"]);
  assert.deepEqual(json.history, r.history);
});

test("the evaluation is the mean loss over the data: near log(5) at the start, like the first minibatch loss", async () => {
  // Independent check of the evaluator's normalization: at step 0 (uniform-ish logits) the mean
  // cross-entropy must be close to log(5), and accuracies are multiples of 1/1000.
  const r = await train({ model, train: gmm, steps: 1 });
  const h0 = r.history[0]!;
  assert.ok(Math.abs(h0.trainLoss - Math.log(5)) < 0.3, `${h0.trainLoss}`);
  assert.ok(Math.abs(h0.trainAccuracy * 1000 - Math.round(h0.trainAccuracy * 1000)) < 1e-9);
  assert.ok(Math.abs(r.history[1]!.batchLoss! - h0.trainLoss) < 0.3, "first minibatch loss near the full loss");
});

test("same seed, same run; another seed, another run", async () => {
  const cfg = { model, train: gmm, epochs: 2 };
  const a = await train({ ...cfg, seed: 3 });
  const b = await train({ ...cfg, seed: 3 });
  const c = await train({ ...cfg, seed: 4 });
  assert.deepEqual(a.theta, b.theta);
  assert.deepEqual(a.history.map(({ seconds: _, ...m }) => m), b.history.map(({ seconds: _, ...m }) => m));
  assert.notDeepEqual(a.theta, c.theta);
});

test("steps, evalEvery, test data, initTheta and the callbacks", async () => {
  const { train: tr, test: te } = trainTestSplit(gmm, { seed: 1 });
  const init = model.init(7);
  const steps: { step: number; epoch: number; batchLoss: number; norm: number }[] = [];
  const evals: EvalRecord[] = [];
  const r = await train(
    { model, train: tr, test: te, steps: 30, evalEvery: 8, batchSize: 50, initTheta: init, optimizer: { name: "adam" } },
    {
      onStep: async (s) => {
        // theta is borrowed: use a .ref.
        const sq = await s.theta.ref.mul(s.theta.ref).sum().data();
        steps.push({ step: s.step, epoch: s.epoch, batchLoss: s.batchLoss, norm: Math.sqrt(sq[0]!) });
      },
      onEval: (rec) => { evals.push(rec); },
    },
  );
  assert.deepEqual(steps.map((s) => s.step), Array.from({ length: 30 }, (_, i) => i + 1));
  // 800 train rows / 50 = 16 steps per epoch.
  assert.deepEqual(steps.map((s) => s.epoch), Array.from({ length: 30 }, (_, i) => (i < 16 ? 0 : 1)));
  assert.deepEqual(evals.map((e) => e.step), [0, 8, 16, 24, 30]);
  assert.deepEqual(evals, r.history);
  assert.equal(r.settings.init, "given");
  assert.equal(r.settings.steps, 30);
  assert.equal(r.settings.epochs, null);
  assert.equal(r.epochs, 30 / 16);
  assert.ok(evals.every((e) => e.testAccuracy !== null && e.testAccuracy >= 0 && e.testAccuracy <= 1));
  // Mean of the minibatch losses between records.
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(r.history[4]!.batchLoss! - mean(steps.slice(24).map((s) => s.batchLoss))) < 1e-12);
  // The theta seen at the last step is the final theta.
  const finalNorm = Math.sqrt(Array.from(r.theta).reduce((s, v) => s + v * v, 0));
  assert.ok(Math.abs(steps[29]!.norm - finalNorm) < 1e-5 * finalNorm);
  // Starting from initTheta: step 0 metrics equal those of a run from the same init.
  const again = await train({ model, train: tr, test: te, steps: 1, initTheta: init });
  assert.equal(again.history[0]!.trainLoss, r.history[0]!.trainLoss);
});

test("memory is flat over hundreds of steps and across runs", async () => {
  const mem: number[] = [];
  const run = () => train(
    { model, train: gmm, steps: 600, batchSize: 32, lastBatch: "keep", evalEvery: 100 },
    { onStep: (s) => { if (s.step === 100 || s.step === 600) mem.push(engineMemoryBytes()); } },
  );
  await run();
  const afterFirst = engineMemoryBytes();
  await run();
  assert.equal(mem[1], mem[0], `grew from ${mem[0]} to ${mem[1]} bytes between step 100 and 600`);
  assert.equal(mem[3], mem[2]);
  assert.equal(engineMemoryBytes(), afterFirst, "a second run allocates nothing new");
});

test("bad configs are InputErrors naming the setting", async () => {
  await rejects(train({ model, train: gmm, epochs: 2, steps: 3 }), "steps: ", "not both");
  await rejects(train({ model, train: gmm, batchSize: 0 }), "batchSize: ", "positive integer");
  await rejects(train({ model, train: gmm, epochs: 1.5 }), "epochs: ");
  await rejects(train({ model, train: gmm, initTheta: [1, 2, 3] }), "theta: ", `${model.size} parameters`);
  await rejects(train({ model: parseModel("mlp:10-4-5"), train: gmm }), "data: ", "20 features");
  await rejects(train({ model, train: gmm, optimizer: { name: "sgd", lr: -1 } }), "lr: ");
  const bad = model.init(0);
  bad[5] = Number.NaN;
  await rejects(train({ model, train: gmm, initTheta: bad }), "theta: ", "parameter 5");
});

test("MNIST: mlp:784-100-10:tanh on 10,000 digits (80/20) reaches >= 90% test accuracy", { skip: !heavy }, async () => {
  const { train: tr, test: te } = trainTestSplit(loadData("mnist"), { fraction: 0.8, seed: 0 });
  const r = await train({ model: parseModel("mlp:784-100-10:tanh"), train: tr, test: te });
  console.log(`MNIST: test ${r.final.testAccuracy}, train ${r.final.trainAccuracy}, ${r.seconds.toFixed(1)} s (eval ${r.evalSeconds.toFixed(1)} s), ${r.settings.threads} threads`);
  assert.ok(r.final.testAccuracy! >= 0.9, `test accuracy ${r.final.testAccuracy}`);
});
