// Stochastic Lanczos quadrature against dense oracles: the Gauss rule of every probe against the
// moments v^T A^k v computed on the host; the density against the dense eigenvalues of a real
// Hessian (Wasserstein-1); trace and Frobenius estimates against the exact values over 20 seeds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { InputError } from "../../src/errors.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { makeProblem } from "../../src/curvature/problem.ts";
import { curvatureOperator } from "../../src/curvature/make.ts";
import { exactSpectrum } from "../../src/linalg/exact-spectrum.ts";
import { slqQuadrature, spectralDensity, summarizeSlq, type SpectralDensity } from "../../src/linalg/slq.ts";
import { lanczosTridiagonal } from "../../src/linalg/lanczos-tridiagonal.ts";
import { probeSeeds, probeVector, readHost } from "../../src/linalg/sampling.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { hostMatvec, synthetic, wasserstein1, withoutSeconds } from "./stochastic-helpers.ts";

await startEngine({ device: "wasm" });

const atomsOf = (d: SpectralDensity) =>
  d.quadrature.flatMap((q) => q.nodes.map((t, i) => [t, q.weights[i] / d.quadrature.length] as const));

test("each probe's rule reproduces v^T A^k v for k <= 2m - 1 (Gauss quadrature), both probe kinds", async () => {
  const rng = hostRng(3);
  const values = Array.from({ length: 60 }, () => 3 * rng.uniform() - 1); // in [-1, 2)
  const s = synthetic(values, 11);
  const steps = 10, probes = 3, seed = 5;
  for (const probe of ["rademacher", "gaussian"] as const) {
    const d = await spectralDensity(s.op, { probes, steps, seed, probe });
    assert.equal(d.matvecs, probes * steps);
    const seeds = probeSeeds(seed, probes);
    for (let j = 0; j < probes; j++) {
      const q = d.quadrature[j];
      assert.equal(q.steps, steps);
      assert.ok(!q.breakdown);
      // The same probe, rebuilt on the host, normalized.
      const v = await readHost(probeVector(probe, seeds[j], 60, "float64"));
      const nv = Math.hypot(...v);
      let x: Float64Array = v.map((a) => a / nv);
      const v0 = x;
      for (let k = 0; k <= 2 * steps - 1; k++) {
        const exact = v0.reduce((acc, a, i) => acc + a * x[i], 0);
        const quad = q.nodes.reduce((acc, t, i) => acc + q.weights[i] * t ** k, 0);
        // Moments grow like ||A||^k <= 2^k; full reorthogonalization keeps the rule exact to
        // rounding (plain Lanczos would drift here once Ritz values converge).
        assert.ok(Math.abs(quad - exact) <= 1e-11 * 2 ** k, `${probe} probe ${j}, k=${k}: ${quad} vs ${exact}`);
        x = hostMatvec(s.A, x);
      }
      assert.ok(Math.abs(q.weights.reduce((a, b) => a + b, 0) - 1) < 1e-13);
    }
  }
  s.op.dispose();
});

test("a spectrum with 3 distinct eigenvalues: the run stops after 3 steps with the exact rule", async () => {
  const distinct = [-1, 0.5, 2];
  const values = Array.from({ length: 40 }, (_, i) => distinct[i % 3]);
  const s = synthetic(values, 4);
  const d = await spectralDensity(s.op, { probes: 2, steps: 20, seed: 1 });
  const seeds = probeSeeds(1, 2);
  for (let j = 0; j < 2; j++) {
    const q = d.quadrature[j];
    assert.ok(q.breakdown, "stopped on the invariant subspace");
    assert.equal(q.steps, 3);
    const v = await readHost(probeVector("rademacher", seeds[j], 40, "float64"));
    for (let a = 0; a < 3; a++) {
      assert.ok(Math.abs(q.nodes[a] - distinct.slice().sort((x, y) => x - y)[a]) < 1e-12, `node ${q.nodes[a]}`);
      // Weight of eigenvalue lambda = ||P_lambda v||^2 / ||v||^2, from the dense eigenvectors.
      const lambda = q.nodes[a];
      let w = 0;
      for (let c = 0; c < 40; c++) {
        if (Math.abs(values[c] - lambda) > 1e-9) continue;
        let p = 0;
        for (let i = 0; i < 40; i++) p += s.Q.data[i * 40 + c] * v[i];
        w += (p * p) / 40;
      }
      assert.ok(Math.abs(q.weights[a] - w) < 1e-12, `weight ${q.weights[a]} vs ${w}`);
    }
  }
  assert.equal(d.matvecs, 6, "a broken-down probe costs only its steps");
  s.op.dispose();
});

test("no ghost Ritz values: after the outliers converge, each appears once with its exact weight", async () => {
  // Plain three-term Lanczos loses orthogonality once a Ritz value converges and then finds the
  // same eigenvalue again ("ghosts"), doubling its weight in the density. 60 steps on n = 100
  // with 4 outliers converge them in the first ~15 steps.
  const rng = hostRng(6);
  const outliers = [50, 30, -20, 12];
  const values = Array.from({ length: 100 }, (_, i) => (i < 4 ? outliers[i] : rng.uniform() - 0.5));
  const s = synthetic(values, 12);
  const d = await spectralDensity(s.op, { probes: 2, steps: 60, seed: 3 });
  const seeds = probeSeeds(3, 2);
  for (let j = 0; j < 2; j++) {
    const q = d.quadrature[j];
    const v = await readHost(probeVector("rademacher", seeds[j], 100, "float64"));
    for (let c = 0; c < 4; c++) {
      const near = q.nodes.map((t, i) => [t, q.weights[i]]).filter(([t]) => Math.abs(t - outliers[c]) < 0.5);
      assert.equal(near.length, 1, `probe ${j}: ${near.length} Ritz values near ${outliers[c]}: ${JSON.stringify(near)}`);
      let p = 0;
      for (let i = 0; i < 100; i++) p += s.Q.data[i * 100 + c] * v[i];
      assert.ok(Math.abs(near[0][0] - outliers[c]) < 1e-10 * 50, `node ${near[0][0]} vs ${outliers[c]}`);
      assert.ok(Math.abs(near[0][1] - (p * p) / 100) < 1e-12, `weight ${near[0][1]} vs ${(p * p) / 100}`);
    }
  }
  s.op.dispose();
});

test("a long run (45 steps: the basis grows through blocks of every size) gives the T of a host float64 Lanczos", async () => {
  // Oracle: Lanczos on the host with two full modified Gram-Schmidt passes per step, from the
  // same start; both are the projection V^T A V of the same Krylov space, to rounding.
  const rng = hostRng(9);
  const values = Array.from({ length: 120 }, (_, i) => (i < 3 ? 8 + 4 * i : 3 * rng.uniform() - 1));
  const s = synthetic(values, 13);
  const steps = 45, n = 120;
  const start = probeVector("gaussian", 21, n, "float64");
  const t = await lanczosTridiagonal(s.op, start, steps);
  const v = await readHost(start);
  assert.equal(t.steps, steps);
  assert.ok(!t.breakdown);
  const nv = Math.hypot(...v);
  const V: Float64Array[] = [v.map((a) => a / nv)];
  const alpha: number[] = [], beta: number[] = [];
  for (let j = 0; j < steps; j++) {
    const w = hostMatvec(s.A, V[j]);
    alpha.push(V[j].reduce((acc, a, i) => acc + a * w[i], 0));
    for (let pass = 0; pass < 2; pass++) {
      for (const u of V) {
        const c = u.reduce((acc, a, i) => acc + a * w[i], 0);
        for (let i = 0; i < n; i++) w[i] -= c * u[i];
      }
    }
    const b = Math.hypot(...w);
    beta.push(b);
    V.push(w.map((a) => a / b));
  }
  // ||A|| = 16: entries agree to a few thousand unit roundoffs of it (measured: under 10).
  for (let j = 0; j < steps; j++) {
    assert.ok(Math.abs(t.alpha[j] - alpha[j]) < 1e-12 * 16, `alpha_${j}: ${t.alpha[j]} vs ${alpha[j]}`);
    if (j < steps - 1) assert.ok(Math.abs(t.beta[j] - beta[j]) < 1e-12 * 16, `beta_${j}: ${t.beta[j]} vs ${beta[j]}`);
  }
  assert.ok(Math.abs(t.residual - beta[steps - 1]) < 1e-12 * 16, `residual ${t.residual} vs ${beta[steps - 1]}`);
  s.op.dispose();
});

// The real Hessian: a small tanh MLP on a 5-cluster Gaussian mixture, float64, at its init.
const model = parseModel("mlp:6-16-5:tanh");
const problem = makeProblem(model, loadData("gmm:k=5,d=6,n=100,sep=3,seed=0"), model.init(0), { dtype: "float64" });
const hessian = curvatureOperator(problem, { operator: "hessian" });
const exact = await exactSpectrum(hessian);
const lambdas = exact.eigenvalues;
const n = hessian.size;
const exactTrace = lambdas.reduce((a, b) => a + b, 0);
const exactFro = lambdas.reduce((a, b) => a + b * b, 0);

test("Hessian: Wasserstein-1 distance of the SLQ distribution and density to the dense eigenvalues", async () => {
  const probes = 10, steps = 40;
  const d = await spectralDensity(hessian, { probes, steps, seed: 1 });
  const truth = lambdas.map((l) => [l, 1 / n] as const);
  const R = lambdas[n - 1] - lambdas[0];
  // Bound = quadrature term + probe term.
  // Quadrature: the m-node Gauss rule of probe v integrates every f exactly up to 2 E_{2m-1}(f)
  // (positive weights summing to 1, nodes inside [lambda_min, lambda_max]), and for 1-Lipschitz f
  // Jackson's theorem gives E_d(f) <= pi (R/2) / (2 (d + 1)), so the rule is within pi R / (4 m)
  // of the probe's own spectral measure sum_k (v.u_k)^2 delta(lambda_k) in W1.
  const quadrature = (Math.PI * R) / (4 * steps);
  // Probes: that measure's CDF at x is v^T P_x v (P_x the spectral projector), whose variance with
  // normalized random signs is 2 (||P||_F^2 - sum_i P_ii^2) / n^2 <= 2 F(1 - F) / n, F the exact
  // CDF; so E W1 <= integral sqrt(2 F (1 - F) / (n p)) dx (Jensen). W1 averages |F_p - F| over x
  // and concentrates: 3 x this bound on its mean leaves room for an unlucky draw.
  let probeMean = 0;
  for (let i = 0; i < n - 1; i++) {
    const F = (i + 1) / n;
    probeMean += Math.sqrt((2 * F * (1 - F)) / (n * probes)) * (lambdas[i + 1] - lambdas[i]);
  }
  const bound = quadrature + 3 * probeMean;
  const w1 = wasserstein1(atomsOf(d), truth);
  // The density on the grid, as grid atoms of mass y h (normalized): broadening moves mass by
  // E|N(0, sigma^2)| = sigma sqrt(2/pi) at most, and binning to the grid by h / 2.
  const h = d.density.x[1] - d.density.x[0];
  const gridAtoms = d.density.x.map((x, k) => [x, (d.density.y[k] * h) / d.density.integral] as const);
  const w1Density = wasserstein1(gridAtoms, truth);
  const densityBound = bound + d.density.sigma * Math.sqrt(2 / Math.PI) + h / 2;
  console.log(
    `  n=${n}, range ${R.toFixed(3)}: W1(nodes) ${w1.toExponential(2)} (bound ${bound.toExponential(2)} = quadrature ${quadrature.toExponential(2)} + 3 x probes ${probeMean.toExponential(2)}), ` +
      `W1(density, sigma ${d.density.sigma.toExponential(2)}) ${w1Density.toExponential(2)} (bound ${densityBound.toExponential(2)}); ${d.matvecs} products, ${d.seconds.toFixed(1)} s`,
  );
  assert.ok(w1 <= bound, `W1 ${w1} > ${bound}`);
  assert.ok(w1Density <= densityBound, `W1 of the density ${w1Density} > ${densityBound}`);
  assert.ok(Math.abs(d.density.integral - 1) < 1e-3, `density integrates to ${d.density.integral}`);
  // Extreme Ritz values converge first: within the spectrum, close to its ends.
  assert.ok(d.range.min >= lambdas[0] - 1e-10 && d.range.max <= lambdas[n - 1] + 1e-10);
  assert.ok(lambdas[n - 1] - d.range.max < 1e-6 * R && d.range.min - lambdas[0] < 1e-6 * R, `range ${JSON.stringify(d.range)}`);
  assert.equal(d.settings.sigma, R > 0 ? (d.range.max - d.range.min) / steps : 1);
  assert.ok(JSON.parse(JSON.stringify(d)).quadrature.length === probes, "JSON-serializable");

  // The trace and Frobenius estimates do not depend on the number of steps (>= 2): they are
  // v^T A v and ||A v||^2 of the same probes.
  const short = await spectralDensity(hessian, { probes, steps: 2, seed: 1 });
  for (let j = 0; j < probes; j++) {
    assert.ok(Math.abs(short.trace.samples[j] - d.trace.samples[j]) <= 1e-10 * Math.abs(exactTrace) + 1e-12);
    assert.ok(Math.abs(short.frobeniusSquared.samples[j] - d.frobeniusSquared.samples[j]) <= 1e-10 * exactFro);
  }
});

test("Hessian: tr and ||.||_F^2 estimates within 3 standard errors of the exact values for 20 seeds", async () => {
  // With 10 probes, (estimate - exact) / SE follows roughly Student's t with 9 degrees of
  // freedom: P(|t| > 3) = 0.015, so 20 seeds miss 0.3 times on average and P(>= 2 misses) = 0.036.
  // We allow 1 miss per quantity. Steps = 2 suffice: the estimates are exact moments of the probes.
  const misses = { trace: 0, frobenius: 0 };
  const lines: string[] = [];
  for (let seed = 0; seed < 20; seed++) {
    const d = await spectralDensity(hessian, { probes: 10, steps: 2, seed });
    const zt = (d.trace.estimate - exactTrace) / d.trace.standardError!;
    const zf = (d.frobeniusSquared.estimate - exactFro) / d.frobeniusSquared.standardError!;
    if (Math.abs(zt) > 3) misses.trace++;
    if (Math.abs(zf) > 3) misses.frobenius++;
    lines.push(`${zt.toFixed(2)}/${zf.toFixed(2)}`);
  }
  console.log(`  exact tr ${exactTrace.toFixed(4)}, ||H||_F^2 ${exactFro.toFixed(4)}; error / SE per seed (tr/F): ${lines.join(" ")}`);
  assert.ok(misses.trace <= 1, `trace outside 3 SE for ${misses.trace} of 20 seeds`);
  assert.ok(misses.frobenius <= 1, `Frobenius outside 3 SE for ${misses.frobenius} of 20 seeds`);
});

test("log scale: positive and negative parts of a signed spectrum, and the zero mass of a PSD one", async () => {
  const rng = hostRng(9);
  const logUniform = (count: number, lo: number, decades: number) => Array.from({ length: count }, () => 10 ** (lo + decades * rng.uniform()));
  const h = (x: readonly number[]) => x[1] - x[0];
  const integral = (x: readonly number[], y: readonly number[]) => y.reduce((acc, v, k) => acc + (k === 0 || k === y.length - 1 ? 0.5 : 1) * v * h(x), 0);
  const peakOf = (x: readonly number[], y: readonly number[]) => x[y.indexOf(Math.max(...y))];

  // Signed: 80 eigenvalues in [-1, -0.01] and 120 in [0.01, 10] (log-uniform).
  const signed = synthetic([...logUniform(80, -2, 2).map((v) => -v), ...logUniform(120, -2, 3)], 2);
  const d = await spectralDensity(signed.op, { probes: 10, steps: 60, seed: 0, logScale: true });
  const L = d.logDensity!;
  assert.ok(Math.abs(L.positiveMass + L.negativeMass + L.zeroMass - 1) < 1e-12);
  assert.ok(Math.abs(integral(L.x, L.positive) - L.positiveMass) < 1e-3, `positive integral ${integral(L.x, L.positive)} vs mass ${L.positiveMass}`);
  assert.ok(Math.abs(integral(L.x, L.negative) - L.negativeMass) < 1e-3);
  // The masses estimate the fractions 0.6 / 0.4: probe noise sd sqrt(2 F (1 - F) / (n p)) ~ 0.015,
  // and the Ritz values between the two parts (an interior gap of 0.02 converges slowly) can put
  // a few percent of weight on the wrong side.
  assert.ok(Math.abs(L.positiveMass - 0.6) < 0.08 && Math.abs(L.negativeMass - 0.4) < 0.08, `masses ${L.positiveMass} / ${L.negativeMass}`);
  assert.equal(L.floor, 1e-6 * Math.max(...d.quadrature.flatMap((q) => q.nodes.map(Math.abs))));
  // Each part peaks inside its decades: [-2, 1] for the positive one, [-2, 0] for the negative.
  assert.ok(peakOf(L.x, L.positive) >= -2.2 && peakOf(L.x, L.positive) <= 1.2, `positive peak at 10^${peakOf(L.x, L.positive)}`);
  assert.ok(peakOf(L.x, L.negative) >= -2.2 && peakOf(L.x, L.negative) <= 0.2, `negative peak at 10^${peakOf(L.x, L.negative)}`);

  // PSD with 40% zeros (a Gauss-Newton matrix of low rank): the zero cluster is the bottom end of
  // the spectrum, where Ritz values converge first (here to ~1e-7, below the floor 1e-5), so the
  // zero mass is estimated (0.4, probe noise sd ~0.015). An interior cluster at zero, in an
  // indefinite spectrum, converges slowly and its weight spreads over the nearby Ritz values.
  const psd = synthetic([...logUniform(120, -2, 3), ...Array.from({ length: 80 }, () => 0)], 3);
  const p = (await spectralDensity(psd.op, { probes: 10, steps: 60, seed: 0, logScale: true })).logDensity!;
  console.log(
    `  signed: positive ${L.positiveMass.toFixed(3)} (0.6), negative ${L.negativeMass.toFixed(3)} (0.4); ` +
      `PSD: zero ${p.zeroMass.toFixed(3)} (0.4), positive ${p.positiveMass.toFixed(3)} (0.6); floor ${p.floor.toExponential(1)}, sigma ${p.sigma.toFixed(3)} decades`,
  );
  assert.ok(Math.abs(p.zeroMass - 0.4) < 0.06 && p.negativeMass === 0, `zero mass ${p.zeroMass}, negative ${p.negativeMass}`);
  signed.op.dispose();
  psd.op.dispose();
});

test("same seed, same numbers; another seed, other numbers", async () => {
  const s = synthetic(Array.from({ length: 50 }, (_, i) => Math.sin(i)), 1);
  const a = await spectralDensity(s.op, { probes: 3, steps: 12, seed: 42, logScale: true });
  const b = await spectralDensity(s.op, { probes: 3, steps: 12, seed: 42, logScale: true });
  const c = await spectralDensity(s.op, { probes: 3, steps: 12, seed: 43, logScale: true });
  assert.deepEqual(withoutSeconds(a), withoutSeconds(b));
  assert.notDeepEqual(a.quadrature, c.quadrature);
  // A longer run extends a shorter one: probe j depends only on (seed, j).
  const longer = await spectralDensity(s.op, { probes: 4, steps: 12, seed: 42 });
  assert.deepEqual(longer.quadrature.slice(0, 3), a.quadrature);
  assert.deepEqual(a.settings, { probes: 3, steps: 12, seed: 42, probe: "rademacher", sigma: a.density.sigma, sigmaRule: "(max node - min node) / steps", grid: 1000, logScale: true, logFloor: 1e-6, logSigma: a.logDensity!.sigma });
  s.op.dispose();
});

test("probe by probe (a resumable run) gives the same result; a float32 operator the same rules to float32 accuracy", async () => {
  const values = Array.from({ length: 70 }, (_, i) => Math.cos(i) * (i < 3 ? 10 : 1));
  const s = synthetic(values, 8);
  const whole = await spectralDensity(s.op, { probes: 3, steps: 15, seed: 7 });
  const parts = [];
  for (let j = 0; j < 3; j++) parts.push(await slqQuadrature(s.op, { seed: 7, index: j, steps: 15 }));
  assert.deepEqual(parts, whole.quadrature);
  const summary = summarizeSlq(70, parts, { steps: 15, grid: 1000, logScale: false, logFloor: 1e-6 });
  assert.deepEqual(summary.density, whole.density);
  assert.deepEqual(summary.trace, whole.trace);

  const s32 = synthetic(values, 8, "float32");
  const single = await spectralDensity(s32.op, { probes: 3, steps: 15, seed: 7 });
  for (let j = 0; j < 3; j++) {
    // Extreme Ritz values are well conditioned: float32 rounding (~6e-8) times the norm (10),
    // amplified by a few steps of the recurrence.
    const a = whole.quadrature[j].nodes, b = single.quadrature[j].nodes;
    assert.ok(Math.abs(a[0] - b[0]) < 1e-4 && Math.abs(a[14] - b[14]) < 1e-4, `${a[0]}/${b[0]}, ${a[14]}/${b[14]}`);
    assert.ok(Math.abs(whole.trace.samples[j] - single.trace.samples[j]) < 1e-4 * 70);
  }
  s.op.dispose();
  s32.op.dispose();
});

test("bad options are input errors naming the option", async () => {
  const s = synthetic([1, 2, 3], 0);
  for (const [opts, name] of [
    [{ probes: 0 }, "probes"],
    [{ steps: 2.5 }, "steps"],
    [{ sigma: -1 }, "sigma"],
    [{ grid: 1 }, "grid"],
    [{ seed: 0.5 }, "seed"],
    [{ probe: "uniform" }, "probe"],
    [{ logFloor: 2 }, "logFloor"],
  ] as const) {
    await assert.rejects(spectralDensity(s.op, opts as object), (e: unknown) => e instanceof InputError && e.input === name);
  }
  s.op.dispose();
});
