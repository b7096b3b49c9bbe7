// Every curvature operator (Hessian, Gauss-Newton, Fisher, gradient covariance centered and
// uncentered, residual H - G) in float32 on webgpu against the dense float64 autodiff oracle of
// test/curvature/oracle.ts (exact: the cpu device, in this same process), on the small models of
// test/curvature (two MLPs, a LeNet-like CNN; cross-entropy and MSE; batches of 7 so that
// accumulation over unequal batches runs). Products with 4 probes (two unit vectors, i.e. columns,
// and two random-sign vectors) instead of the whole dense matrix: SwiftShader is slow.
//
// Error: max_i |(A v)_i - (O v)_i| / (max|O| ||v||_2), which for a unit vector is the entrywise
// measure of test/curvature's materialized checks (and for a random-sign vector the same order,
// the rounding errors of the n terms adding like a random walk). Bound 2e-6, the wasm float32
// bound of operators-wasm.test.ts: float32 products carry a few unit roundoffs (6e-8) times the
// depth of their sums, whatever the device (~5x the worst measured on wasm, 4.2e-7; measured on
// webgpu/SwiftShader with the dense matrices: worst 4.2e-7, same as wasm).
import { test } from "node:test";
import assert from "node:assert/strict";
import { startWebGpuOrSkip } from "./device.ts";
import { CASES } from "../curvature/operators-shared.ts";
import { denseOracle, maxAbs } from "../curvature/oracle.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { makeProblem } from "../../src/curvature/problem.ts";
import { curvatureOperator, OPERATORS, type OperatorName } from "../../src/curvature/make.ts";
import { numpy as np } from "../../src/engine/jax.ts";
import { defaultDevice } from "../../src/engine/jax.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import type { LossName } from "../../src/nn/loss.ts";

const BOUND = 2e-6;
const { skip } = await startWebGpuOrSkip();

function probes(P: number, seed: number): Float64Array[] {
  const rng = hostRng(seed);
  const e = (j: number) => { const v = new Float64Array(P); v[j] = 1; return v; };
  const signs = () => Float64Array.from({ length: P }, () => (rng.uniform() < 0.5 ? -1 : 1));
  return [e(0), e(P - 1), signs(), signs()];
}

function hostProduct(A: Float64Array, v: Float64Array): Float64Array {
  const P = v.length;
  const out = new Float64Array(P);
  for (let i = 0; i < P; i++) {
    let s = 0;
    for (let j = 0; j < P; j++) s += A[i * P + j] * v[j];
    out[i] = s;
  }
  return out;
}

// Four of test/curvature's six model x loss cases (each new shape costs shader compilations on
// the software adapter): both losses on the tanh MLP, MSE on the gelu MLP (the largest wasm
// error), cross-entropy on the CNN (convolutions, pooling, log-softmax).
const RUNS: readonly [number, LossName][] = [[0, "cross-entropy"], [0, "mse"], [1, "mse"], [2, "cross-entropy"]];
for (const [index, loss] of RUNS) {
  const c = CASES[index];
  {
    test(`webgpu float32: every operator's products equal the dense autodiff oracle's (${c.model}, ${loss}, rel <= ${BOUND})`, { skip }, async (t) => {
      const model = parseModel(c.model);
      const data = loadData(c.data);
      const t0 = performance.now();
      defaultDevice("cpu");
      const exact = makeProblem(model, data, model.init(7), { dtype: "float64", loss, batchSize: 1000 });
      const oracle = await denseOracle(exact);
      exact.dispose();
      defaultDevice("webgpu");
      const t1 = performance.now();
      const expected: Record<OperatorName, Float64Array> = {
        hessian: oracle.H,
        ggn: oracle.G,
        fisher: oracle.F,
        "gradcov-uncentered": oracle.F,
        gradcov: oracle.C,
        outcov: oracle.Oc,
        "outcov-uncentered": oracle.O,
        residual: oracle.H.map((h, i) => h - oracle.G[i]),
      };
      const problem = makeProblem(model, data, model.init(7), { dtype: "float32", loss, batchSize: 7 });
      const vs = probes(model.size, 11);
      const errors: string[] = [];
      for (const name of OPERATORS) {
        const op = curvatureOperator(problem, { operator: name });
        const O = expected[name];
        // The residual H - G can vanish (piecewise-linear CNN): measure it on the scale of H. The
        // centred output-gradient covariance J^T J / N - sum_c m_c m_c^T cancels most of J^T J / N
        // (the mean output gradients dominate): its float32 rounding is that of the terms
        // subtracted, so measure it on the scale of J^T J / N (measured: 2.7e-6 of its own scale,
        // 1e-7 of J^T J / N's, mlp:3-4-4-3:gelu with the squared error).
        const scale = maxAbs(name === "residual" ? oracle.H : name === "outcov" ? oracle.O : O);
        let worst = 0;
        for (const v of vs) {
          const x = np.array(Float32Array.from(v));
          const y = op.matvec(x);
          x.dispose();
          const got = await y.data();
          const want = hostProduct(O, v);
          const norm = Math.hypot(...v);
          for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (scale * norm));
        }
        op.dispose();
        errors.push(`${name} ${worst.toExponential(1)}`);
        assert.ok(worst <= BOUND, `${name}: relative error ${worst.toExponential(2)} > ${BOUND} (${errors.join(", ")})`);
      }
      problem.dispose();
      const t2 = performance.now();
      t.diagnostic(`relative errors: ${errors.join(", ")}; oracle ${((t1 - t0) / 1000).toFixed(1)} s, webgpu ${((t2 - t1) / 1000).toFixed(1)} s`);
    });
  }
}
