// Eigenvalue matching and the Wasserstein-1 distance against hand-computed answers and an
// independent formula (for equal-size unweighted spectra W1 = mean |sorted a_i - sorted b_i|).
import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../../src/errors.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { matchEigenvalues, wasserstein1 } from "../../src/spectrum/matching.ts";

test("pairs the top m in order, relative to the first spectrum", () => {
  const r = matchEigenvalues([0.1, 10, 5, 2], [5.5, 0, 9, 2, 1]);
  assert.equal(r.m, 4);
  assert.deepEqual(r.pairs.map((p) => [p.a, p.b]), [[10, 9], [5, 5.5], [2, 2], [0.1, 1]]);
  assert.deepEqual(r.pairs.map((p) => p.relDiff), [0.1, 0.1, 0, Math.abs(0.1 - 1) / 0.1]);
  assert.equal(r.maxAbsDiff, 1);
  assert.equal(r.maxRelDiff, Math.abs(0.1 - 1) / 0.1);
  const top2 = matchEigenvalues([0.1, 10, 5, 2], [5.5, 0, 9, 2, 1], { m: 2 });
  assert.equal(top2.maxRelDiff, 0.1);
  assert.ok(Math.abs(top2.meanRelDiff! - 0.1) < 1e-15);
  const low = matchEigenvalues([-3, 1, 2], [-2, 0, 4], { which: "smallest", m: 1 });
  assert.deepEqual(low.pairs, [{ a: -3, b: -2, absDiff: 1, relDiff: 1 / 3 }]);
  const mag = matchEigenvalues([-3, 1, 2], [-2, 0, 4], { which: "magnitude", m: 2 });
  assert.deepEqual(mag.pairs.map((p) => [p.a, p.b]), [[-3, 4], [2, -2]]);
  // A zero reference against a non-zero value has no relative difference.
  const z = matchEigenvalues([0, 0], [0, 1]);
  assert.deepEqual(z.pairs.map((p) => p.relDiff), [null, 0]);
  assert.equal(z.maxRelDiff, null);
  assert.deepEqual(JSON.parse(JSON.stringify(z)), z);
});

test("Wasserstein-1: hand cases, shifts, weights", () => {
  assert.equal(wasserstein1([0], [1]).distance, 1);
  assert.equal(wasserstein1([0, 1], [0, 2]).distance, 0.5);
  assert.equal(wasserstein1([3, 1, 2], [2, 3, 1]).distance, 0);
  assert.ok(Math.abs(wasserstein1([1, 2, 3], [1.5, 2.5, 3.5]).distance - 0.5) < 1e-15);
  // Different sizes: {0, 1} against {0, 0, 1, 1} is the same distribution.
  assert.equal(wasserstein1([0, 1], [0, 0, 1, 1]).distance, 0);
  // Weights: equal to repeating values, and normalized.
  const w = wasserstein1({ values: [0, 1], weights: [3, 1] }, [0, 0, 0, 1]);
  assert.equal(w.distance, 0);
  assert.ok(Math.abs(wasserstein1({ values: [0, 1], weights: [0.3, 0.1] }, [1]).distance - 0.75) < 1e-15);
  // relative: distance / mean |a|.
  assert.equal(wasserstein1([2, -2], [2, 2]).relative, 2 / 2);
  assert.equal(wasserstein1([0, 0], [1]).relative, null);
});

test("Wasserstein-1 of equal-size spectra equals the mean gap of the sorted values, 20 seeds", () => {
  for (let seed = 0; seed < 20; seed++) {
    const rng = hostRng(seed);
    const n = 50 + seed;
    const a = Array.from({ length: n }, () => rng.normal());
    const b = Array.from({ length: n }, () => 2 * rng.uniform() - 0.5);
    const sa = [...a].sort((x, y) => x - y), sb = [...b].sort((x, y) => x - y);
    const expected = sa.reduce((s, x, i) => s + Math.abs(x - sb[i]), 0) / n;
    const got = wasserstein1(a, b).distance;
    assert.ok(Math.abs(got - expected) < 1e-12, `seed ${seed}: ${got} vs ${expected}`);
    assert.ok(Math.abs(wasserstein1(b, a).distance - got) < 1e-12); // symmetric
  }
});

test("bad input: InputError naming the input", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => matchEigenvalues([1, NaN], [1]), /^a: expected finite/],
    [() => matchEigenvalues([1], []), /^b: expected at least one/],
    [() => matchEigenvalues([1, 2], [1, 2], { m: 3 }), /^m: expected an integer >= 1 and <= 2/],
    [() => matchEigenvalues([1], [1], { which: "top" as never }), /^which/],
    [() => wasserstein1({ values: [1, 2], weights: [1] }, [1]), /^a.weights: expected 2 weights/],
    [() => wasserstein1([1], { values: [1], weights: [-1] }), /^b.weights: expected finite weights >= 0/],
    [() => wasserstein1([1], { values: [1], weights: [0] }), /^b.weights: expected weights with a positive sum/],
    [() => wasserstein1([1], { values: [Infinity], weights: [1] }), /^b.values: expected finite/],
  ];
  for (const [f, msg] of cases) assert.throws(f, (e: unknown) => e instanceof InputError && msg.test(e.message));
});
