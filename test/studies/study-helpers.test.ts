// The small functions the Hessian study's verdicts rest on, against cases with known answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../../src/errors.ts";
import { barrierOf, interpolate } from "../../src/landscape/interpolation.ts";
import { outlierRelation } from "../../src/studies/hessian/part-c-data.ts";
import { proxySpectrum } from "../../src/studies/hessian/part-f-mnist.ts";
import { mode, spreadFactor, topMean } from "../../src/studies/hessian/part-b-width.ts";
import { parseParts, PRESETS } from "../../src/studies/hessian/settings.ts";

test("barrierOf: the excess over the straight line between the endpoint losses, inside [0, 1] only", () => {
  const alphas = [-0.5, 0, 0.25, 0.5, 0.75, 1, 1.5];
  // Ends 1 and 0.5; the line at 0.5 is 0.75, the loss there 1.0: barrier 0.25 at 0.5. The
  // value 9 outside [0, 1] does not count.
  assert.deepEqual(barrierOf(alphas, [9, 1, 0.875, 1.0, 0.625, 0.5, 9]), { barrier: 0.25, alpha: 0.5 });
  // A bump below the higher end still counts (0.8 at 0.75 where the line is 0.625).
  const r = barrierOf(alphas, [9, 1, 0.875, 0.75, 0.8, 0.5, 9]);
  assert.ok(Math.abs(r.barrier - 0.175) < 1e-12 && r.alpha === 0.75, JSON.stringify(r));
  // Convex paths have none.
  assert.deepEqual(barrierOf(alphas, [3, 1, 0.6, 0.5, 0.6, 1, 3]), { barrier: 0, alpha: 0 });
  assert.throws(() => barrierOf([0.2, 0.5], [1, 2]), /include 0 and 1/);
});

test("interpolate: theta(alpha) = (1 - alpha) a + alpha b", () => {
  const a = [1, 2, 3], b = [3, 2, -1];
  assert.deepEqual(Array.from(interpolate(a, b, 0)), a);
  assert.deepEqual(Array.from(interpolate(a, b, 1)), b);
  assert.deepEqual(Array.from(interpolate(a, b, 0.5)), [2, 2, 1]);
  assert.deepEqual(Array.from(interpolate(a, b, -0.5)), [0, 2, 5]);
});

test("outlierRelation: counts that are 1..k whole groups of k (squared error) or k - 1 (cross-entropy)", () => {
  // Squared error: 3 = one group at k = 3, 25 = five groups at k = 5; 6 is not a multiple of 7.
  assert.deepEqual(outlierRelation([{ k: 3, count: 3 }, { k: 5, count: 25 }, { k: 7, count: 6 }], 0), {
    name: "k", offset: 0, matches: 2, total: 3, groups: [1, 5, null],
  });
  // Cross-entropy: 2 = one group of 2 at k = 3, 20 = five groups of 4 at k = 5; 25 is no multiple of 4.
  assert.deepEqual(outlierRelation([{ k: 3, count: 2 }, { k: 5, count: 20 }, { k: 5, count: 25 }], 1), {
    name: "k-1", offset: 1, matches: 2, total: 3, groups: [1, 5, null],
  });
  // No outliers, or more than k groups (12 = 4 groups of 3 at k = 3), do not follow.
  assert.equal(outlierRelation([{ k: 3, count: 0 }, { k: 3, count: 12 }], 0).matches, 0);
});

test("proxySpectrum: the top values exactly, the rest at quantiles of the quadrature measure", () => {
  // A measure with mass 0.5 at 0 and 0.5 at 1, n = 10, one exact top value 5: the top's mass
  // 1/10 comes off the upper atom, leaving 0.5 at 0 and 0.4 at 1 for 9 quantiles: 5 zeros, 4 ones.
  const q = [{ nodes: [0, 1], weights: [0.5, 0.5], steps: 2, residual: 0, breakdown: true }];
  assert.deepEqual(Array.from(proxySpectrum([5], q, 10)), [0, 0, 0, 0, 0, 1, 1, 1, 1, 5]);
  // Two probes average their weights.
  const q2 = [q[0], { nodes: [0, 1], weights: [1, 0], steps: 2, residual: 0, breakdown: true }];
  const p = Array.from(proxySpectrum([], q2, 8));
  assert.equal(p.filter((x) => x === 0).length, 6);
  assert.equal(p.filter((x) => x === 1).length, 2);
});

test("sweep summaries: mode, spread factor, top mean", () => {
  assert.equal(mode([4, 4, 3, 4, 2]), 4);
  assert.equal(mode([2, 3]), 2);
  assert.equal(spreadFactor([2, 8, 4]), 4);
  assert.equal(spreadFactor([3]), 1);
  assert.equal(topMean([1, 2, 3, 10, 20], 2), 15);
});

test("parseParts and the presets", () => {
  assert.deepEqual(parseParts("all"), ["a", "b", "c", "d", "e", "f"]);
  assert.deepEqual(parseParts("d, A"), ["a", "d"]);
  assert.throws(() => parseParts("a,q"), (e: unknown) => e instanceof InputError && /unknown part "q"/.test(e.message));
  assert.throws(() => parseParts(","), InputError);
  for (const p of Object.values(PRESETS)) {
    // The shape of each sweep: at least 4 widths over at least 10x; k from 2..10.
    assert.ok(p.widths.length >= 4 && Math.max(...p.widths) / Math.min(...p.widths) >= 10, `${p.preset} widths`);
    assert.ok(p.clusters.every((k) => k >= 2 && k <= 10), `${p.preset} clusters`);
    assert.ok(p.batches.alphas[0] === -0.5 && Math.abs(p.batches.alphas.at(-1)! - 1.5) < 1e-9, `${p.preset} alphas`);
    assert.ok(p.batches.alphas.some((a) => a === 0) && p.batches.alphas.some((a) => Math.abs(a - 1) < 1e-9));
    // MNIST MLP of at least 100k parameters.
    assert.ok(784 * p.mnist.hidden + p.mnist.hidden + 10 * p.mnist.hidden + 10 >= 100_000, `${p.preset} mnist size`);
  }
  assert.deepEqual(PRESETS.full.clusters, [2, 3, 4, 5, 6, 7, 8, 9, 10]);
});
