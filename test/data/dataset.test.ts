import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../../src/errors.ts";
import { featureSize, numRows, validateDataset, type Dataset } from "../../src/data/dataset.ts";

const ok: Dataset = {
  x: new Float32Array([0, 1, 2, 3, 4, 5]),
  featureShape: [3],
  y: new Int32Array([0, 1]),
  numClasses: 2,
  name: "toy",
};

function throwsInput(fn: () => unknown, ...parts: (string | RegExp)[]) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${e}`);
    for (const p of parts) {
      if (typeof p === "string") assert.ok(e.message.includes(p), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(p)}`);
      else assert.match(e.message, p);
    }
    return true;
  });
}

test("a valid dataset passes and sizes are right", () => {
  assert.equal(validateDataset(ok, "toy"), ok);
  assert.equal(featureSize(ok), 3);
  assert.equal(numRows(ok), 2);
  assert.equal(featureSize({ featureShape: [1, 28, 28] }), 784);
});

test("empty dataset", () => {
  throwsInput(() => validateDataset({ ...ok, x: new Float32Array(0), y: new Int32Array(0) }, "data: toy"), "data: toy", "empty dataset");
});

test("NaN and Inf name the row and column", () => {
  const x = new Float64Array(6); x[4] = NaN;
  throwsInput(() => validateDataset({ ...ok, x }, "toy"), "toy", "row 1", "column 1", "NaN");
  const x2 = new Float64Array(6); x2[2] = -Infinity;
  throwsInput(() => validateDataset({ ...ok, x: x2 }, "toy"), "row 0", "column 2", "-Infinity");
  // Image-shaped rows: the flat feature and its [c,h,w] index.
  const img = new Float32Array(2 * 2 * 3); img[6 + 5] = Infinity;
  throwsInput(() => validateDataset({ ...ok, x: img, featureShape: [1, 2, 3] }, "imgs"), "row 1", "feature 5 [0,1,2]");
});

test("labels out of range", () => {
  throwsInput(() => validateDataset({ ...ok, y: new Int32Array([0, 2]) }, "toy"), "label 2 at row 1", "0..1");
  throwsInput(() => validateDataset({ ...ok, y: new Int32Array([-1, 0]) }, "toy"), "label -1 at row 0");
});

test("labels that are not an Int32Array (so not integers) are refused", () => {
  const y = new Float64Array([0, 0.5]) as unknown as Int32Array;
  throwsInput(() => validateDataset({ ...ok, y }, "toy"), "Int32Array");
});

test("length mismatch between x and y", () => {
  throwsInput(() => validateDataset({ ...ok, y: new Int32Array([0, 1, 1]) }, "toy"), "6 feature values = 2 rows", "3 labels");
  throwsInput(() => validateDataset({ ...ok, x: new Float32Array(7) }, "toy"), "7 feature values", "2 labels");
  throwsInput(() => validateDataset({ ...ok, x: new Float32Array(0) }, "toy"), "0 feature values = 0 rows", "2 labels");
});

test("bad feature shape and class count", () => {
  throwsInput(() => validateDataset({ ...ok, featureShape: [0, 3] }, "toy"), "feature shape");
  throwsInput(() => validateDataset({ ...ok, numClasses: 0 }, "toy"), "number of classes");
});
