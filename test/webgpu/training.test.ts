// Training and a study on webgpu against wasm (a child process: one device per process):
// - 20 steps of SGD with momentum on a 212-parameter MLP (jobs.ts), float32 on webgpu against
//   float64 on wasm: the train loss and accuracy every 5 steps and the final parameters;
// - the intrinsic-dimension study (Li et al. 2018; src/studies/intrinsic-dim) on 100 MNIST
//   digits, one width, two subspace dimensions: it trains in float32 on every device, so the
//   reference is wasm float32. Every trained point's train loss and accuracies.
//
// Tolerances: float32 rounding (unit roundoff 6e-8) per step, carried by a few to 20 steps of
// the dynamics. Measured (webgpu/SwiftShader): training losses 1.6e-6 relative to float64 (wasm
// float32: 3.2e-7), parameters 2.0e-7 absolute (wasm float32: 1.8e-7); study losses 9.4e-7
// relative to wasm float32. Bounds: ~20x those. An accuracy may differ by one example (a margin
// within rounding of zero), not more.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startWebGpuOrSkip, wasmReference } from "./device.ts";
import { JOBS, TINY_STUDY, type StudyJob, type TrainJob } from "./jobs.ts";

const { skip } = await startWebGpuOrSkip();
const trainRef = skip ? null : wasmReference(["train"], "float64");
const studyRef = skip ? null : wasmReference(["study"], "float32");
trainRef?.catch(() => {});
studyRef?.catch(() => {});

test("20 steps of SGD with momentum on webgpu (float32) follow wasm float64", { skip }, async (t) => {
  const gpu = await JOBS.train("float32");
  const ref = (await trainRef!).train as TrainJob;
  assert.equal(gpu.losses.length, 5, "evaluated at steps 0, 5, 10, 15, 20");
  const loss = Math.max(...gpu.losses.map((l, i) => Math.abs(l - ref.losses[i]) / ref.losses[i]));
  const theta = Math.max(...gpu.theta.map((x, i) => Math.abs(x - ref.theta[i])));
  t.diagnostic(`losses ${loss.toExponential(1)} relative, parameters ${theta.toExponential(1)} absolute; losses ${gpu.losses.map((l) => l.toFixed(4)).join(" -> ")}`);
  assert.ok(gpu.losses[4] < 0.5 * gpu.losses[0], "it trains");
  assert.ok(loss <= 3e-5, `losses ${gpu.losses} vs ${ref.losses}`);
  assert.ok(theta <= 5e-6, `parameters differ by ${theta}`);
  gpu.accuracies.forEach((a, i) => assert.ok(Math.abs(a - ref.accuracies[i]) <= 1 / 128 + 1e-12, `accuracy at record ${i}: ${a} vs ${ref.accuracies[i]}`));
});

test("the intrinsic-dimension study (tiny) on webgpu gives wasm's numbers", { skip }, async (t) => {
  const gpu = await JOBS.study();
  const ref = (await studyRef!).study as StudyJob;
  assert.equal(gpu.points.length, 1 + TINY_STUDY.dims.length);
  const train = TINY_STUDY.mnist.n * (1 - TINY_STUDY.mnist.testFraction);
  const test = TINY_STUDY.mnist.n * TINY_STUDY.mnist.testFraction;
  let worst = 0;
  gpu.points.forEach((p, i) => {
    const r = ref.points[i];
    assert.equal(p.label, r.label);
    const rel = Math.abs(p.trainLoss - r.trainLoss) / r.trainLoss;
    worst = Math.max(worst, rel);
    assert.ok(rel <= 2e-5, `${p.label}: train loss ${p.trainLoss} vs ${r.trainLoss}`);
    assert.ok(Math.abs(p.trainAccuracy - r.trainAccuracy) <= 1 / train + 1e-12, `${p.label}: train accuracy ${p.trainAccuracy} vs ${r.trainAccuracy}`);
    assert.ok(Math.abs(p.testAccuracy! - r.testAccuracy!) <= 1 / test + 1e-12, `${p.label}: test accuracy ${p.testAccuracy} vs ${r.testAccuracy}`);
  });
  t.diagnostic(`train losses ${worst.toExponential(1)} relative; ${gpu.points.map((p) => `${p.label}: ${p.trainLoss.toFixed(4)}`).join(", ")}`);
});
