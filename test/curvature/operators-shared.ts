/**
 * Checks every curvature operator against the dense autodiff oracle, for a device and dtype;
 * each test file starts its own engine (device) and calls this with its measured bound.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { makeProblem } from "../../src/curvature/problem.ts";
import { curvatureOperator, type OperatorName } from "../../src/curvature/make.ts";
import { materialize } from "../../src/curvature/dense.ts";
import type { DTypeName } from "../../src/engine/dtype.ts";
import { defaultDevice } from "../../src/engine/jax.ts";
import { engineInfo } from "../../src/engine/start.ts";
import type { LossName } from "../../src/nn/loss.ts";
import { denseOracle, maxAbs, relativeError } from "./oracle.ts";
import { jacobiEigenvalues } from "../helpers/jacobi.ts";

/** Three small models (tanh MLP, 2-hidden-layer gelu MLP, LeNet-like CNN) with fitting data. */
export const CASES = [
  { model: "mlp:4-6-3:tanh", data: "gmm:k=3,d=4,n=6,sep=2,seed=1" },
  { model: "mlp:3-4-4-3:gelu", data: "gmm:k=3,d=3,n=5,sep=2,seed=2" },
  { model: "cnn:lenet:in=1x7x7,c1=2,c2=2,k=2,classes=3", data: "gmm:k=3,d=49,n=3,sep=2,seed=3" },
] as const;
export const LOSSES_UNDER_TEST: readonly LossName[] = ["cross-entropy", "mse"];

export function checkOperatorsAgainstAutodiff(dtype: DTypeName, bound: number, label: string): void {
  for (const c of CASES) {
    for (const loss of LOSSES_UNDER_TEST) {
      test(`${label}: every operator equals the dense autodiff matrix (${c.model}, ${loss}, ${dtype}, rel <= ${bound})`, async (t) => {
        const model = parseModel(c.model);
        const data = loadData(c.data);
        // Batches of 7 so that accumulation over unequal batches is exercised.
        // The oracle always runs on the exact path (cpu device, float64).
        const device = engineInfo().device;
        defaultDevice("cpu");
        const exact = makeProblem(model, data, model.init(7), { dtype: "float64", loss, batchSize: 1000 });
        const oracle = await denseOracle(exact);
        exact.dispose();
        defaultDevice(device);
        const problem = makeProblem(model, data, model.init(7), { dtype, loss, batchSize: 7 });
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
        const dense: Partial<Record<OperatorName, Float64Array>> = {};
        const errors: string[] = [];
        for (const name of Object.keys(expected) as OperatorName[]) {
          const op = curvatureOperator(problem, { operator: name });
          const A = await materialize(op, { symmetrize: false });
          op.dispose();
          dense[name] = A.data;
          // The residual H - G can vanish (piecewise-linear CNN): measure it on the scale of H. The
          // centred output-gradient covariance J^T J / N - sum_c m_c m_c^T cancels most of
          // J^T J / N: its float32 rounding is that of the terms subtracted, so it is measured on
          // their scale (2.4e-6 of its own, about 1e-7 of J^T J / N's, on mlp:3-4-4-3:gelu).
          const scale = name === "residual" ? maxAbs(oracle.H) : name === "outcov" ? maxAbs(oracle.O) : undefined;
          const err = relativeError(A.data, expected[name], scale);
          errors.push(`${name} ${err.toExponential(1)}`);
          assert.ok(err <= bound, `${name}: relative error ${err.toExponential(2)} > ${bound} (${errors.join(", ")})`);
          // Symmetric to the same bound (A.asymmetry is relative to max |A|; the centred covariance's
          // on the scale of J^T J / N, as above).
          const asymmetry = name === "outcov" ? (A.asymmetry * maxAbs(A.data)) / scale! : A.asymmetry;
          assert.ok(asymmetry <= bound, `${name}: asymmetry ${asymmetry.toExponential(2)}`);
        }
        // H = G + residual.
        const sum = dense.ggn!.map((g, i) => g + dense.residual![i]);
        assert.ok(relativeError(sum, dense.hessian!) <= bound, "H = G + residual");
        // G, F, C positive semidefinite to rounding.
        for (const name of ["ggn", "fisher", "gradcov", "outcov"] as const) {
          const ev = jacobiEigenvalues(dense[name]!, model.size);
          const scale = Math.max(...ev.map(Math.abs));
          assert.ok(ev[0] >= -bound * scale * 10, `${name} has eigenvalue ${ev[0]} (scale ${scale})`);
        }
        t.diagnostic(`relative errors: ${errors.join(", ")}`);
        problem.dispose();
      });
    }
  }
}
