// The empirical NTK operator against J J^T from autodiff (float64, batches of unequal size), and
// the identity behind it: for the squared error, the non-zero eigenvalues of G = (2/N) J^T J are
// those of (2/N) J J^T.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { makeProblem } from "../../src/curvature/problem.ts";
import { curvatureOperator } from "../../src/curvature/make.ts";
import { ntkOperator } from "../../src/curvature/ntk.ts";
import { materialize } from "../../src/curvature/dense.ts";
import { eigh } from "../../src/linalg/dense/eigh.ts";
import { denseOracle, relativeError } from "./oracle.ts";

await startEngine({ device: "wasm" });

for (const [spec, data] of [["mlp:4-6-3:tanh", "gmm:k=3,d=4,n=6,sep=2,seed=1"], ["mlp:3-4-4-3:gelu", "gmm:k=3,d=3,n=5,sep=2,seed=2"]] as const) {
  test(`ntkOperator equals J J^T, and (2/N) J J^T has G's non-zero spectrum under the squared error (${spec})`, async () => {
    const model = parseModel(spec);
    const ds = loadData(data);
    const oracle = await denseOracle(makeProblem(model, ds, model.init(3), { dtype: "float64", loss: "mse", batchSize: 1000 }));
    const problem = makeProblem(model, ds, model.init(3), { dtype: "float64", loss: "mse", batchSize: 7 });
    const N = problem.n, c = model.outputDim, P = model.size, R = N * c;
    const op = ntkOperator(problem);
    assert.equal(op.size, R);
    const K = await materialize(op, { symmetrize: false });
    op.dispose();
    const want = new Float64Array(R * R);
    for (let a = 0; a < R; a++)
      for (let b = 0; b < R; b++) {
        let s = 0;
        for (let k = 0; k < P; k++) s += oracle.J[a * P + k] * oracle.J[b * P + k];
        want[a * R + b] = s;
      }
    const err = relativeError(K.data, want);
    assert.ok(err <= 1e-12, `K vs J J^T: ${err}`);
    // Spectra: the r = min(R, P) largest of (2/N) K and of G agree.
    const g = curvatureOperator(problem, { operator: "ggn" });
    const G = await materialize(g);
    g.dispose();
    problem.dispose();
    const kEig = Array.from(eigh({ n: R, data: K.data.map((x) => (2 * x) / N) }).values).reverse();
    const gEig = Array.from(eigh({ n: P, data: G.data }).values).reverse();
    const r = Math.min(R, P), scale = gEig[0];
    for (let i = 0; i < r; i++) assert.ok(Math.abs(kEig[i] - gEig[i]) <= 1e-10 * scale, `eigenvalue ${i}: ${kEig[i]} vs ${gEig[i]}`);
    // Beyond the rank, G's remaining eigenvalues are zero.
    for (let i = r; i < P; i++) assert.ok(Math.abs(gEig[i]) <= 1e-10 * scale);
  });
}
