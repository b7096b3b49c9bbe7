import { test } from "node:test";
import assert from "node:assert/strict";
import { trainTestSplit } from "../../src/data/split.ts";
import { gaussianMixture } from "../../src/data/gmm.ts";
import { validateDataset } from "../../src/data/dataset.ts";
import { throwsInput } from "./helpers.ts";

const ds = gaussianMixture({ k: 3, d: 4, n: 100, seed: 2 }); // 300 rows

test("split sizes, disjoint and complete, rows copied faithfully, original order kept", () => {
  const s = trainTestSplit(ds, { fraction: 0.8, seed: 1 });
  assert.equal(s.train.y.length, 240);
  assert.equal(s.test.y.length, 60);
  validateDataset(s.train);
  validateDataset(s.test);
  const all = [...s.trainIndices, ...s.testIndices].sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 300 }, (_, i) => i));
  for (const idx of [s.trainIndices, s.testIndices]) for (let i = 1; i < idx.length; i++) assert.ok(idx[i]! > idx[i - 1]!);
  s.trainIndices.forEach((r, i) => {
    assert.equal(s.train.y[i], ds.y[r]);
    assert.deepEqual(s.train.x.subarray(i * 4, i * 4 + 4), ds.x.subarray(r * 4, r * 4 + 4));
  });
  assert.ok(s.train.x instanceof Float64Array);
  assert.equal(s.train.numClasses, 3);
  assert.deepEqual(s.train.featureShape, [4]);
  assert.match(s.train.name, /^gmm:.* \(train 0\.8, seed 1\)$/);
});

test("same seed same split, different seed different split; fraction rounds", () => {
  const a = trainTestSplit(ds, { seed: 4 }), b = trainTestSplit(ds, { seed: 4 }), c = trainTestSplit(ds, { seed: 5 });
  assert.deepEqual(a.trainIndices, b.trainIndices);
  assert.notDeepEqual(a.trainIndices, c.trainIndices);
  assert.equal(a.train.y.length, 240); // default fraction 0.8
  assert.equal(trainTestSplit(ds, { fraction: 0.5011 }).train.y.length, 150);
});

test("the test share of a class is about the test fraction (not stratified, but random)", () => {
  // Each row lands in test with probability 0.2 (hypergeometric): for a class of 1000 rows out of
  // 3000 the test count has sd < sqrt(1000 * 0.2 * 0.8) = 12.6; 5 sd = 63.
  const big = gaussianMixture({ k: 3, d: 1, n: 1000, seed: 0 });
  const s = trainTestSplit(big, { fraction: 0.8, seed: 3 });
  const counts = [0, 0, 0];
  for (const c of s.test.y) counts[c]!++;
  for (const c of counts) assert.ok(Math.abs(c - 200) < 63, `${counts}`);
});

test("bad fractions are InputErrors", () => {
  throwsInput(() => trainTestSplit(ds, { fraction: 1 }), "split fraction", "(0, 1)");
  throwsInput(() => trainTestSplit(ds, { fraction: 0 }), "split fraction");
  throwsInput(() => trainTestSplit(ds, { fraction: NaN }), "split fraction");
  throwsInput(() => trainTestSplit(ds, { fraction: 0.999 }), "leaves 300 to train and 0 to test");
});
