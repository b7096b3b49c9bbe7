import { test } from "node:test";
import assert from "node:assert/strict";
import { batchStream, epochBatches, gather, numBatches, permutation } from "../../src/data/batches.ts";
import type { Dataset } from "../../src/data/dataset.ts";
import { throwsInput } from "./helpers.ts";

const isPermutation = (idx: ArrayLike<number>, n: number) =>
  Array.from(idx).sort((a, b) => a - b).every((v, i) => v === i) && idx.length === n;

test("keep: every row once per epoch, last batch partial", () => {
  const b = epochBatches(10, 0, { batchSize: 4, seed: 1 });
  assert.deepEqual(b.map((x) => x.length), [4, 4, 2]);
  assert.ok(isPermutation(b.flatMap((x) => [...x]), 10));
  assert.equal(numBatches(10, 4), 3);
  assert.deepEqual(epochBatches(3, 0, { batchSize: 8 }).map((x) => x.length), [3]);
});

test("drop: equal batches, the remainder left out", () => {
  const b = epochBatches(10, 2, { batchSize: 4, seed: 1, lastBatch: "drop" });
  assert.deepEqual(b.map((x) => x.length), [4, 4]);
  assert.equal(new Set(b.flatMap((x) => [...x])).size, 8);
  assert.equal(numBatches(10, 4, "drop"), 2);
  throwsInput(() => epochBatches(3, 0, { batchSize: 4, lastBatch: "drop" }), "batch size", "no batch left");
  throwsInput(() => epochBatches(3, 0, { batchSize: 0 }), "batch size");
});

test("seeded: same (seed, epoch) same batches, other epochs and seeds differ; shuffle=false is in order", () => {
  const flat = (seed: number, epoch: number) => epochBatches(50, epoch, { batchSize: 7, seed }).flatMap((x) => [...x]);
  assert.deepEqual(flat(3, 5), flat(3, 5));
  assert.notDeepEqual(flat(3, 5), flat(3, 6));
  assert.notDeepEqual(flat(3, 5), flat(4, 5));
  assert.deepEqual(epochBatches(5, 9, { batchSize: 2, shuffle: false }).map((x) => [...x]), [[0, 1], [2, 3], [4]]);
});

test("shuffles are uniform: where row 0 lands over 5,000 epochs", () => {
  // Position of row 0 is uniform on 0..4: each count ~ Binomial(5000, 1/5), sd 28.3; 5 sd = 141.
  const counts = [0, 0, 0, 0, 0];
  for (let e = 0; e < 5000; e++) counts[epochBatches(5, e, { batchSize: 5, seed: 0 })[0]!.indexOf(0)]!++;
  for (const c of counts) assert.ok(Math.abs(c - 1000) < 141, `${counts}`);
  assert.ok(isPermutation(permutation(1000, 7), 1000));
});

test("batchStream numbers epochs and steps", () => {
  const s = [...batchStream(5, { batchSize: 2 }, 2, 3)];
  assert.deepEqual(s.map((b) => [b.epoch, b.step, b.indices.length]), [[3, 0, 2], [3, 1, 2], [3, 2, 1], [4, 3, 2], [4, 4, 2], [4, 5, 1]]);
  assert.deepEqual(s[0]!.indices, epochBatches(5, 3, { batchSize: 2 })[0]);
});

test("gather copies rows in order (repeats allowed), keeps or converts dtype", () => {
  const ds: Dataset = {
    x: Float64Array.from({ length: 5 * 6 }, (_, i) => i + 0.1),
    featureShape: [2, 3], y: new Int32Array([0, 1, 2, 1, 0]), numClasses: 3, name: "toy",
  };
  const g = gather(ds, [4, 0, 4]);
  assert.ok(g.x instanceof Float64Array);
  assert.deepEqual(g.shape, [3, 2, 3]);
  assert.deepEqual([...g.y], [0, 0, 0]);
  assert.deepEqual([...g.x.subarray(0, 6)], [24.1, 25.1, 26.1, 27.1, 28.1, 29.1]);
  assert.deepEqual([...g.x.subarray(6, 12)], [0.1, 1.1, 2.1, 3.1, 4.1, 5.1]);
  const f = gather(ds, new Int32Array([1]), { dtype: "float32" });
  assert.ok(f.x instanceof Float32Array);
  assert.deepEqual(f.x, Float32Array.from([6.1, 7.1, 8.1, 9.1, 10.1, 11.1]));
  ds.x[0] = 99; // a copy, not a view
  assert.equal(g.x[6], 0.1);
  assert.throws(() => gather(ds, [5]), RangeError);
  assert.throws(() => gather(ds, [-1]), RangeError);
  assert.equal(gather(ds, []).x.length, 0);
});
