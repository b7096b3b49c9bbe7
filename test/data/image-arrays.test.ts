// Image datasets from .npy/.npz: a [n, C, H, W] array keeps its [C, H, W] row shape (so image
// models get images), and layout=nhwc moves channels first; fixtures written by numpy
// (bench/fixtures/make_images.py), values recomputed here from their closed form.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadData, parseDataSpec } from "../../src/data/spec.ts";
import { fixture, throwsInput } from "./helpers.ts";

// x[i, c, h, w] = i + c / 10 + h / 100 + w / 1000 on [2, 3, 4, 5], float32; labels [1, 0].
const expected: number[] = [];
for (let i = 0; i < 2; i++) for (let c = 0; c < 3; c++) for (let h = 0; h < 4; h++) for (let w = 0; w < 5; w++) {
  expected.push(Math.fround(i + c / 10 + h / 100 + w / 1000));
}

test("npy and npz of shape [n, C, H, W] keep the row shape [C, H, W] and the C-order values", () => {
  const npy = loadData(`npy:${fixture("images_nchw.npy")},${fixture("images_nchw_y.npy")}`);
  const npz = loadData(`npz:${fixture("images.npz")}`);
  for (const ds of [npy, npz]) {
    assert.deepEqual(ds.featureShape, [3, 4, 5]);
    assert.ok(ds.x instanceof Float32Array);
    assert.deepEqual(Array.from(ds.x), expected);
    assert.deepEqual([...ds.y], [1, 0]);
    assert.equal(ds.numClasses, 2);
  }
  // layout=nchw is the default: the same dataset.
  assert.deepEqual(loadData(`npz:${fixture("images.npz")},layout=nchw`).x, npz.x);
});

test("layout=nhwc: [n, H, W, C] becomes [n, C, H, W]; without it the stored shape is kept", () => {
  const nhwc = loadData(`npz:${fixture("images.npz")},x=x_nhwc,layout=nhwc`);
  assert.deepEqual(nhwc.featureShape, [3, 4, 5]);
  assert.deepEqual(Array.from(nhwc.x), expected);
  const asStored = loadData(`npz:${fixture("images.npz")},x=x_nhwc`);
  assert.deepEqual(asStored.featureShape, [4, 5, 3]);
  // Stored channels last: element [i, h, w, c] at ((i*4 + h)*5 + w)*3 + c.
  assert.equal(asStored.x[((1 * 4 + 2) * 5 + 3) * 3 + 1], Math.fround(1 + 0.1 + 0.02 + 0.003));
  assert.deepEqual(parseDataSpec("npy:a.npy,b.npy,layout=nhwc"), { kind: "npy", x: "a.npy", y: "b.npy", layout: "nhwc" });
  assert.deepEqual(parseDataSpec("npy:a.npy,b.npy,layout=nchw"), { kind: "npy", x: "a.npy", y: "b.npy" });
  throwsInput(() => parseDataSpec("npz:a.npz,layout=chw"), "layout=chw", "nchw", "nhwc");
  throwsInput(() => parseDataSpec("csv:a.csv,layout=nhwc"), 'unknown key "layout"');
  throwsInput(() => loadData(`npy:${fixture("data_x.npy")},${fixture("data_y.npy")},layout=nhwc`), "data_x.npy", "layout=nhwc expects 4-D");
});
