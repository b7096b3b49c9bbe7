// NumPy .npz archives (stored and deflated, ZIP64 members as NumPy writes them), CSV datasets,
// their data specs, and weights from .npz: values recomputed from the closed forms that
// bench/fixtures/make_npz.py wrote, and one clear InputError per bad file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readNpz } from "../../src/data/npz.ts";
import { crc32, readZip } from "../../src/data/zip.ts";
import { parseCsv, parseCsvRows, readCsv } from "../../src/data/csv.ts";
import { loadData, parseDataSpec } from "../../src/data/spec.ts";
import { loadWeights } from "../../src/train/checkpoint.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { fixture, throwsInput, withTmp } from "./helpers.ts";

const X = Array.from({ length: 20 }, (_, k) => k / 8 - 1);
const Y = Array.from({ length: 5 }, (_, i) => i % 3);

test("crc32 of known strings", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test("readNpz: stored and deflated archives give numpy's arrays", () => {
  const a = readNpz(fixture("npz_data.npz"));
  assert.deepEqual([...a.keys()], ["x", "y"]);
  assert.deepEqual(a.get("x")!.shape, [5, 4]);
  assert.equal(a.get("x")!.dtype, "f4");
  assert.deepEqual(Array.from(a.get("x")!.data as Float32Array), X);
  assert.deepEqual(Array.from(a.get("y")!.data as BigInt64Array, Number), Y);
  const b = readNpz(fixture("npz_data_compressed.npz"));
  assert.deepEqual([...b.keys()], ["inputs", "labels"]);
  assert.equal(b.get("inputs")!.dtype, "f8");
  assert.deepEqual(Array.from(b.get("inputs")!.data as Float64Array), X);
  assert.deepEqual(Array.from(b.get("labels")!.data as Int32Array), Y);
});

test("readNpz: truncated, damaged and non-zip files are one InputError each, naming the file", () => {
  withTmp((dir) => {
    const bytes = readFileSync(fixture("npz_data_compressed.npz"));
    const cut = join(dir, "cut.npz");
    writeFileSync(cut, bytes.subarray(0, bytes.length - 30));
    throwsInput(() => readNpz(cut), cut, "no end-of-central-directory");
    const damaged = Buffer.from(readFileSync(fixture("npz_data.npz")));
    // Flip a byte inside the first member's data (after its 30-byte header, name and extra).
    damaged[30 + 5 + 20 + 100] ^= 0xff;
    const bad = join(dir, "bad.npz");
    writeFileSync(bad, damaged);
    throwsInput(() => readNpz(bad), bad, "CRC-32");
    const notZip = join(dir, "not.npz");
    writeFileSync(notZip, "hello, this is not a zip archive at all, just text");
    throwsInput(() => readNpz(notZip), notZip, "not a readable .npz");
    throwsInput(() => readNpz(join(dir, "missing.npz")), "missing.npz", "no such file");
  });
  assert.throws(() => readZip(new Uint8Array(3), "tiny"), /tiny/);
});

test("data specs npz: default and named keys, classes, bad keys", () => {
  const ds = loadData(`npz:${fixture("npz_data.npz")}`);
  assert.deepEqual(ds.featureShape, [4]);
  assert.deepEqual(Array.from(ds.x), X);
  assert.deepEqual(Array.from(ds.y), Y);
  assert.equal(ds.numClasses, 3);
  const named = loadData(`npz:${fixture("npz_data_compressed.npz")},x=inputs,y=labels,classes=5`);
  assert.equal(named.numClasses, 5);
  assert.deepEqual(Array.from(named.y), Y);
  throwsInput(() => loadData(`npz:${fixture("npz_data.npz")},x=features`), "npz_data.npz", 'no array "features"', "x, y");
  throwsInput(() => loadData(`npz:${fixture("npz_data.npz")},y=x`), "npz_data.npz:x", "labels must have shape");
  throwsInput(() => parseDataSpec("npz:"), "expected a file");
});

test("CSV: header detection, label column by name, index or default, class names", () => {
  const withHeader = "a,b,label\n0.5,1,2\n-1e-1,2.5,0\n\n3,4,1\n";
  const d = parseCsv(withHeader, "t.csv");
  assert.deepEqual(Array.from(d.x), [0.5, 1, -0.1, 2.5, 3, 4]);
  assert.deepEqual(Array.from(d.y), [2, 0, 1]);
  assert.deepEqual(d.featureShape, [2]);
  assert.equal(d.numClasses, 3);
  // No header: the last column is the label; label=0 takes the first.
  const plain = parseCsv("1,2,0\r\n3,4,1\r\n", "p.csv");
  assert.deepEqual(Array.from(plain.y), [0, 1]);
  const first = parseCsv("1,2,0\n0,4,1\n", "p.csv", { label: "0" });
  assert.deepEqual(Array.from(first.y), [1, 0]);
  assert.deepEqual(Array.from(first.x), [2, 0, 4, 1]);
  // Class names, quoted fields with commas and quotes.
  const named = parseCsv('x1,x2,species\n1,2,"virginica"\n3,4,setosa\n5,6,"set""osa, b"\n', "iris.csv");
  // Sorted names: '"' sorts before 'o'.
  assert.deepEqual(Array.from(named.y), [2, 1, 0]);
  assert.match(named.name, /0=set"osa, b, 1=setosa, 2=virginica/);
  assert.deepEqual(parseCsvRows('a,"b\nc",d\n', "q").map((r) => r.cells), [["a", "b\nc", "d"]]);
});

test("CSV: a non-numeric cell, ragged rows, bad labels, an unclosed quote: one message each", () => {
  throwsInput(() => parseCsv("a,b,label\n1,2,0\n3,x,1\n", "bad.csv"), "bad.csv", "line 3", 'column "b"', '"x" is not a finite number');
  throwsInput(() => parseCsv("1,2,0\n3,4\n", "rag.csv"), "rag.csv", "line 2", "2 cells, expected 3");
  throwsInput(() => parseCsv("a,b,label\n1,2,0.5\n", "frac.csv"), "frac.csv", "not an integer");
  throwsInput(() => parseCsv("1,2,0\n", "q.csv", { label: "z" }), "label=z", "index in 0..2");
  throwsInput(() => parseCsv('1,"2,0\n', "open.csv"), "open.csv", "not closed");
  throwsInput(() => parseCsv("a,b\n", "h.csv"), "h.csv", "no data rows");
  throwsInput(() => parseCsv("1,2,5\n", "c.csv", { classes: 3 }), "classes=3");
});

test("data spec csv: from a file, with options; unknown options are refused", () => {
  withTmp((dir) => {
    const f = join(dir, "d.csv");
    writeFileSync(f, "y,f1,f2\n1,0.5,0.25\n0,1,2\n");
    const ds = loadData(`csv:${f},label=y`);
    assert.deepEqual(Array.from(ds.x), [0.5, 0.25, 1, 2]);
    assert.deepEqual(Array.from(ds.y), [1, 0]);
    assert.equal(readCsv(f).numClasses, 2);
    throwsInput(() => loadData(`csv:${f},header=maybe`), "header=maybe", "auto, yes or no");
    throwsInput(() => loadData(`csv:${f},sep=;`), 'unknown key "sep"');
    throwsInput(() => loadData(`csv:${join(dir, "none.csv")}`), "none.csv", "no such file");
  });
});

test("weights from .npz with state_dict names; wrong names and dtypes are refused", () => {
  const model = parseModel("mlp:4-6-3:tanh");
  const theta = loadWeights(fixture("npz_weights.npz"), model);
  for (const [t, p] of model.layout.entries()) {
    for (let k = 0; k < p.size; k++) {
      assert.ok(Math.abs(theta[p.offset + k] - (k / 100 - 0.2 + t / 10)) < 1e-7, `${p.name}[${k}]`);
    }
  }
  throwsInput(() => loadWeights(fixture("npz_weights.npz"), parseModel("mlp:4-5-3:tanh")), "npz_weights.npz", "shape");
  throwsInput(() => loadWeights(fixture("npz_data.npz"), model), "npz_data.npz", "dtype i8");
});
