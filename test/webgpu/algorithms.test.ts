// Lanczos (top 5), stochastic Lanczos quadrature (3 probes x 20 steps) and Hutch++ (30 products)
// on the Hessian of a 212-parameter MLP (jobs.ts): float32 on webgpu against float64 on wasm (a
// child process: the engine runs on one device per process). The probes and start vectors are
// the same on both devices (counter-based keys from the same seeds), so results compare number
// by number.
//
// Tolerances: every number here is a float32 computation (unit roundoff 6e-8) over sums of a few
// hundred terms, and wasm's own float32 is off float64 by the same amounts. Measured
// (webgpu/SwiftShader vs wasm float64; wasm float32 vs float64 in brackets): Lanczos eigenvalues
// 3.0e-8 relative [4.0e-8] (at tol 1e-4 the residuals are <= 4e-5, and the eigenvalue error of a
// separated pair is about residual^2 / gap, far smaller); SLQ nodes 5.3e-8 absolute (lambda_max
// 0.80) [6.4e-8], weights 1.6e-7 [1.7e-7], trace and ||H||_F^2 estimates 1.1e-7 relative
// [3.7e-8]; Hutch++ 7.3e-8 relative [3.7e-8]. Bounds: ~20x those; a wrong kernel would be off by
// orders of magnitude more.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startWebGpuOrSkip, wasmReference } from "./device.ts";
import { JOBS, type LanczosJob, type SlqJob, type TraceJob } from "./jobs.ts";

const { skip } = await startWebGpuOrSkip();
const reference = skip ? null : wasmReference(["lanczos", "slq", "hutchpp"], "float64");
// Keep a failed child from being an unhandled rejection before a test awaits it.
reference?.catch(() => {});

test("Lanczos top-5 on webgpu (float32) equals wasm float64 to 1e-6 relative", { skip }, async (t) => {
  const gpu = await JOBS.lanczos("float32");
  const ref = (await reference!).lanczos as LanczosJob;
  assert.equal(gpu.eigenvalues.length, 5);
  const lmax = ref.eigenvalues[0];
  const errs = gpu.eigenvalues.map((v, i) => Math.abs(v - ref.eigenvalues[i]) / Math.abs(lmax));
  t.diagnostic(`relative errors ${errs.map((e) => e.toExponential(1)).join(", ")}; residuals ${gpu.residuals.map((r) => r.toExponential(1)).join(", ")}; ${gpu.steps} steps (float64: ${ref.steps})`);
  for (let i = 0; i < 5; i++) {
    assert.ok(errs[i] <= 1e-6, `eigenvalue ${i}: ${gpu.eigenvalues[i]} vs ${ref.eigenvalues[i]}`);
    // Converged by float32's default stopping rule (relative residual 1e-4).
    assert.ok(gpu.residuals[i] <= 1e-4 * Math.abs(gpu.eigenvalues[i]), `residual ${i}: ${gpu.residuals[i]}`);
  }
});

test("SLQ on webgpu (float32): each probe's nodes and weights, and the trace and ||H||_F^2 estimates, equal wasm float64's", { skip }, async (t) => {
  const gpu = await JOBS.slq("float32");
  const ref = (await reference!).slq as SlqJob;
  const lmax = Math.max(...ref.nodes.flat().map(Math.abs));
  let node = 0, weight = 0;
  assert.equal(gpu.nodes.length, 3);
  for (let j = 0; j < 3; j++) {
    assert.equal(gpu.nodes[j].length, ref.nodes[j].length, `probe ${j}: steps`);
    gpu.nodes[j].forEach((x, i) => (node = Math.max(node, Math.abs(x - ref.nodes[j][i]) / lmax)));
    gpu.weights[j].forEach((w, i) => (weight = Math.max(weight, Math.abs(w - ref.weights[j][i]))));
  }
  const tr = Math.abs(gpu.trace - ref.trace) / Math.abs(ref.trace);
  const fro = Math.abs(gpu.frobeniusSquared - ref.frobeniusSquared) / ref.frobeniusSquared;
  t.diagnostic(`nodes ${node.toExponential(1)} of max|node|, weights ${weight.toExponential(1)}, trace ${tr.toExponential(1)}, ||H||_F^2 ${fro.toExponential(1)}`);
  assert.ok(node <= 1e-6, `nodes differ by ${node} of max |node|`);
  assert.ok(weight <= 3e-6, `weights differ by ${weight}`);
  assert.ok(tr <= 2e-6, `trace ${gpu.trace} vs ${ref.trace}`);
  assert.ok(fro <= 2e-6, `||H||_F^2 ${gpu.frobeniusSquared} vs ${ref.frobeniusSquared}`);
});

test("Hutch++ on webgpu (float32) equals wasm float64 to 1e-6 relative, sample by sample", { skip }, async (t) => {
  const gpu = await JOBS.hutchpp("float32");
  const ref = (await reference!).hutchpp as TraceJob;
  const rel = Math.abs(gpu.estimate - ref.estimate) / Math.abs(ref.estimate);
  const scale = Math.max(...ref.samples.map(Math.abs));
  const sample = Math.max(...gpu.samples.map((s, i) => Math.abs(s - ref.samples[i]) / scale));
  t.diagnostic(`estimate ${gpu.estimate} vs ${ref.estimate}: ${rel.toExponential(1)}; samples ${sample.toExponential(1)} of max|sample|`);
  assert.equal(gpu.samples.length, ref.samples.length);
  assert.ok(rel <= 1e-6, `estimate ${gpu.estimate} vs ${ref.estimate}`);
  assert.ok(sample <= 1e-6, `samples differ by ${sample} of max |sample|`);
});
