// Lanczos with full reorthogonalization against dense oracles: the Hessian of a 3,110-parameter
// MLP (dense eigenvalues from exactSpectrum, stored in a fixture because the dense reference
// takes minutes; recomputed with CURVLAB_HEAVY=1) and of a small MLP (dense reference live),
// operators with known spectra (outliers over a bulk, an eigenvalue of multiplicity 3, few
// distinct eigenvalues), Ritz vectors checked on the host, reproducibility, bad options.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np } from "../../src/engine/jax.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { InputError } from "../../src/errors.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { makeProblem } from "../../src/curvature/problem.ts";
import { curvatureOperator } from "../../src/curvature/make.ts";
import { makeOperator } from "../../src/curvature/operator.ts";
import { exactSpectrum } from "../../src/linalg/exact-spectrum.ts";
import { lanczosEigs, lanczosDefaults, type LanczosResult } from "../../src/linalg/lanczos.ts";
import { dotHost, expectedEigenvalues, hostResidual, knownSpectrum, maxRelativeError, withoutSeconds } from "./eigensolver-helpers.ts";

await startEngine({ device: "wasm" });
const heavy = !!process.env.CURVLAB_HEAVY;

/** No two reported eigenvalues closer than `gap` relative (the dense ones are all farther apart). */
function assertNoDuplicates(values: readonly number[], gap: number, label: string): void {
  for (let i = 1; i < values.length; i++) {
    const d = Math.abs(values[i] - values[i - 1]) / Math.abs(values[i]);
    assert.ok(d > gap, `${label}: eigenvalues ${i - 1} and ${i} coincide (${values[i - 1]}, ${values[i]})`);
  }
}

// --- A real Hessian, ~3,000 parameters ------------------------------------------------------

const BIG = { model: "mlp:20-100-10:tanh", data: "gmm:k=10,d=20,n=100,sep=3,seed=0", init: 0 };
const FIXTURE = fileURLToPath(new URL("./fixtures/lanczos-hessian-3110.json", import.meta.url));

interface HessianFixture {
  readonly model: string;
  readonly data: string;
  readonly init: number;
  readonly size: number;
  /** The 12 largest dense eigenvalues, descending, and the 12 smallest, ascending. */
  readonly top: number[];
  readonly bottom: number[];
  /** Entries 0..7 of H e_0: tells a stale fixture (model, data or init changed) from a wrong solver. */
  readonly column0: number[];
  readonly method: string;
}

function bigHessian() {
  const model = parseModel(BIG.model);
  const problem = makeProblem(model, loadData(BIG.data), model.init(BIG.init), { dtype: "float64" });
  const op = curvatureOperator(problem, { operator: "hessian" });
  return { model, op, dispose: () => (op.dispose(), problem.dispose()) };
}

async function column0(op: ReturnType<typeof bigHessian>["op"]): Promise<number[]> {
  const unit = new Float64Array(op.size);
  unit[0] = 1;
  const e0 = np.array(unit, { dtype: np.float64 });
  const col = await op.matvec(e0).data();
  e0.dispose();
  return Array.from(col.subarray(0, 8));
}

test(`Hessian of ${BIG.model} (3,110 parameters): top-10 and bottom-10 equal the dense eigenvalues to 1e-8 relative, no spurious duplicates`, async (t) => {
  const fixture = JSON.parse(readFileSync(FIXTURE, "utf8")) as HessianFixture;
  const { model, op, dispose } = bigHessian();
  assert.equal(model.size, 3110);
  assert.equal(fixture.size, model.size);
  const col = await column0(op);
  assert.ok(
    maxRelativeError(col, fixture.column0) < 1e-12,
    `the Hessian no longer matches the fixture (model, data or init changed?): regenerate it with CURVLAB_HEAVY=1 CURVLAB_UPDATE_FIXTURES=1`,
  );
  for (const which of ["largest", "smallest"] as const) {
    const r = await lanczosEigs(op, { k: 10, which, seed: 1 });
    const dense = (which === "largest" ? fixture.top : fixture.bottom).slice(0, 10);
    // Defaults (tol 1e-8): every residual is below 1e-8 |theta|, and some eigenvalue lies within
    // the residual of each Ritz value; matched in order against the dense eigenvalues (which are
    // distinct, at least 1e-4 apart relative), agreement to 1e-8 rules out both missing and
    // spurious copies.
    const err = maxRelativeError(r.eigenvalues, dense);
    t.diagnostic(`${which}: max relative error ${err.toExponential(2)}, steps per run ${r.runSteps.join(" + ")}, ${r.seconds.toFixed(1)} s`);
    assert.ok(err <= 1e-8, `${which}: relative error ${err} > 1e-8`);
    assert.equal(r.convergedCount, 10);
    assert.ok(r.confirmed);
    assert.equal(r.matvecs, r.steps);
    assertNoDuplicates(r.eigenvalues, 1e-6, which);
  }
  dispose();
});

test(`heavy: the fixture's eigenvalues are the dense spectrum of the Hessian of ${BIG.model}`, { skip: !heavy }, async (t) => {
  const { model, op, dispose } = bigHessian();
  const col = await column0(op);
  const exact = await exactSpectrum(op);
  dispose();
  const ev = exact.eigenvalues;
  const fresh: HessianFixture = {
    ...BIG,
    size: model.size,
    top: ev.slice(-12).reverse(),
    bottom: ev.slice(0, 12),
    column0: col,
    method: exact.method,
  };
  t.diagnostic(`dense spectrum: ${exact.cost.secondsMatrix.toFixed(0)} s for the matrix, ${exact.cost.secondsEigen.toFixed(0)} s for eigh`);
  if (process.env.CURVLAB_UPDATE_FIXTURES) writeFileSync(FIXTURE, JSON.stringify(fresh, null, 2) + "\n");
  const fixture = JSON.parse(readFileSync(FIXTURE, "utf8")) as HessianFixture;
  assert.ok(maxRelativeError(fixture.top, fresh.top) < 1e-12);
  assert.ok(maxRelativeError(fixture.bottom, fresh.bottom) < 1e-12);
});

// --- A real Hessian and Gauss-Newton matrix, small enough for a live dense reference -----------

test("Hessian and Gauss-Newton of mlp:6-16-5:tanh (197 parameters): top-10 and bottom-10 equal a live dense reference", async (t) => {
  const model = parseModel("mlp:6-16-5:tanh");
  const problem = makeProblem(model, loadData("gmm:k=5,d=6,n=20,sep=3,seed=0"), model.init(0), { dtype: "float64" });
  for (const operator of ["hessian", "ggn"] as const) {
    const op = curvatureOperator(problem, { operator });
    const ev = (await exactSpectrum(op)).eigenvalues;
    const cases = operator === "hessian" ? (["largest", "smallest"] as const) : (["largest", "magnitude"] as const);
    for (const which of cases) {
      const r = await lanczosEigs(op, { k: 10, which });
      const dense = expectedEigenvalues(ev, which, 10);
      const err = maxRelativeError(r.eigenvalues, dense);
      t.diagnostic(`${operator} ${which}: relative error ${err.toExponential(2)}, steps ${r.runSteps.join(" + ")}`);
      assert.ok(err <= 1e-8, `${operator} ${which}: relative error ${err}`);
      assert.ok(r.confirmed);
    }
    op.dispose();
  }
  problem.dispose();
});

// --- Known spectra ------------------------------------------------------------------------------

/** 10 outliers over a bulk of 390 eigenvalues uniform in [-1, 1]. */
function outliersOverBulk(): number[] {
  const rng = hostRng(5);
  const outliers = [50, 40, 30, 20, 15, 12, 10, 9, 8, 7];
  return Array.from({ length: 400 }, (_, i) => (i < outliers.length ? outliers[i] : 2 * rng.uniform() - 1));
}

test("outliers over a bulk: largest, smallest and largest-magnitude 10 equal the known eigenvalues; Ritz vectors check out on the host", async (t) => {
  const s = knownSpectrum(outliersOverBulk(), 11);
  const normA = 50;
  for (const which of ["largest", "smallest", "magnitude"] as const) {
    const r = await lanczosEigs(s.op, { k: 10, which, vectors: true });
    const want = expectedEigenvalues(s.values, which, 10);
    const err = maxRelativeError(r.eigenvalues, want);
    t.diagnostic(`${which}: relative error ${err.toExponential(2)}, steps ${r.runSteps.join(" + ")}`);
    assert.ok(err <= 1e-8, `${which}: relative error ${err}`);
    assert.equal(r.which, which);
    assert.equal(r.convergedCount, 10);
    assert.ok(r.confirmed);
    // Each eigenvalue within its residual (plus rounding) of the true one.
    r.eigenvalues.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= r.residuals[i] + 1e-13 * normA, `${which} ${i}: |${v} - ${want[i]}| > residual ${r.residuals[i]}`));
    // The vectors: unit, orthogonal, and their true residuals ||A y - theta y|| (host, float64)
    // within rounding of the reported ones (which come from the recurrence alone).
    const Y = r.vectors!;
    assert.equal(Y.length, 10);
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j <= i; j++) assert.ok(Math.abs(dotHost(Y[i], Y[j]) - (i === j ? 1 : 0)) < 1e-12, `${which}: y${i}.y${j}`);
      const res = hostResidual(s.A, Y[i], r.eigenvalues[i]);
      assert.ok(res <= r.residuals[i] + 1e-12 * normA, `${which} ${i}: host residual ${res} vs reported ${r.residuals[i]}`);
    }
  }
  s.op.dispose();
});

test("the result is plain JSON: vectors stay out of it (non-enumerable), settings carry every default", async () => {
  const s = knownSpectrum(outliersOverBulk(), 11);
  const r = await lanczosEigs(s.op, { k: 3, vectors: true });
  const json = JSON.parse(JSON.stringify(r)) as LanczosResult;
  assert.equal(Object.keys(r).includes("vectors"), false);
  assert.equal(r.vectors!.length, 3);
  assert.deepEqual(json, { ...r });
  const defaults = lanczosDefaults(400, "float64", 3);
  assert.deepEqual(
    { k: json.settings.k, which: json.settings.which, tol: json.settings.tol, maxSteps: json.settings.maxSteps, seed: json.settings.seed, confirm: json.settings.confirm },
    { k: 3, which: "largest", tol: 1e-8, maxSteps: defaults.maxSteps, seed: 0, confirm: true },
  );
  assert.equal(defaults.maxSteps, 400); // min(n, max(3k, k + 400))
  assert.equal(lanczosDefaults(10_000_000, "float32", 10).maxSteps, 60); // 512 MiB of basis allows 13 vectors: max(3k, k + 50)
  assert.equal(lanczosDefaults(1_000_000, "float32", 10).tol, 1e-4);
  s.op.dispose();
});

/** 10, 9, ..., 5, then 4 three times, then 3.5, 3.2, 3.0, 2.8, over a bulk in [0, 1). */
function tripleFour(): number[] {
  const rng = hostRng(7);
  const top = [10, 9, 8, 7, 6, 5, 4, 4, 4, 3.5, 3.2, 3.0, 2.8];
  return Array.from({ length: 400 }, (_, i) => (i < top.length ? top[i] : rng.uniform()));
}

test("an eigenvalue of multiplicity 3 among the top 10: one run sees it once, the confirmation runs find all three copies", async (t) => {
  const s = knownSpectrum(tripleFour(), 13);
  const want = expectedEigenvalues(s.values, "largest", 10); // 10 9 8 7 6 5 4 4 4 3.5
  // In exact arithmetic a Krylov space from one vector holds one direction of each eigenspace;
  // in floating point the other copies grow from rounding errors, far too slowly to appear
  // before the 10 wanted pairs converge here (about 27 steps). So one run misses two copies
  // and reports 3.2 and 3.0 in their place.
  const single = await lanczosEigs(s.op, { k: 10, confirm: false });
  const fours = (r: LanczosResult) => r.eigenvalues.filter((v) => Math.abs(v - 4) < 1e-6).length;
  t.diagnostic(`one run: ${single.eigenvalues.map((v) => v.toFixed(6)).join(" ")} (${single.steps} steps)`);
  assert.ok(fours(single) < 3, "a single run found every copy: this test no longer shows why confirmation runs exist");
  const r = await lanczosEigs(s.op, { k: 10 });
  t.diagnostic(`with confirmation: steps per run ${r.runSteps.join(" + ")}`);
  assert.equal(fours(r), 3);
  assert.ok(maxRelativeError(r.eigenvalues, want) <= 1e-8);
  assert.ok(r.confirmed);
  assert.equal(r.convergedCount, 10);
  // Each missing copy costs one deflated run; the last run finds nothing new.
  assert.ok(r.runSteps.length >= 3);
  s.op.dispose();
});

test("few distinct eigenvalues: the Krylov space closes, the run restarts from new random vectors, every copy is found", async () => {
  // diag(5, 5, 5, 4, 4, 3, 0, ..., 0) applied entrywise (no rounding in the product): a Krylov
  // space holds one direction of each eigenspace, so it closes after 4 steps (beta = 0 exactly
  // up to rounding) and the run restarts in the orthogonal complement.
  const values = Array.from({ length: 100 }, (_, i) => [5, 5, 5, 4, 4, 3][i] ?? 0);
  const d = np.array(Float64Array.from(values), { dtype: np.float64 });
  const op = makeOperator(100, "float64", "diag(5, 5, 5, 4, 4, 3, 0, ...)", (v) => v.ref.mul(d.ref), () => d.dispose());
  const r = await lanczosEigs(op, { k: 6, vectors: true });
  assert.ok(maxRelativeError(r.eigenvalues, [5, 5, 5, 4, 4, 3]) <= 1e-12, `got ${r.eigenvalues}`);
  assert.ok(r.restarts >= 1, `restarts ${r.restarts}`);
  assert.ok(r.confirmed);
  // Copies from different runs are orthogonal eigenvectors (a deflation gone wrong shows here).
  const Y = r.vectors!;
  for (let i = 0; i < 6; i++) {
    for (let j = 0; j <= i; j++) assert.ok(Math.abs(dotHost(Y[i], Y[j]) - (i === j ? 1 : 0)) < 1e-12, `y${i}.y${j}`);
    const res = Math.hypot(...Y[i].map((y, t) => (values[t] - r.eigenvalues[i]) * y));
    assert.ok(res < 1e-12, `pair ${i}: residual ${res}`);
  }
  // The smallest: zeros (5 of the 94), judged against 1e-3 ||A|| (relative accuracy means
  // nothing there); the confirmation runs work where A is zero, on the scale of ||A||.
  const z = await lanczosEigs(op, { k: 5, which: "smallest" });
  assert.ok(z.eigenvalues.every((v) => Math.abs(v) < 1e-12), `got ${z.eigenvalues}`);
  assert.equal(z.convergedCount, 5);
  assert.ok(z.confirmed);
  op.dispose();
});

test("same seed, same numbers; another seed, the same eigenvalues from other start vectors", async () => {
  const s = knownSpectrum(tripleFour(), 13);
  const a = await lanczosEigs(s.op, { k: 10, seed: 3, vectors: true });
  const b = await lanczosEigs(s.op, { k: 10, seed: 3, vectors: true });
  assert.deepEqual(withoutSeconds(a), withoutSeconds(b));
  assert.deepEqual(a.vectors, b.vectors);
  const c = await lanczosEigs(s.op, { k: 10, seed: 4 });
  assert.notDeepEqual(c.residuals, a.residuals);
  assert.ok(maxRelativeError(c.eigenvalues, a.eigenvalues) <= 1e-8);
  s.op.dispose();
});

test("a run that reaches maxSteps reports unconverged pairs and skips confirmation; progress is reported", async () => {
  const s = knownSpectrum(outliersOverBulk(), 11);
  const seen: number[] = [];
  const r = await lanczosEigs(s.op, { k: 10, which: "smallest", maxSteps: 20, onProgress: (p) => seen.push(p.step) });
  assert.equal(r.steps, 20);
  assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => i + 1));
  assert.ok(r.convergedCount < 10);
  assert.equal(r.confirmed, false);
  assert.deepEqual(r.runSteps, [20]);
  s.op.dispose();
});

test("bad options are InputErrors naming the option", async () => {
  const s = knownSpectrum([3, 2, 1, 0.5, 0.1], 1);
  const bad: [object, string][] = [
    [{ k: 0 }, "k"],
    [{ k: 6 }, "k"],
    [{ k: 2.5 }, "k"],
    [{ which: "top" }, "which"],
    [{ tol: 0 }, "tol"],
    [{ tol: Number.NaN }, "tol"],
    [{ k: 3, maxSteps: 2 }, "maxSteps"],
    [{ maxSteps: 6 }, "maxSteps"],
    [{ seed: 0.5 }, "seed"],
  ];
  for (const [opts, input] of bad) {
    await assert.rejects(lanczosEigs(s.op, { k: 2, ...opts }), (e: unknown) => e instanceof InputError && e.input === input, JSON.stringify(opts));
  }
  // The default k (6) does not fit a 5-dimensional operator either.
  await assert.rejects(lanczosEigs(s.op), (e: unknown) => e instanceof InputError && e.input === "k");
  assert.equal(s.op.matvecs, 0);
  s.op.dispose();
});

test("k near the size: the confirmation runs find the deflated space exhausted and stop (all k equal the dense eigenvalues)", async () => {
  const values = Array.from({ length: 24 }, (_, i) => (i < 6 ? 0 : 1 + i * 0.37 * (i % 2 ? 1 : -1)));
  const s = knownSpectrum(values, 3);
  for (const k of [18, 21, 23]) {
    const r = await lanczosEigs(s.op, { k, which: "largest" });
    const err = Math.max(...r.eigenvalues.map((v, i) => Math.abs(v - expectedEigenvalues(s.values, "largest", k)[i])));
    assert.equal(r.eigenvalues.length, k);
    assert.ok(err <= 1e-8 * 9, `k = ${k}: max abs error ${err}`);
  }
  s.op.dispose();
});
