// `spectrum` and `density` with --batch-size B --batches K: K mini-batch matrices instead of the
// whole data's, checked against the dense Hessian of each batch (autodiff-free: the dense matrix of
// the batch's own operator, eigendecomposed in float64), resumed to the same numbers, and refused
// when B does not fit the data.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./run-cli.ts";
import { startEngine } from "../../src/engine/start.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { miniBatches } from "../../src/data/minibatch.ts";
import { makeProblem } from "../../src/curvature/problem.ts";
import { curvatureOperator } from "../../src/curvature/make.ts";
import { materialize } from "../../src/curvature/dense.ts";
import { eigh } from "../../src/linalg/dense/eigh.ts";
import { probeSeeds, probeVector } from "../../src/linalg/sampling.ts";

await startEngine({ device: "wasm" });
const MODEL = "mlp:4-6-3:tanh", DATA = "gmm:k=3,d=4,n=10,sep=2,seed=1";
const COMMON = ["--model", MODEL, "--data", DATA, "--dtype", "float64", "--batch-size", "8", "--batches", "3", "--seed", "2"];

/**
 * Each batch's dense Hessian at the seeded initialization: its spectrum (ascending) and, for each
 * of the 2 SLQ probes v of seed 2, the Hutchinson value P v^T H v / v^T v that the probe's exact
 * quadrature rule integrates to.
 */
async function denseBatches(): Promise<{ values: Float64Array; probeTraces: number[] }[]> {
  const model = parseModel(MODEL);
  const out = [];
  for (const batch of miniBatches(loadData(DATA), { size: 8, count: 3, seed: 2 })) {
    const problem = makeProblem(model, batch, model.init(2), { dtype: "float64", loss: "cross-entropy" });
    const op = curvatureOperator(problem, { operator: "hessian" });
    const A = await materialize(op);
    op.dispose();
    problem.dispose();
    const probeTraces = [];
    for (const ps of probeSeeds(2, 2)) {
      const pv = probeVector("rademacher", ps, A.n, "float64");
      const v = Float64Array.from(await pv.data());
      let vAv = 0, vv = 0;
      for (let i = 0; i < A.n; i++) {
        vv += v[i] * v[i];
        for (let k = 0; k < A.n; k++) vAv += v[i] * A.data[i * A.n + k] * v[k];
      }
      probeTraces.push((A.n * vAv) / vv);
    }
    out.push({ values: Float64Array.from(eigh({ n: A.n, data: A.data }).values), probeTraces });
  }
  return out;
}

test("spectrum --batches: each batch's top eigenvalues are its dense ones; the result is their mean", async () => {
  const r = runCli(["spectrum", ...COMMON, "--top", "3", "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  assert.equal(res.batches, 3);
  assert.equal(res.miniBatchSize, 8);
  assert.equal(res.miniBatches.count, 3);
  assert.equal(res.miniBatches.data.length, 3);
  const dense = await denseBatches();
  for (let j = 0; j < 3; j++) {
    const top = Array.from(dense[j].values).reverse().slice(0, 3);
    res.miniBatches.eigenvalues[j].forEach((v: number, i: number) => assert.ok(Math.abs(v - top[i]) <= 1e-7 * top[0], `batch ${j}: ${v} vs ${top[i]}`));
  }
  for (let i = 0; i < 3; i++) {
    const mean = (res.miniBatches.eigenvalues as number[][]).reduce((s, e) => s + e[i], 0) / 3;
    assert.ok(Math.abs(res.eigenvalues[i] - mean) <= 1e-12 * Math.abs(mean));
  }
  // Without --batches: the whole data's operator, and no record of batches.
  const whole = JSON.parse(runCli(["spectrum", "--model", MODEL, "--data", DATA, "--dtype", "float64", "--seed", "2", "--top", "3", "--json"]).stdout);
  assert.equal(whole.miniBatches, null);
  assert.equal(whole.batches, null);
  assert.ok(whole.eigenvalues[0] < res.eigenvalues[0], "mini-batch matrices have the larger top eigenvalue here");
});

test("density --batches: the rules of every batch pooled (exact traces at steps = P); a resumed run gives the same density; B beyond the data is refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "curvlab-minibatch-"));
  try {
    const args = ["density", ...COMMON, "--probes", "2", "--steps", "51", "--quiet"];
    const first = runCli([...args, "--resume", join(dir, "d")]);
    assert.equal(first.status, 0, first.stderr);
    const d1 = JSON.parse(readFileSync(join(dir, "d", "density.json"), "utf8"));
    assert.equal(d1.density.quadrature.length, 6, "2 probes on each of 3 batches");
    // With as many steps as parameters (51) each rule is exact for its probe: its trace sample is
    // P v^T H_j v / v^T v of its own batch j (rules batch by batch), and the estimate their mean.
    const dense = await denseBatches();
    const want = dense.flatMap((b) => b.probeTraces);
    const scale = Math.max(...want.map(Math.abs));
    d1.density.trace.samples.forEach((t: number, i: number) => assert.ok(Math.abs(t - want[i]) <= 1e-8 * scale, `rule ${i}: ${t} vs ${want[i]}`));
    const mean = want.reduce((a, b) => a + b, 0) / want.length;
    assert.ok(Math.abs(d1.density.trace.estimate - mean) <= 1e-8 * scale);
    const again = runCli([...args, "--resume", join(dir, "d")]);
    assert.equal(again.status, 0, again.stderr);
    const d2 = JSON.parse(readFileSync(join(dir, "d", "density.json"), "utf8"));
    assert.deepEqual(d2.density.quadrature, d1.density.quadrature);
    assert.deepEqual(d2.density.density, d1.density.density);
    // Refused before anything starts: a batch larger than the data, and no batches.
    const big = runCli(["density", "--model", MODEL, "--data", DATA, "--batch-size", "31", "--batches", "2"]);
    assert.equal(big.status, 2);
    assert.match(big.stderr, /--batch-size: expected an integer from 1 to the 30 rows/);
    const zero = runCli(["spectrum", "--model", MODEL, "--data", DATA, "--top", "2", "--batches", "0"]);
    assert.equal(zero.status, 2);
    assert.match(zero.stderr, /--batches/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
