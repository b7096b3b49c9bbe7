import { test } from "node:test";
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { loadData, parseDataSpec } from "../../src/data/spec.ts";
import { gaussianMixture } from "../../src/data/gmm.ts";
import { writeNpy } from "../../src/data/npy.ts";
import { fixture, throwsInput, withTmp } from "./helpers.ts";

const rel = (p: string) => relative(process.cwd(), p);
const X = rel(fixture("data_x.npy")), Y = rel(fixture("data_y.npy"));

test("parses the three kinds with defaults and common options", () => {
  assert.deepEqual(parseDataSpec("gmm:k=5,d=20,n=200,sep=3,seed=0"), { kind: "gmm", k: 5, d: 20, n: 200, sep: 3, seed: 0 });
  assert.deepEqual(parseDataSpec(" gmm : k=3, classes=2 , sep=0.5e1,randomLabels=9 "),
    { kind: "gmm", k: 3, d: 20, n: 200, sep: 5, seed: 0, classes: 2, randomLabels: 9 });
  assert.deepEqual(parseDataSpec("gmm"), { kind: "gmm", k: 5, d: 20, n: 200, sep: 3, seed: 0 });
  assert.deepEqual(parseDataSpec("mnist"), { kind: "mnist", n: 10000, normalize: "standardize" });
  assert.deepEqual(parseDataSpec("mnist:n=500,normalize=unit"), { kind: "mnist", n: 500, normalize: "unit" });
  assert.deepEqual(parseDataSpec("npy:a.npy,b.npy"), { kind: "npy", x: "a.npy", y: "b.npy" });
  assert.deepEqual(parseDataSpec("npy:y=l=1.npy,x=f.npy,classes=4,randomLabels=2"),
    { kind: "npy", x: "f.npy", y: "l=1.npy", classes: 4, randomLabels: 2 });
});

test("unknown kinds, unknown keys and bad values are InputErrors naming the spec and what is accepted", () => {
  throwsInput(() => parseDataSpec("cifar:n=5"), "cifar:n=5", 'unknown data kind "cifar"', "gmm:k=5", "mnist:n=10000", "npy:X.npy,y.npy", "randomLabels=SEED");
  throwsInput(() => parseDataSpec("gmm:k=5,sigma=2"), "gmm:k=5,sigma=2", 'unknown key "sigma"', "k, d, n, sep, seed, classes, randomLabels");
  throwsInput(() => parseDataSpec("mnist:k=5"), 'unknown key "k"', "n, normalize, randomLabels");
  throwsInput(() => parseDataSpec("gmm:k=0"), "gmm:k=0", "k=0: expected an integer >= 1");
  throwsInput(() => parseDataSpec("gmm:k=2.5"), "k=2.5");
  throwsInput(() => parseDataSpec("gmm:d=x"), "d=x");
  throwsInput(() => parseDataSpec("gmm:sep=-1"), "sep=-1", "finite number >= 0");
  throwsInput(() => parseDataSpec("gmm:sep=Infinity"), "sep=Infinity");
  throwsInput(() => parseDataSpec("gmm:seed=-1"), "seed=-1");
  throwsInput(() => parseDataSpec("gmm:k=3,classes=4"), "classes=4", "1..3");
  throwsInput(() => parseDataSpec("gmm:k=3,k=4"), 'key "k" given twice');
  throwsInput(() => parseDataSpec("gmm:k=3,,d=4"), "empty item");
  throwsInput(() => parseDataSpec("gmm:k="), 'key "k" has an empty value');
  throwsInput(() => parseDataSpec("gmm:5"), 'unexpected item "5"');
  throwsInput(() => parseDataSpec("mnist:n=10001"), "n=10001", "1..10000");
  throwsInput(() => parseDataSpec("mnist:normalize=minmax"), "normalize=minmax", "standardize or unit");
  throwsInput(() => parseDataSpec("npy:a.npy"), "npy:a.npy", "a features file and a labels file");
  throwsInput(() => parseDataSpec("npy:a.npy,b.npy,c.npy"), 'unexpected item "c.npy"');
  throwsInput(() => parseDataSpec("gmm:randomLabels=x"), "randomLabels=x");
  throwsInput(() => parseDataSpec(""), "data spec", 'unknown data kind ""');
});

test("loadData: gmm equals the generator and is named by the spec", () => {
  const ds = loadData("gmm:k=3,d=4,n=10,sep=2,seed=5,classes=2");
  const ref = gaussianMixture({ k: 3, d: 4, n: 10, sep: 2, seed: 5, classes: 2 });
  assert.deepEqual(ds.x, ref.x);
  assert.deepEqual(ds.y, ref.y);
  assert.equal(ds.numClasses, 2);
  assert.equal(ds.name, "gmm:k=3,d=4,n=10,sep=2,seed=5,classes=2");
});

test("loadData: mnist subset", () => {
  const ds = loadData("mnist:n=20");
  assert.equal(ds.y.length, 20);
  assert.deepEqual(ds.featureShape, [1, 28, 28]);
  assert.deepEqual([...ds.y], Array.from({ length: 20 }, (_, i) => i % 10));
});

test("loadData: npy features and labels, classes from max label or given", () => {
  const ds = loadData(`npy:${X},${Y}`);
  assert.ok(ds.x instanceof Float32Array);
  assert.deepEqual(ds.featureShape, [4]);
  assert.deepEqual([...ds.y], [0, 1, 2, 0, 1, 2]);
  assert.equal(ds.numClasses, 3);
  for (let r = 0; r < 6; r++) for (let j = 0; j < 4; j++) assert.equal(ds.x[r * 4 + j], Math.fround(r + j / 10));
  assert.equal(loadData(`npy:${X},${Y},classes=5`).numClasses, 5);
  // Images stored as uint8 (n, c, h, w): features become float32 with the same values.
  withTmp((dir) => {
    const px = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
    writeNpy(join(dir, "img.npy"), { shape: [3, 1, 2, 2], data: px });
    writeNpy(join(dir, "lab.npy"), { shape: [3], data: new Int32Array([2, 0, 1]) });
    const img = loadData(`npy:x=${join(dir, "img.npy")},y=${join(dir, "lab.npy")}`);
    assert.deepEqual(img.featureShape, [1, 2, 2]);
    assert.deepEqual(img.x, Float32Array.from(px));
    assert.deepEqual([...img.y], [2, 0, 1]);
  });
});

test("randomLabels: seeded uniform labels, features untouched", () => {
  const base = loadData("gmm:k=4,d=3,n=2500,seed=1");
  const a = loadData("gmm:k=4,d=3,n=2500,seed=1,randomLabels=7");
  const b = loadData("gmm:k=4,d=3,n=2500,seed=1,randomLabels=7");
  const c = loadData("gmm:k=4,d=3,n=2500,seed=1,randomLabels=8");
  assert.deepEqual(a.x, base.x);
  assert.deepEqual(a.y, b.y);
  assert.notDeepEqual(a.y, c.y);
  assert.equal(a.name, "gmm:k=4,d=3,n=2500,seed=1,randomLabels=7");
  // 10,000 uniform labels over 4 classes: each count is Binomial(10000, 1/4), sd 43; 5 sd = 217.
  // Agreement with the true labels is Binomial(10000, 1/4) too.
  const counts = [0, 0, 0, 0];
  let agree = 0;
  for (let i = 0; i < a.y.length; i++) { counts[a.y[i]!]!++; if (a.y[i] === base.y[i]) agree++; }
  for (const n of counts) assert.ok(Math.abs(n - 2500) < 217, `counts ${counts}`);
  assert.ok(Math.abs(agree - 2500) < 217, `agreement ${agree}`);
});

test("npy data errors name the file or spec: unreadable, non-integer and out-of-range labels, NaN, empty, shapes", () => {
  throwsInput(() => loadData("npy:nope_x.npy,nope_y.npy"), "nope_x.npy", "no such file");
  throwsInput(() => loadData(`npy:${X},${rel(fixture("data_y_float.npy"))}`), "data_y_float.npy", "label 1.5 at row 4 is not an integer");
  throwsInput(() => loadData(`npy:${X},${Y},classes=2`), `npy:${X},${Y},classes=2`, "label 2 at row 2 is out of range", "0..1");
  throwsInput(() => loadData(`npy:${X},${rel(fixture("npy_i1.npy"))}`), "npy_i1.npy", "8 labels but the features file has 6 rows");
  throwsInput(() => loadData(`npy:${rel(fixture("npy_f8.npy"))},${rel(fixture("npy_f4.npy"))}`), "npy_f4.npy", "shape (n,) or (n, 1)");
  throwsInput(() => loadData(`npy:${rel(fixture("npy_b1.npy"))},${Y}`), "npy_b1.npy", "features must have shape (n, d)");
  withTmp((dir) => {
    const x = new Float64Array(12); x[7] = NaN;
    writeNpy(join(dir, "x.npy"), { shape: [3, 4], data: x });
    writeNpy(join(dir, "y.npy"), { shape: [3], data: new Int32Array([0, 1, -1]) });
    const spec = `npy:${join(dir, "x.npy")},${join(dir, "y.npy")}`;
    throwsInput(() => loadData(spec), "label -1 at row 2");
    writeNpy(join(dir, "y.npy"), { shape: [3, 1], data: new Int32Array([0, 1, 1]) });
    throwsInput(() => loadData(spec), spec, "non-finite feature NaN at row 1, column 3");
    writeNpy(join(dir, "x0.npy"), { shape: [0, 4], data: new Float32Array(0) });
    writeNpy(join(dir, "y0.npy"), { shape: [0], data: new BigInt64Array(0) });
    throwsInput(() => loadData(`npy:${join(dir, "x0.npy")},${join(dir, "y0.npy")}`), "empty dataset");
  });
});
