// CIFAR-10 binary batches: small files in the official format written here (5 training batches
// and a test batch of 20 records each, known pixels and labels), read back through the data
// spec; values against PyTorch's ToTensor + Normalize (torch fixture, bit for bit) and against the
// float64 formula with PyHessian's constants; one InputError naming the file per bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadData, parseDataSpec } from "../../src/data/spec.ts";
import { validateDataset } from "../../src/data/dataset.ts";
import { CIFAR10_CLASSES, CIFAR10_NORM_NAMES, loadCifar10, type Cifar10Norm } from "../../src/data/cifar10.ts";
import { readNpz } from "../../src/data/npz.ts";
import { fixture, throwsInput, withTmp } from "./helpers.ts";

const PER = 20; // records per batch file
const TRAIN = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];
// Example i of the training split (i in 0..99) and of the test split (i + 1000): byte and label.
const pix = (i: number, c: number, h: number, w: number) => (31 * i + 97 * c + 13 * h + 5 * w + ((h * w) >> 2)) & 255;
const label = (i: number) => (3 * i + 1 + (i >> 4)) % 10;

/** `count` records for examples first..first+count-1 in the official layout. */
function records(first: number, count: number): Uint8Array {
  const out = new Uint8Array(count * 3073);
  for (let r = 0; r < count; r++) {
    const i = first + r, at = r * 3073;
    out[at] = label(i);
    for (let c = 0; c < 3; c++) for (let h = 0; h < 32; h++) for (let w = 0; w < 32; w++) {
      out[at + 1 + c * 1024 + h * 32 + w] = pix(i, c, h, w);
    }
  }
  return out;
}

/** A cifar-10-batches-bin folder under `dir`: data_batch_1..5 (examples 0..99), test_batch (1000..1019). */
function writeBatches(dir: string): string {
  const d = join(dir, "cifar-10-batches-bin");
  mkdirSync(d);
  TRAIN.forEach((f, b) => writeFileSync(join(d, f), records(b * PER, PER)));
  writeFileSync(join(d, "test_batch.bin"), records(1000, PER));
  return d;
}

// PyTorch's float32 value of each byte per channel and normalization (bench/fixtures/make_images.py).
const torchTables = readNpz(fixture("cifar10_norm.npz"));
const torchValue = (norm: Cifar10Norm, c: number, p: number) => (torchTables.get(norm)!.data as Float32Array)[c * 256 + p]!;

test("pixel layout and values: [c,h,w] of example i equals PyTorch's value and the float64 formula", () => {
  withTmp((tmp) => {
    const dir = writeBatches(tmp);
    const ds = loadData(`cifar10:${dir}`);
    validateDataset(ds);
    assert.ok(ds.x instanceof Float32Array);
    assert.deepEqual(ds.featureShape, [3, 32, 32]);
    assert.equal(ds.numClasses, 10);
    assert.equal(ds.y.length, 100);
    assert.equal(ds.name, `cifar10:${dir}`);
    // PyHessian's transforms.Normalize((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)), in float64.
    const mean = [0.4914, 0.4822, 0.4465], std = [0.2023, 0.1994, 0.2010];
    let worst = 0;
    for (let i = 0; i < 100; i++) {
      for (let c = 0; c < 3; c++) for (let h = 0; h < 32; h++) for (let w = 0; w < 32; w++) {
        const v: number = ds.x[i * 3072 + c * 1024 + h * 32 + w]!, p = pix(i, c, h, w);
        if (v !== torchValue("pyhessian", c, p)) assert.fail(`example ${i} [${c},${h},${w}]: ${v} vs torch ${torchValue("pyhessian", c, p)}`);
        worst = Math.max(worst, Math.abs(v - (p / 255 - mean[c]!) / std[c]!));
      }
    }
    // float32 rounding only: half an ulp of |v| <= 2.8 is 1.2e-7, three roundings stay below 4e-7.
    assert.ok(worst < 4e-7, `max |x - float64 formula| = ${worst}`);
    // One pixel written out: example 37, [2, 5, 30] (blue plane, row 5, column 30).
    const p = pix(37, 2, 5, 30);
    assert.equal(p, (31 * 37 + 97 * 2 + 13 * 5 + 5 * 30 + 37) & 255);
    assert.ok(Math.abs(ds.x[37 * 3072 + 2 * 1024 + 5 * 32 + 30]! - (p / 255 - 0.4465) / 0.2010) < 4e-7);
    assert.deepEqual([...ds.y], Array.from({ length: 100 }, (_, i) => label(i)));
  });
});

test("split=test reads test_batch.bin; n takes the first n across batch boundaries", () => {
  withTmp((tmp) => {
    const dir = writeBatches(tmp);
    const full = loadCifar10({ dir });
    const t = loadData(`cifar10:${dir},split=test`);
    assert.equal(t.y.length, 20);
    assert.deepEqual([...t.y], Array.from({ length: 20 }, (_, r) => label(1000 + r)));
    assert.equal(t.x[5 * 3072 + 1024 + 7 * 32 + 9], torchValue("pyhessian", 1, pix(1005, 1, 7, 9)));
    assert.deepEqual(loadCifar10({ dir, split: "test", n: 3 }).y, t.y.slice(0, 3));
    for (const n of [1, 19, 20, 21, 45, 60, 99, 100]) {
      const ds = loadData(`cifar10:${dir},n=${n}`);
      assert.equal(ds.y.length, n);
      assert.deepEqual(ds.y, full.y.slice(0, n), `n=${n}`);
      assert.deepEqual(ds.x, full.x.slice(0, n * 3072), `n=${n}`);
    }
    // Only the files the first n records need are opened: n=45 reads batches 1-3.
    rmSync(join(dir, "data_batch_4.bin"));
    rmSync(join(dir, "data_batch_5.bin"));
    assert.deepEqual(loadData(`cifar10:${dir},n=45`).y, full.y.slice(0, 45));
    throwsInput(() => loadData(`cifar10:${dir},n=61`), join(dir, "data_batch_4.bin"), "no such file");
    throwsInput(() => loadData(`cifar10:${dir}`), join(dir, "data_batch_4.bin"), "no such file");
  });
});

test("norm options: pyhessian (default), dataset, half, imagenet, none equal PyTorch's values", () => {
  withTmp((tmp) => {
    const dir = writeBatches(tmp);
    assert.deepEqual(CIFAR10_NORM_NAMES, ["pyhessian", "dataset", "half", "imagenet", "none"]);
    for (const norm of CIFAR10_NORM_NAMES) {
      const ds = loadData(`cifar10:${dir},n=30,norm=${norm}`);
      for (let i = 0; i < 30; i += 7) {
        for (let c = 0; c < 3; c++) for (let k = 0; k < 1024; k += 11) {
          const p = pix(i, c, k >> 5, k & 31);
          assert.equal(ds.x[i * 3072 + c * 1024 + k], torchValue(norm, c, p), `${norm} example ${i} channel ${c} pixel ${k}`);
        }
      }
    }
    // The torch tables themselves against the float64 formulas with the constants as published.
    const stats: Record<string, [number[], number[]]> = {
      pyhessian: [[0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010]],
      dataset: [[0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]],
      half: [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]],
      imagenet: [[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]],
      none: [[0, 0, 0], [1, 1, 1]],
    };
    for (const norm of CIFAR10_NORM_NAMES) {
      const [m, s] = stats[norm]!;
      for (let c = 0; c < 3; c++) for (let p = 0; p < 256; p++) {
        assert.ok(Math.abs(torchValue(norm, c, p) - (p / 255 - m[c]!) / s[c]!) < 4e-7, `${norm} ${c} ${p}`);
      }
    }
    const none = loadData(`cifar10:${dir},norm=none,n=1`);
    assert.equal(none.x[0], Math.fround(pix(0, 0, 0, 0) / 255));
    assert.deepEqual(loadData(`cifar10:dir=${dir},norm=pyhessian,n=5`).x, loadData(`cifar10:${dir},n=5`).x);
  });
});

test("bad input: missing or non-folder DIR, missing batch, bad size, bad label, n too large", () => {
  withTmp((tmp) => {
    const dir = writeBatches(tmp);
    const url = "https://www.cs.toronto.edu/~kriz/cifar.html";
    throwsInput(() => loadData(`cifar10:${join(tmp, "nope")}`), join(tmp, "nope"), "no such folder", "cifar-10-batches-bin", url);
    const file = join(dir, "data_batch_1.bin");
    throwsInput(() => loadData(`cifar10:${file}`), file, "is a file, not a folder", url);
    writeFileSync(join(tmp, "cifar-10-binary.tar.gz"), "x");
    throwsInput(() => loadData(`cifar10:${join(tmp, "cifar-10-binary.tar.gz")}`), "extract it first");
    // The parent folder of cifar-10-batches-bin, and the Python version's folder: hints.
    throwsInput(() => loadData(`cifar10:${tmp}`), join(tmp, "data_batch_1.bin"), "no such file", "data_batch_1.bin, data_batch_2.bin",
      "data_batch_5.bin", url, "holds cifar-10-batches-bin");
    const py = join(tmp, "py");
    mkdirSync(py);
    writeFileSync(join(py, "data_batch_1"), "pickle");
    throwsInput(() => loadData(`cifar10:${py}`), "Python (pickle) version");
    const empty = join(tmp, "empty");
    mkdirSync(empty);
    throwsInput(() => loadData(`cifar10:${empty},split=test`), join(empty, "test_batch.bin"), "no such file", "test_batch.bin", url);

    // n larger than what the files hold: every file and its count named.
    throwsInput(() => loadData(`cifar10:${dir},n=101`), "n=101", "holds 100 examples", `${join(dir, "data_batch_5.bin")}: 20`, "1..100");
    throwsInput(() => loadData(`cifar10:${dir},split=test,n=21`), "n=21", "holds 20", "test_batch.bin");

    // A size that is not a multiple of 3,073, and an empty file.
    const b3 = join(dir, "data_batch_3.bin");
    writeFileSync(b3, records(40, PER).subarray(0, 20 * 3073 - 1));
    throwsInput(() => loadData(`cifar10:${dir},n=41`), b3, "size 61459 bytes", "multiple of 3,073");
    assert.equal(loadData(`cifar10:${dir},n=40`).y.length, 40); // batch 3 is not opened for n=40
    writeFileSync(b3, new Uint8Array(0));
    throwsInput(() => loadData(`cifar10:${dir}`), b3, "size 0 bytes");
    writeFileSync(b3, records(40, PER));

    // A label byte above 9 (CIFAR-100's coarse/fine layout, or another file): file, record, byte.
    const b2 = join(dir, "data_batch_2.bin");
    const bad = records(20, PER);
    bad[7 * 3073] = 10;
    writeFileSync(b2, bad);
    throwsInput(() => loadData(`cifar10:${dir}`), b2, "record 7 (byte 21511) has label byte 10", "0..9");
    assert.equal(loadData(`cifar10:${dir},n=27`).y.length, 27); // record 7 of batch 2 is example 27: not read
    throwsInput(() => loadData(`cifar10:${dir},n=28`), b2, "record 7");

    // A folder named like a batch file.
    rmSync(b2);
    mkdirSync(b2);
    throwsInput(() => loadData(`cifar10:${dir},n=30`), b2);
  });
});

test("spec: parsed fields, refused values, common options, class names", () => {
  assert.deepEqual(parseDataSpec("cifar10:data/cifar-10-batches-bin"),
    { kind: "cifar10", dir: "data/cifar-10-batches-bin", split: "train", norm: "pyhessian" });
  assert.deepEqual(parseDataSpec(" cifar10 : d , n=1000, split=test, norm=none, randomLabels=3 "),
    { kind: "cifar10", dir: "d", n: 1000, split: "test", norm: "none", randomLabels: 3 });
  assert.deepEqual(parseDataSpec("cifar10:dir=a=b,n=5"), { kind: "cifar10", dir: "a=b", n: 5, split: "train", norm: "pyhessian" });
  throwsInput(() => parseDataSpec("cifar10"), "cifar10", "expected the folder cifar-10-batches-bin", "cifar10:DIR[,n=N]");
  throwsInput(() => parseDataSpec("cifar10:d,split=val"), "split=val", "train", "test");
  throwsInput(() => parseDataSpec("cifar10:d,norm=minmax"), "norm=minmax", "pyhessian, dataset, half, imagenet, none");
  throwsInput(() => parseDataSpec("cifar10:d,n=0"), "n=0", "integer >= 1");
  throwsInput(() => parseDataSpec("cifar10:d,e"), 'unexpected item "e"');
  throwsInput(() => parseDataSpec("cifar10:d,classes=3"), 'unknown key "classes"', "dir, n, split, norm, randomLabels");
  throwsInput(() => parseDataSpec("cifar:d"), 'unknown data kind "cifar"', "cifar10:DIR");
  withTmp((tmp) => {
    const dir = writeBatches(tmp);
    const r = loadData(`cifar10:${dir},n=40,randomLabels=1`);
    assert.equal(r.numClasses, 10);
    assert.notDeepEqual(r.y, loadData(`cifar10:${dir},n=40`).y);
    assert.deepEqual(r.x, loadData(`cifar10:${dir},n=40`).x);
  });
  assert.equal(CIFAR10_CLASSES.length, 10);
  assert.equal(CIFAR10_CLASSES[0], "airplane");
  assert.equal(CIFAR10_CLASSES[3], "cat");
  assert.equal(CIFAR10_CLASSES[9], "truck");
});
