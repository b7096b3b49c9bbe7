// Random projections for subspace training (src/landscape/subspace.ts): the fast Walsh-Hadamard
// transform and Fastfood against dense Hadamard matrices, the norm properties each kind
// documents, gradients through P z against P^T g from the dense P, jit, and bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np, jit, grad, type Array } from "../../src/engine/jax.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { InputError } from "../../src/errors.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { lossValue } from "../../src/nn/loss.ts";
import { toDeviceBatch } from "../../src/data/device-batches.ts";
import {
  AUTO_DENSE_LIMIT, chooseProjection, denseProjectionMatrix, fastfoodParameters, fwht, makeProjection,
  sparseProjectionMatrix, type Projection, type ProjectionKind,
} from "../../src/landscape/subspace.ts";

await startEngine({ device: "wasm" });

const f64 = (a: ArrayLike<number>) => np.array(Float64Array.from(a), { dtype: np.float64 });
const read = async (a: Array) => Float64Array.from(await a.data());

/** The unnormalized Sylvester Hadamard matrix, H_ij = (-1)^popcount(i & j), row-major. */
function hadamard(L: number): Float64Array {
  const H = new Float64Array(L * L);
  for (let i = 0; i < L; i++) {
    for (let j = 0; j < L; j++) {
      let b = i & j, p = 0;
      while (b) p ^= b & 1, b >>= 1;
      H[i * L + j] = p ? -1 : 1;
    }
  }
  return H;
}

/** The dense D x d matrix of a projection, column j = P e_j (row-major). */
async function denseOf(proj: Projection): Promise<Float64Array> {
  const { d, D } = proj;
  const P = new Float64Array(D * d);
  for (let j = 0; j < d; j++) {
    const e = new Float64Array(d);
    e[j] = 1;
    const col = await read(proj.apply(f64(e)));
    assert.equal(col.length, D);
    for (let i = 0; i < D; i++) P[i * d + j] = col[i]!;
  }
  return P;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const sq = (x: ArrayLike<number>) => { let s = 0; for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!; return s; };

test("fwht equals the dense Hadamard matrix (vectors and a batch, every radix), and its gradient is H w", async () => {
  for (const L of [1, 2, 8, 64, 512]) {
    const H = hadamard(L);
    const rng = hostRng(L);
    const X = Float64Array.from({ length: 3 * L }, () => rng.normal());
    const ref = new Float64Array(3 * L);
    for (let r = 0; r < 3; r++) for (let i = 0; i < L; i++) {
      let s = 0;
      for (let j = 0; j < L; j++) s += H[i * L + j]! * X[r * L + j]!;
      ref[r * L + i] = s;
    }
    const w = X.slice(0, L);
    const Hw = new Float64Array(L);
    for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) Hw[i] += H[j * L + i]! * w[j]!;
    for (const radix of [1, 2, 3, 6]) {
      // A batch [3, L] of random rows: each row transformed.
      const Y = await read(fwht(f64(X).reshape([3, L]), radix));
      assert.ok(maxAbsDiff(Y, ref) < 1e-12 * L, `L = ${L}, radix ${radix}: ${maxAbsDiff(Y, ref)}`);
      // One vector; and the identity maps to H itself.
      assert.ok(maxAbsDiff(await read(fwht(f64(X.slice(L, 2 * L)), radix)), ref.slice(L, 2 * L)) < 1e-12 * L);
      const I = new Float64Array(L * L);
      for (let i = 0; i < L; i++) I[i * L + i] = 1;
      assert.equal(maxAbsDiff(await read(fwht(f64(I).reshape([L, L]), radix)), H), 0, `H of L = ${L}, radix ${radix}`);
      // d/dx <w, H x> = H^T w, under jit.
      const gradFn = jit(grad((x: Array) => fwht(x, radix).mul(f64(w)).sum()));
      const g = await read(gradFn(np.zeros([L], { dtype: np.float64 })));
      gradFn.dispose();
      assert.ok(maxAbsDiff(g, Hw) < 1e-12 * L, `grad L = ${L}, radix ${radix}`);
    }
  }
  // float32: the same transform to float32 rounding.
  const x32 = await read(fwht(np.array(Float32Array.from({ length: 256 }, (_, i) => Math.sin(i)), { dtype: np.float32 })));
  const x64 = await read(fwht(f64(Float64Array.from({ length: 256 }, (_, i) => Math.fround(Math.sin(i))))));
  assert.ok(maxAbsDiff(x32, x64) < 1e-4);
  assert.throws(() => fwht(np.zeros([6], { dtype: np.float64 })), /power of two/);
});

test("fastfood equals (H G Pi H B)[0:D, 0:d] / sqrt(D sum G^2) built from dense Hadamard matrices", async () => {
  for (const [d, D] of [[5, 37], [3, 16], [16, 16], [7, 9]] as const) {
    const seed = 11 + d;
    const proj = makeProjection(d, D, { kind: "fastfood", seed, dtype: "float64" });
    const f = fastfoodParameters(d, D, seed);
    const L = f.L;
    assert.equal(L, 2 ** Math.ceil(Math.log2(Math.max(d, D))));
    assert.equal(proj.settings.fastfoodLength, L);
    const H = hadamard(L);
    // M = H diag(G) Pi H diag(B); (Pi v)_i = v[perm_i], so (Pi H)_{i,j} = H_{perm_i, j}.
    const P = new Float64Array(D * d);
    for (let r = 0; r < D; r++) {
      for (let c = 0; c < d; c++) {
        let s = 0;
        for (let i = 0; i < L; i++) s += H[r * L + i]! * f.gauss[i]! * H[f.perm[i]! * L + c]! * f.signs[c]!;
        P[r * d + c] = s * f.scale;
      }
    }
    const got = await denseOf(proj);
    assert.ok(maxAbsDiff(got, P) < 1e-12, `d=${d}, D=${D}: ${maxAbsDiff(got, P)}`);
    proj.dispose();
  }
});

test("dense and sparse have exactly unit columns; sparse has density about 1/sqrt(D)", async () => {
  const d = 6, D = 400;
  for (const kind of ["dense", "sparse"] as const) {
    const proj = makeProjection(d, D, { kind, seed: 3, dtype: "float64" });
    const P = await denseOf(proj);
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let i = 0; i < D; i++) s += P[i * d + j]! ** 2;
      assert.ok(Math.abs(Math.sqrt(s) - 1) < 1e-12, `${kind} column ${j}: norm ${Math.sqrt(s)}`);
    }
    // The device matrix is the host one.
    const host = kind === "dense" ? denseProjectionMatrix(d, D, 3) : null;
    if (host) assert.ok(maxAbsDiff(P, host) < 1e-15);
    proj.dispose();
  }
  // Density: nonzeros ~ Binomial(d D, 1/sqrt(D)); with d D = 40,000 and D = 10,000 (s = 100)
  // the mean is 400 and the standard deviation ~20: 5 sd is 100.
  const m = sparseProjectionMatrix(100, 10000, 5);
  assert.equal(m.s, 100);
  assert.ok(Math.abs(m.nonzeros - 10000) < 5 * Math.sqrt(10000), `nonzeros ${m.nonzeros} for an expected 10,000`);
  // Every nonzero of a column has magnitude 1/sqrt(nnz of the column): values are +-1/sqrt(k).
  for (let i = 0; i < m.vals.length; i++) {
    const v = Math.abs(m.vals[i]!);
    if (v !== 0) assert.ok(Math.abs(1 / (v * v) - Math.round(1 / (v * v))) < 1e-9);
  }
});

test("E||Pz||^2 = ||z||^2 for every kind: the mean over 300 draws is within 4 standard errors of 1", async () => {
  const d = 5, D = 24;
  const z = Float64Array.of(0.3, -1.2, 2.0, 0.7, -0.4);
  const zz = sq(z);
  for (const kind of ["dense", "sparse", "fastfood"] as ProjectionKind[]) {
    const ratios: number[] = [];
    for (let seed = 0; seed < 300; seed++) {
      const proj = makeProjection(d, D, { kind, seed, dtype: "float64" });
      ratios.push(sq(await read(proj.apply(f64(z)))) / zz);
      proj.dispose();
    }
    const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
    const sd = Math.sqrt(ratios.reduce((a, b) => a + (b - mean) ** 2, 0) / (ratios.length - 1));
    const se = sd / Math.sqrt(ratios.length);
    console.log(`# ${kind}: mean ||Pz||^2/||z||^2 = ${mean.toFixed(4)} (sd of one draw ${sd.toFixed(3)}, se ${se.toFixed(4)})`);
    assert.ok(sd > 0, `${kind}: no spread at all`);
    assert.ok(Math.abs(mean - 1) < 4 * se, `${kind}: mean ${mean}, standard error ${se}`);
  }
});

test("a single draw with d << D keeps ||Pz|| within 10% of ||z|| (near-orthogonal columns)", async () => {
  // d / D = 20 / 20,000: the relative deviation is O(sqrt(d / D)) ~ 0.03; 10% is > 3 of those.
  const d = 20, D = 20000;
  const rng = hostRng(7);
  const z = Float64Array.from({ length: d }, () => rng.normal());
  for (const kind of ["dense", "sparse", "fastfood"] as ProjectionKind[]) {
    const proj = makeProjection(d, D, { kind, seed: 2, dtype: "float64" });
    const ratio = Math.sqrt(sq(await read(proj.apply(f64(z)))) / sq(z));
    console.log(`# ${kind}: ||Pz||/||z|| = ${ratio.toFixed(4)} at d=${d}, D=${D}`);
    assert.ok(Math.abs(ratio - 1) < 0.1, `${kind}: ${ratio}`);
    proj.dispose();
  }
});

test("the gradient through P z under jit equals P^T g from the dense P, for every kind", async () => {
  const d = 7, D = 50;
  const rng = hostRng(9);
  const g = Float64Array.from({ length: D }, () => rng.normal());
  const z0 = Float64Array.from({ length: d }, () => rng.normal());
  for (const kind of ["dense", "sparse", "fastfood"] as ProjectionKind[]) {
    const proj = makeProjection(d, D, { kind, seed: 4, dtype: "float64" });
    const P = await denseOf(proj);
    // A nonlinear function of theta = P z: f = <g, Pz> + 0.5 ||Pz||^2, gradient P^T (g + P z).
    const f = (z: Array, params: Array[], gg: Array) => {
      const t = proj.project(params, z);
      return t.ref.mul(gg).sum().add(t.ref.mul(t).sum().mul(0.5));
    };
    const gradFn = jit(grad(f));
    const got = await read(gradFn(f64(z0), proj.params.map((p) => p.ref), f64(g)));
    const Pz = new Float64Array(D);
    for (let i = 0; i < D; i++) for (let j = 0; j < d; j++) Pz[i] += P[i * d + j]! * z0[j]!;
    const ref = new Float64Array(d);
    for (let j = 0; j < d; j++) for (let i = 0; i < D; i++) ref[j] += P[i * d + j]! * (g[i]! + Pz[i]!);
    assert.ok(maxAbsDiff(got, ref) < 1e-10, `${kind}: ${maxAbsDiff(got, ref)}`);
    // The same jitted function with the same constants reruns without retracing issues.
    const again = await read(gradFn(f64(z0), proj.params.map((p) => p.ref), f64(g)));
    assert.deepEqual(again, got);
    gradFn.dispose();
    proj.dispose();
  }
});

test("the gradient of an MLP's loss at theta0 + P z under jit equals P^T grad L(theta) for every kind", async () => {
  // The cotangent reaching P z here comes from the model's backward pass, as in training.
  // (jax-js 0.1.25 under jit mishandles a CONSTANT cotangent flowing into the gather's transpose,
  // e.g. grad of sum(P z) for fastfood: it throws "scatter input is not imm" or, after the
  // Fastfood diagonals, returns wrong numbers; eager is right. Losses never give such cotangents.)
  const model = parseModel("mlp:4-6-3:tanh");
  const data = loadData("gmm:k=3,d=4,n=10,sep=2,seed=1");
  const b = toDeviceBatch(model, data, Int32Array.from({ length: 30 }, (_, i) => i), "float64");
  const D = model.size, d = 9;
  const theta0 = model.init(0);
  const rng = hostRng(5);
  const z0 = Float64Array.from({ length: d }, () => rng.normal());
  const lossAt = (theta: Array, x: Array, t: Array) => lossValue("cross-entropy", model.apply(theta, x), t);
  const gradTheta = jit(grad(lossAt));
  for (const kind of ["dense", "sparse", "fastfood"] as ProjectionKind[]) {
    const proj = makeProjection(d, D, { kind, seed: 6, dtype: "float64" });
    const P = await denseOf(proj);
    const theta = Float64Array.from(theta0);
    for (let i = 0; i < D; i++) for (let j = 0; j < d; j++) theta[i] += P[i * d + j]! * z0[j]!;
    const g = await read(gradTheta(f64(theta), b.x.ref, b.targets.ref));
    const ref = new Float64Array(d);
    for (let j = 0; j < d; j++) for (let i = 0; i < D; i++) ref[j] += P[i * d + j]! * g[i]!;
    const gz = jit(grad((z: Array, params: Array[], t0: Array, x: Array, t: Array) => lossAt(t0.add(proj.project(params, z)), x, t)));
    const got = await read(gz(f64(z0), proj.params.map((p) => p.ref), f64(theta0), b.x.ref, b.targets.ref));
    gz.dispose();
    const scale = Math.max(...ref.map(Math.abs));
    assert.ok(maxAbsDiff(got, ref) < 1e-6 * scale, `${kind}: ${maxAbsDiff(got, ref)} (scale ${scale})`);
    proj.dispose();
  }
  gradTheta.dispose();
  b.x.dispose(), b.targets.dispose(), b.labels.dispose();
});

test("seeded, auto choice, float32, and bad input", async () => {
  const a = await denseOf(makeProjection(3, 20, { kind: "fastfood", seed: 1, dtype: "float64" }));
  const b = await denseOf(makeProjection(3, 20, { kind: "fastfood", seed: 1, dtype: "float64" }));
  const c = await denseOf(makeProjection(3, 20, { kind: "fastfood", seed: 2, dtype: "float64" }));
  assert.deepEqual(a, b);
  assert.ok(maxAbsDiff(a, c) > 0.01);
  assert.equal(chooseProjection(10, AUTO_DENSE_LIMIT / 10), "dense");
  assert.equal(chooseProjection(10, AUTO_DENSE_LIMIT / 10 + 1), "fastfood");
  const auto = makeProjection(4, 30);
  assert.equal(auto.kind, "dense");
  assert.equal(auto.settings.requested, "auto");
  const p32 = await read(auto.apply(np.ones([4], { dtype: np.float32 })));
  const p64 = await read(makeProjection(4, 30, { dtype: "float64" }).apply(f64([1, 1, 1, 1])));
  assert.ok(maxAbsDiff(p32, p64) < 1e-6);
  assert.throws(() => makeProjection(0, 10), InputError);
  assert.throws(() => makeProjection(11, 10), InputError);
  assert.throws(() => makeProjection(2, 10, { kind: "orthogonal" as never }), InputError);
  assert.throws(() => makeProjection(2, 10, { seed: -1 }), InputError);
  assert.throws(() => denseProjectionMatrix(2 ** 13, 2 ** 14, 0), /over the limit/);
});
