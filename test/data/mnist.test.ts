import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { InputError } from "../../src/errors.ts";
import { validateDataset } from "../../src/data/dataset.ts";
import { loadMnist, loadMnistRaw, parseDigitFile, MNIST_MEAN, MNIST_STD } from "../../src/data/mnist.ts";

const digitsDir = join(dirname(createRequire(import.meta.url).resolve("mnist/package.json")), "src", "digits");

test("loads 10,000 digits, every class > 800, interleaved order, pixel range right", () => {
  const ds = loadMnist();
  validateDataset(ds);
  assert.equal(ds.y.length, 10000);
  assert.equal(ds.x.length, 10000 * 784);
  assert.ok(ds.x instanceof Float32Array);
  assert.deepEqual(ds.featureShape, [1, 28, 28]);
  assert.equal(ds.numClasses, 10);
  assert.equal(ds.name, "mnist:n=10000");
  const counts = new Array(10).fill(0);
  for (const c of ds.y) counts[c]++;
  for (const c of counts) assert.ok(c > 800, `class counts ${counts}`);
  assert.equal(counts.reduce((a, b) => a + b), 10000);
  // Round-robin: the first 8,630 rows (863 = smallest class) cycle 0..9.
  for (let r = 0; r < 8630; r++) assert.equal(ds.y[r], r % 10);

  const raw = loadMnistRaw();
  let lo = 255, hi = 0;
  for (const p of raw.pixels) { if (p < lo) lo = p; if (p > hi) hi = p; }
  assert.equal(lo, 0);
  assert.equal(hi, 255);
  let min = Infinity, max = -Infinity, sum = 0;
  for (const v of ds.x) { if (v < min) min = v; if (v > max) max = v; sum += v; }
  assert.equal(min, Math.fround((0 - MNIST_MEAN) / MNIST_STD));
  assert.equal(max, Math.fround((1 - MNIST_MEAN) / MNIST_STD));
  // MNIST's mean pixel is ~0.13 (0.1307 on the training set), so the standardized mean is near 0.
  const meanPixel = (sum / ds.x.length) * MNIST_STD + MNIST_MEAN;
  assert.ok(meanPixel > 0.12 && meanPixel < 0.14, `mean pixel ${meanPixel}`);
});

test("pixels equal JSON.parse of the package file (independent parser), in order", () => {
  const c = 5;
  const data: number[] = JSON.parse(readFileSync(join(digitsDir, `${c}.json`), "utf8")).data;
  const raw = loadMnistRaw();
  const rows: number[] = [];
  for (let r = 0; r < raw.labels.length; r++) if (raw.labels[r] === c) rows.push(r);
  assert.equal(rows.length * 784, data.length);
  rows.forEach((r, j) => {
    for (let p = 0; p < 784; p++) {
      const v = data[j * 784 + p]!;
      if (raw.pixels[r * 784 + p] !== Math.round(v * 255)) assert.fail(`digit ${j} pixel ${p}: ${raw.pixels[r * 784 + p]} vs ${v}`);
    }
  });
});

test("n digits: a balanced prefix, unit normalization, deterministic", () => {
  const a = loadMnist({ n: 1000, normalize: "unit" });
  const counts = new Array(10).fill(0);
  for (const c of a.y) counts[c]++;
  assert.deepEqual(counts, new Array(10).fill(100));
  const full = loadMnist();
  for (let i = 0; i < a.x.length; i += 97) {
    // unit = byte/255; the standardized value of the same row is (byte/255 - mean)/std.
    const byte = Math.round(a.x[i]! * 255);
    assert.equal(a.x[i], Math.fround(byte / 255));
    assert.equal(full.x[i], Math.fround((byte / 255 - MNIST_MEAN) / MNIST_STD));
  }
  assert.deepEqual(loadMnist({ n: 1000, normalize: "unit" }).x, a.x);
});

test("bad n and corrupt digit files are InputErrors", () => {
  assert.throws(() => loadMnist({ n: 0 }), (e: unknown) => e instanceof InputError && e.message.includes("1..10000"));
  assert.throws(() => loadMnist({ n: 10001 }), InputError);
  const enc = (s: string) => new TextEncoder().encode(s);
  assert.throws(() => parseDigitFile(enc('{"data": [0,0.5,x]}'), "7.json"), (e: unknown) => e instanceof InputError && e.message.startsWith("7.json"));
  assert.throws(() => parseDigitFile(enc('{"data": [0,1.5]}'), "7.json"), /not a pixel/);
  assert.throws(() => parseDigitFile(enc('{"data": [0,1]}'), "7.json"), /784-pixel/);
  assert.throws(() => parseDigitFile(enc('{"data": [0,1'), "7.json"), InputError);
  assert.throws(() => parseDigitFile(enc('{"data": [0,'), "7.json"), /unexpected end/);
  assert.equal(parseDigitFile(enc(`{"data": [${new Array(784).fill("0.2").join(", ")}]}`), "ok").every((b) => b === 51), true);
});
