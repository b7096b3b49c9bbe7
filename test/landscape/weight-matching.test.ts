// Weight matching (Git Re-Basin) against its defining properties: the assignment solver against
// brute force, permutations that are bijections and keep the network's function, a planted
// permutation recovered exactly, and the L2 distance never increased.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np } from "../../src/engine/jax.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { fromHost } from "../../src/tree/vector.ts";
import { InputError } from "../../src/errors.ts";
import { hiddenWidths, matchWeights, maximizeAssignment, permuteHiddenUnits } from "../../src/landscape/weight-matching.ts";

await startEngine({ device: "wasm" });

function bruteForceMax(C: Float64Array, n: number): number {
  let best = -Infinity;
  const p = Array.from({ length: n }, (_, i) => i);
  const visit = (k: number) => {
    if (k === n) {
      let s = 0;
      for (let i = 0; i < n; i++) s += C[i * n + p[i]];
      best = Math.max(best, s);
      return;
    }
    for (let i = k; i < n; i++) {
      [p[k], p[i]] = [p[i], p[k]];
      visit(k + 1);
      [p[k], p[i]] = [p[i], p[k]];
    }
  };
  visit(0);
  return best;
}

function isPermutation(p: readonly number[], n: number): boolean {
  return p.length === n && new Set(p).size === n && p.every((j) => Number.isInteger(j) && j >= 0 && j < n);
}

function randomPermutation(n: number, rng: ReturnType<typeof hostRng>): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

test("maximizeAssignment equals brute force on random small matrices (ties included)", () => {
  const rng = hostRng(7);
  for (let trial = 0; trial < 60; trial++) {
    const n = 1 + (trial % 7);
    const C = new Float64Array(n * n);
    // Every third matrix has small integer entries, so that ties occur.
    for (let i = 0; i < C.length; i++) C[i] = trial % 3 === 0 ? rng.int(3) - 1 : rng.normal();
    const p = maximizeAssignment(C, n);
    assert.ok(isPermutation(p, n), `trial ${trial}: not a permutation ${p}`);
    let value = 0;
    for (let i = 0; i < n; i++) value += C[i * n + p[i]];
    const best = bruteForceMax(C, n);
    assert.ok(Math.abs(value - best) <= 1e-12 * (1 + Math.abs(best)), `trial ${trial} (n=${n}): ${value} vs brute force ${best}`);
  }
  assert.deepEqual(maximizeAssignment(new Float64Array(0), 0), []);
});

test("maximizeAssignment on a 300 x 300 planted permutation finds it (and quickly)", () => {
  const n = 300, rng = hostRng(3), planted = randomPermutation(n, rng);
  const C = new Float64Array(n * n);
  for (let i = 0; i < C.length; i++) C[i] = rng.uniform();
  for (let i = 0; i < n; i++) C[i * n + planted[i]] = 2; // strictly the best in its row and column
  const t0 = performance.now();
  assert.deepEqual(maximizeAssignment(C, n), planted);
  assert.ok(performance.now() - t0 < 5000);
});

const data = loadData("gmm:k=3,d=4,n=10,sep=2,seed=1");

async function outputs(model: ReturnType<typeof parseModel>, theta: ArrayLike<number>): Promise<Float64Array> {
  const x = np.array(Float64Array.from(data.x as ArrayLike<number>), { dtype: np.float64 }).reshape([data.y.length, 4]);
  const out = model.apply(fromHost(theta, "float64"), x);
  return Float64Array.from(await out.data());
}

test("permuteHiddenUnits moves rows of the layer in, bias entries, and columns of the layer out", () => {
  // mlp:2-3-1: 0.weight [3, 2] at 0..5, 0.bias [3] at 6..8, 2.weight [1, 3] at 9..11, 2.bias at 12.
  const model = parseModel("mlp:2-3-1:tanh");
  const theta = Float64Array.from({ length: model.size }, (_, i) => i);
  const p = [2, 0, 1]; // new unit i is old unit p[i]
  assert.deepEqual(Array.from(permuteHiddenUnits(model, theta, [p])), [4, 5, 0, 1, 2, 3, 8, 6, 7, 11, 9, 10, 12]);
});

for (const spec of ["mlp:4-6-3:tanh", "mlp:4-8-7-3:relu", "mlp:4-5-6-5-3:gelu:nobias", "mlp:4-64-64-3:relu"]) {
  test(`${spec}: a planted permutation of A is recovered exactly, and permuting preserves the function`, async () => {
    const model = parseModel(spec);
    const widths = hiddenWidths(model);
    for (const seed of [0, 1, 2, 3, 4]) {
      const rng = hostRng(100 + seed);
      const A = model.init(seed);
      const planted = widths.map((n) => randomPermutation(n, rng));
      const B = permuteHiddenUnits(model, A, planted);
      assert.ok(Math.sqrt(A.reduce((s, a, i) => s + (a - B[i]) ** 2, 0)) > 0.1, "the planted permutation moves the weights");
      // Function preserved: same outputs on every example (only summation order differs).
      const [yA, yB] = await Promise.all([outputs(model, A), outputs(model, B)]);
      for (let i = 0; i < yA.length; i++) assert.ok(Math.abs(yA[i] - yB[i]) <= 1e-6 * (1 + Math.abs(yA[i])), `output ${i}: ${yA[i]} vs ${yB[i]}`);
      const r = matchWeights(model, A, B, { seed });
      r.perms.forEach((p, h) => assert.ok(isPermutation(p, widths[h])));
      assert.equal(r.distanceAfter, 0, `seed ${seed}: distance after matching ${r.distanceAfter}`);
      assert.deepEqual(permuteHiddenUnits(model, B, r.perms), A);
      assert.ok(r.converged);
      assert.equal(JSON.parse(JSON.stringify(r)).distanceAfter, 0);
    }
  });
}

test("matching independent networks: true permutations, the L2 distance never increases, the function is kept", async () => {
  for (const spec of ["mlp:4-16-3:tanh", "mlp:4-12-10-3:relu", "mlp:4-6-7-5-3:tanh"]) {
    const model = parseModel(spec);
    const widths = hiddenWidths(model);
    for (const seed of [0, 1, 2, 3]) {
      const A = model.init(seed), B = model.init(seed + 10);
      const r = matchWeights(model, A, B, { seed });
      r.perms.forEach((p, h) => assert.ok(isPermutation(p, widths[h]), `${spec} seed ${seed}: layer ${h} not a bijection`));
      const P = permuteHiddenUnits(model, B, r.perms);
      let d = 0, nB = 0, nP = 0;
      for (let i = 0; i < A.length; i++) { d += (A[i] - P[i]) ** 2; nB += B[i] ** 2; nP += P[i] ** 2; }
      assert.ok(Math.abs(Math.sqrt(d) - r.distanceAfter) <= 1e-12 * r.distanceBefore);
      assert.ok(Math.abs(nB - nP) <= 1e-12 * nB, "a permutation keeps the norm");
      assert.ok(r.distanceAfter <= r.distanceBefore, `${spec} seed ${seed}: ${r.distanceAfter} > ${r.distanceBefore}`);
      assert.ok(r.innerAfter >= r.innerBefore);
      assert.ok(r.converged && r.iterations >= 1 && r.assignments >= r.iterations * widths.length);
      // Each sweep only accepts improving moves: stopping early can never end farther away.
      for (const maxIterations of [1, 2]) {
        const early = matchWeights(model, A, B, { seed, maxIterations });
        assert.ok(early.distanceAfter <= r.distanceBefore && early.iterations <= 2 * maxIterations, "two starts, each at most maxIterations sweeps");
      }
      const [yB, yP] = await Promise.all([outputs(model, B), outputs(model, P)]);
      for (let i = 0; i < yB.length; i++) assert.ok(Math.abs(yB[i] - yP[i]) <= 1e-6 * (1 + Math.abs(yB[i])));
      // Matching with independent networks moves B strictly closer in these wide-enough cases.
      assert.ok(r.distanceAfter < r.distanceBefore, `${spec} seed ${seed}: no improvement`);
    }
  }
});

test("matching and permuting reject non-MLPs and bad permutations with InputErrors naming the input", () => {
  const cnn = parseModel("cnn:lenet:in=1x12x12,classes=3,c1=2,c2=3,k=3");
  const theta = cnn.init(0);
  assert.throws(() => matchWeights(cnn, theta, theta), (e: unknown) => e instanceof InputError && e.input === "match" && /MLP/.test(e.message));
  const model = parseModel("mlp:4-6-3:tanh");
  const A = model.init(0);
  assert.throws(() => permuteHiddenUnits(model, A, [[0, 1, 2, 3, 4, 4]]), (e: unknown) => e instanceof InputError && /not a permutation/.test(e.message));
  assert.throws(() => permuteHiddenUnits(model, A, []), (e: unknown) => e instanceof InputError && /1 permutations/.test(e.message));
  assert.throws(() => matchWeights(model, A, A.subarray(1)), (e: unknown) => e instanceof InputError && /theta B/.test(e.message));
  // No hidden layer: nothing to permute, nothing changes.
  const linear = parseModel("mlp:4-3:linear");
  const r = matchWeights(linear, linear.init(0), linear.init(1));
  assert.deepEqual(r.perms, []);
  assert.equal(r.distanceAfter, r.distanceBefore);
});
