// Interpolation between two solutions: endpoints equal the models' own losses, the barrier of a
// quadratic path equals its closed form, and (linear mode connectivity) weight matching lowers the
// barrier between two independently trained MLPs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { train } from "../../src/train/train.ts";
import { modelObjective, quadraticObjective } from "../../src/landscape/objective.ts";
import { interpolate, interpolatePath, pathAlphas } from "../../src/landscape/interpolation.ts";
import { matchWeights, permuteHiddenUnits } from "../../src/landscape/weight-matching.ts";

await startEngine({ device: "wasm" });

test("pathAlphas: an even grid with 0 and 1 always in it, snapped, sorted, without duplicates", () => {
  assert.deepEqual(pathAlphas({ points: 5 }), [0, 0.25, 0.5, 0.75, 1]);
  const wide = pathAlphas({ points: 25, from: -0.5, to: 1.5 });
  assert.equal(wide.length, 25);
  assert.ok(wide.includes(0) && wide.includes(1) && wide.includes(0.5));
  assert.equal(wide[0], -0.5);
  assert.equal(wide[24], 1.5);
  // A grid that misses 0 and 1 gets them added.
  assert.deepEqual(pathAlphas({ points: 3, from: 0.2, to: 0.8 }), [0, 0.2, 0.5, 0.8, 1]);
  assert.deepEqual(pathAlphas({ alphas: [0.5, 1e-12, 2, 0.5] }), [0, 0.5, 1, 2]);
  assert.throws(() => pathAlphas({ points: 1 }), /points/);
  assert.throws(() => pathAlphas({ from: 1, to: 0 }), /from < to/);
  assert.throws(() => pathAlphas({ alphas: [NaN] }), /finite/);
});

test("interpolatePath on a model: the endpoint losses and accuracies equal objective.evaluate at the two models exactly", async () => {
  const model = parseModel("mlp:4-6-3:tanh");
  const data = loadData("gmm:k=3,d=4,n=10,sep=2,seed=1");
  const obj = modelObjective(model, data, { batchSize: 7 });
  try {
    const a = model.init(0), b = model.init(1);
    const [ea, eb] = [await obj.evaluate(a), await obj.evaluate(b)];
    const r = await interpolatePath(obj, a, b, { points: 9, from: -0.5, to: 1.5 });
    assert.equal(r.lossA, ea.loss);
    assert.equal(r.lossB, eb.loss);
    assert.equal(r.accuracy[r.alphas.indexOf(0)], ea.accuracy);
    assert.equal(r.accuracy[r.alphas.indexOf(1)], eb.accuracy);
    assert.deepEqual(r.alphas, [-0.5, -0.25, 0, 0.25, 0.5, 0.75, 1, 1.25, 1.5]);
    assert.equal(r.evaluations, 9);
    // An inner point is the loss of the interpolated parameters.
    assert.equal(r.loss[4], (await obj.evaluate(interpolate(a, b, 0.5))).loss);
    let d = 0;
    for (let i = 0; i < a.length; i++) d += (a[i] - b[i]) ** 2;
    assert.ok(Math.abs(r.distance - Math.sqrt(d)) <= 1e-12 * r.distance);
    assert.ok(r.barrier >= 0 && r.seconds >= 0);
    assert.deepEqual(r.settings, { points: 9, from: -0.5, to: 1.5, explicitAlphas: false });
    assert.deepEqual(JSON.parse(JSON.stringify(r)).loss, r.loss);
  } finally {
    obj.dispose();
  }
});

test("interpolatePath on a quadratic: the loss is the closed-form parabola and the barrier is -d'Ad/8 at alpha 1/2", async () => {
  // L(theta) = 0.5 theta'A theta - b'theta with A indefinite. Along theta_A + alpha d the loss is
  // L(0) + alpha g'd + alpha^2 d'Ad / 2; its excess over the chord is -(d'Ad / 2) alpha (1 - alpha),
  // so the barrier is -d'Ad / 8 at alpha = 1/2 when d'Ad < 0, and 0 when d'Ad >= 0.
  const A = [2, 0.5, 0, 0.5, -3, 0.25, 0, 0.25, 1];
  const b = [0.3, -0.2, 0.1];
  const obj = quadraticObjective(A, b, 0.7);
  const quad = (x: number[], y: number[]) => {
    let s = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += x[i] * A[i * 3 + j] * y[j];
    return s;
  };
  const ta = [0.4, -1, 0.2];
  for (const [tb, negative] of [[[0.1, 1.2, -0.3], true], [[2, 0, -1], false]] as const) {
    const d = tb.map((v, i) => v - ta[i]);
    const curv = quad(d, d);
    assert.equal(curv < 0, negative);
    const r = await interpolatePath(obj, ta, tb, { points: 21, from: -0.5, to: 1.5 });
    const L0 = r.lossA, L1 = r.lossB;
    r.alphas.forEach((alpha, i) => {
      const chord = (1 - alpha) * L0 + alpha * L1;
      const expected = chord - 0.5 * curv * alpha * (1 - alpha);
      assert.ok(Math.abs(r.loss[i] - expected) <= 1e-12 * (1 + Math.abs(expected)), `alpha ${alpha}: ${r.loss[i]} vs ${expected}`);
    });
    if (negative) {
      assert.ok(Math.abs(r.barrier - -curv / 8) <= 1e-12 * Math.abs(curv), `barrier ${r.barrier} vs ${-curv / 8}`);
      assert.equal(r.barrierAlpha, 0.5);
    } else {
      assert.equal(r.barrier, 0);
    }
  }
  // A grid without 1/2 sees less than the supremum: the barrier is a lower bound.
  const tb = [0.1, 1.2, -0.3], d = tb.map((v, i) => v - ta[i]);
  const coarse = await interpolatePath(obj, ta, tb, { alphas: [0, 0.25, 1] });
  assert.ok(Math.abs(coarse.barrier - (-quad(d, d) / 2) * 0.25 * 0.75) <= 1e-12 * Math.abs(quad(d, d)));
});

test("linear mode connectivity: after weight matching, the barrier between two MLPs trained from different seeds is lower", async () => {
  // Ainsworth et al. (2023): wide enough networks are linearly connected modulo permutations. Two
  // hidden layers of 32 on a 3-cluster mixture, 20 epochs each (about 1 s each).
  const model = parseModel("mlp:4-32-32-3:relu");
  const data = loadData("gmm:k=3,d=4,n=50,sep=2,seed=1");
  const obj = modelObjective(model, data);
  try {
    for (const [s1, s2] of [[0, 1], [2, 3]]) {
      const [a, b] = await Promise.all([s1, s2].map((seed) => train({ model, train: data, epochs: 20, seed, batchSize: 32 })));
      const naive = await interpolatePath(obj, a.theta, b.theta, { points: 11 });
      const m = matchWeights(model, a.theta, b.theta, { seed: s1 });
      const bMatched = permuteHiddenUnits(model, b.theta, m.perms);
      const matched = await interpolatePath(obj, a.theta, bMatched, { points: 11 });
      // The matched endpoint is the same function: same loss (up to summation order).
      assert.ok(Math.abs(matched.lossB - naive.lossB) <= 1e-6 * naive.lossB);
      assert.ok(m.distanceAfter < m.distanceBefore);
      console.log(`seeds ${s1},${s2}: losses ${naive.lossA.toFixed(4)} ${naive.lossB.toFixed(4)}; barrier naive ${naive.barrier.toFixed(4)}, matched ${matched.barrier.toFixed(4)}; distance ${m.distanceBefore.toFixed(2)} -> ${m.distanceAfter.toFixed(2)}`);
      assert.ok(matched.barrier <= naive.barrier, `seeds ${s1},${s2}: matched barrier ${matched.barrier} > naive ${naive.barrier}`);
    }
  } finally {
    obj.dispose();
  }
});
