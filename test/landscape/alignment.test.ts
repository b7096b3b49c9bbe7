// Hessian and gradient alignment across domains (Hemati et al. 2023) against dense values: the
// classifier-head Hessians of a Gaussian mixture and of its shifted copy are materialized column
// by column (dense.ts), and every Hutchinson estimate must fall within 4 of its standard errors of
// the dense value, for several probe seeds; the exact quantities (gradients, Hessian-gradient
// products) must equal the dense ones to rounding.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { makeProblem, gradientHost } from "../../src/curvature/problem.ts";
import { curvatureOperator } from "../../src/curvature/make.ts";
import { materialize } from "../../src/curvature/dense.ts";
import { diagonalUStatistic, headBlock, modelHessianAlignment, shiftFeatures } from "../../src/landscape/alignment.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { InputError } from "../../src/errors.ts";

await startEngine({ device: "wasm" });

const model = parseModel("mlp:4-6-3:tanh");
const data1 = loadData("gmm:k=3,d=4,n=10,sep=2,seed=1");
const SHIFT = [0.8, -0.5, 0.3, 0.6];
const data2 = shiftFeatures(data1, SHIFT);

async function dense(data: typeof data1, theta: Float64Array) {
  const p = makeProblem(model, data, theta, { dtype: "float64" });
  const op = curvatureOperator(p, { block: "2" });
  try {
    const H = await materialize(op);
    const g = Float64Array.from(await gradientHost(p));
    return { H: H.data, n: H.n, g };
  } finally {
    op.dispose();
    p.dispose();
  }
}

function within(est: { estimate: number; standardError: number | null }, exact: number, what: string) {
  assert.ok(est.standardError !== null && est.standardError > 0, `${what}: s.e. ${est.standardError}`);
  const z = Math.abs(est.estimate - exact) / est.standardError!;
  assert.ok(z < 4, `${what}: estimate ${est.estimate} vs dense ${exact}: ${z.toFixed(2)} standard errors (s.e. ${est.standardError})`);
  return z;
}

test("shiftFeatures shifts every row and checks its input", () => {
  assert.equal(data2.y, data1.y);
  for (let i = 0; i < data1.x.length; i++) assert.ok(Math.abs(data2.x[i] - (data1.x[i] + SHIFT[i % 4])) < 1e-6);
  assert.throws(() => shiftFeatures(data1, [1, 2]), InputError);
  assert.throws(() => shiftFeatures(data1, [NaN]), InputError);
  assert.equal(headBlock(model).name, "2");
  assert.equal(headBlock(model).size, 6 * 3 + 3);
});

test("alignment of a mixture and its shifted copy equals the dense head Hessians within standard errors", async () => {
  const zs: number[] = [];
  for (const thetaSeed of [0, 1]) {
    const theta = model.init(thetaSeed);
    const d1 = await dense(data1, theta), d2 = await dense(data2, theta);
    const n = d1.n, off = headBlock(model).offset;
    assert.equal(n, 21);
    // Dense values.
    let frob = 0, diag = 0, tr1 = 0, tr2 = 0;
    for (let i = 0; i < n * n; i++) frob += (d1.H[i] - d2.H[i]) ** 2;
    for (let i = 0; i < n; i++) diag += (d1.H[i * n + i] - d2.H[i * n + i]) ** 2, (tr1 += d1.H[i * n + i]), (tr2 += d2.H[i * n + i]);
    const b1 = d1.g.subarray(off, off + n), b2 = d2.g.subarray(off, off + n);
    const hg = (H: Float64Array, v: ArrayLike<number>) => Float64Array.from({ length: n }, (_, i) => { let s = 0; for (let j = 0; j < n; j++) s += H[i * n + j] * v[j]; return s; });
    const hg1 = hg(d1.H, b1), hg2 = hg(d2.H, b2);
    let hgp = 0, gd = 0, gdAll = 0;
    for (let i = 0; i < n; i++) hgp += (hg1[i] - hg2[i]) ** 2, (gd += (b1[i] - b2[i]) ** 2);
    for (let i = 0; i < model.size; i++) gdAll += (d1.g[i] - d2.g[i]) ** 2;
    assert.ok(frob > 1e-6 && diag > 1e-8, `the shift must change the head Hessian (||D||_F^2 ${frob}, diag ${diag})`);

    for (const seed of [0, 1, 2]) {
      const r = await modelHessianAlignment(model, data1, data2, theta, { probes: 100, seed });
      assert.equal(r.settings.block, "2");
      assert.equal(r.settings.blockSize, 21);
      assert.equal(r.cost.hessianVectorProducts, 2 * 101);
      zs.push(within(r.hessianFrobeniusSquared, frob, `||H1-H2||_F^2 (theta ${thetaSeed}, seed ${seed})`));
      zs.push(within(r.diagonalDistanceSquared, diag, `||diag diff||^2 (theta ${thetaSeed}, seed ${seed})`));
      zs.push(within(r.traces[0], tr1, `tr H1 (theta ${thetaSeed}, seed ${seed})`));
      zs.push(within(r.traces[1], tr2, `tr H2 (theta ${thetaSeed}, seed ${seed})`));
      // Exact quantities: the same float64 products and gradients by another route, to rounding.
      const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
      assert.ok(rel(r.hgp.distanceSquared, hgp) < 1e-9, `HGP ${r.hgp.distanceSquared} vs ${hgp}`);
      assert.ok(rel(r.hgp.norm1, Math.hypot(...hg1)) < 1e-9 && rel(r.hgp.norm2, Math.hypot(...hg2)) < 1e-9);
      assert.ok(rel(r.gradients.block.distance, Math.sqrt(gd)) < 1e-9, `gradient distance ${r.gradients.block.distance} vs ${Math.sqrt(gd)}`);
      assert.ok(rel(r.gradients.all.distance, Math.sqrt(gdAll)) < 1e-9);
      const cos = b1.reduce((s, v, i) => s + v * b2[i], 0) / (Math.hypot(...b1) * Math.hypot(...b2));
      assert.ok(Math.abs(r.gradients.block.cosine! - cos) < 1e-12);
      assert.ok(JSON.parse(JSON.stringify(r)).settings.probes === 100);
    }
  }
  console.log(`# |estimate - dense| / s.e.: max ${Math.max(...zs).toFixed(2)}, mean ${(zs.reduce((a, b) => a + b, 0) / zs.length).toFixed(2)} over ${zs.length}`);
});

test("two identical domains: every distance is zero, the gradient cosine is one", async () => {
  const theta = model.init(3);
  const r = await modelHessianAlignment(model, data1, data1, theta, { probes: 5 });
  assert.equal(r.hessianFrobeniusSquared.estimate, 0);
  assert.equal(r.diagonalDistanceSquared.estimate, 0);
  assert.equal(r.hgp.distanceSquared, 0);
  assert.equal(r.gradients.all.distance, 0);
  assert.ok(Math.abs(r.gradients.all.cosine! - 1) < 1e-14);
});

test("the diagonal U-statistic is unbiased where the plug-in is not, and its jackknife s.e. is the delta-method one", () => {
  // Samples x_j = d + noise with known d: mean of U over many replicates -> ||d||^2.
  const rng = hostRng(11);
  const d = Float64Array.from([1, -2, 0.5]);
  const m = 20;
  let meanU = 0, meanPlug = 0, meanSe2 = 0;
  const R = 2000;
  const us: number[] = [];
  for (let r = 0; r < R; r++) {
    const xs: Float64Array[] = [];
    const sum = new Float64Array(3);
    for (let j = 0; j < m; j++) {
      const x = Float64Array.from(d, (v) => v + 2 * rng.normal());
      xs.push(x);
      for (let i = 0; i < 3; i++) sum[i] += x[i];
    }
    const u = diagonalUStatistic(xs, sum);
    meanU += u.estimate / R, (meanPlug += u.plugIn / R), (meanSe2 += u.standardError! ** 2 / R);
    us.push(u.estimate);
  }
  const truth = 1 + 4 + 0.25;
  const sdU = Math.sqrt(us.reduce((s, u) => s + (u - meanU) ** 2, 0) / (R - 1));
  // Unbiased: within 4 standard errors of the replicate mean; the plug-in is off by sum Var/m = 3*4/20.
  assert.ok(Math.abs(meanU - truth) < 4 * sdU / Math.sqrt(R), `mean U ${meanU} vs ${truth}`);
  assert.ok(Math.abs(meanPlug - (truth + 12 / m)) < 4 * sdU / Math.sqrt(R) + 0.05);
  // The jackknife variance estimates the replicate variance (within 15%).
  assert.ok(Math.abs(Math.sqrt(meanSe2) / sdU - 1) < 0.15, `jackknife s.e. ${Math.sqrt(meanSe2)} vs replicate s.d. ${sdU}`);
});

test("curvlab align: bad input is an InputError naming the option, before any work; --out writes alignment.json", async () => {
  const { alignCommand } = await import("../../src/cli/align.ts");
  const { optionFlag } = await import("../../src/cli/flags.ts");
  const { mkdtempSync, readFileSync, existsSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const base = ["--model", "mlp:4-6-3:tanh", "--data", "gmm:k=3,d=4,n=10,sep=2,seed=1", "--quiet"];
  const fails = async (argv: string[], input: string) => {
    await assert.rejects(alignCommand(argv), (e: unknown) => e instanceof InputError && (e.option ? optionFlag(e.input) : e.input) === input, `${argv.join(" ")} -> ${input}`);
  };
  await fails(base, "--data2");
  await fails([...base, "--data2", "gmm:k=3,d=5,n=10"], "--data2");
  await fails([...base, "--data2", "gmm:k=3,d=4,n=10", "--shift", "1,x"], "--shift");
  await fails([...base, "--data2", "gmm:k=3,d=4,n=10", "--shift", "1,2"], "--shift");
  await fails([...base, "--data2", "gmm:k=3,d=4,n=10", "--block", "7"], "--block");
  await fails([...base, "--data2", "gmm:k=3,d=4,n=10", "--probes", "1"], "--probes");
  const dir = mkdtempSync(join(tmpdir(), "curvlab-align-"));
  try {
    const out = join(dir, "out");
    const write = process.stdout.write;
    let printed = "";
    process.stdout.write = ((s: string) => ((printed += s), true)) as typeof process.stdout.write;
    try {
      assert.equal(await alignCommand([...base, "--data2", "gmm:k=3,d=4,n=10,sep=2,seed=1", "--shift", "0.5", "--probes", "10", "--json", "--out", out]), 0);
    } finally {
      process.stdout.write = write;
    }
    const saved = JSON.parse(readFileSync(join(out, "alignment.json"), "utf8"));
    assert.deepEqual(saved, JSON.parse(printed));
    assert.equal(saved.settings.block, "2");
    assert.equal(saved.settings.probes, 10);
    assert.ok(saved.hessianFrobeniusSquared.estimate > 0 && saved.hessianFrobeniusSquared.standardError > 0);
    assert.match(saved.data2, /shifted by 0\.5/);
    assert.ok(!existsSync(join(dir, "missing")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
