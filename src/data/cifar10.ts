/**
 * CIFAR-10 as people have it: the "CIFAR-10 binary version" of Krizhevsky's dataset
 * (https://www.cs.toronto.edu/~kriz/cifar.html), the folder `cifar-10-batches-bin` holding
 * data_batch_1.bin ... data_batch_5.bin (training) and test_batch.bin (test). Nothing is
 * downloaded: the user names the folder.
 *
 * Format (as documented on that page): each file is a run of 3,073-byte records, 10,000 per file
 * as distributed: one label byte 0..9, then the 32 x 32 x 3 image as 1,024 red, 1,024 green and
 * 1,024 blue bytes, each plane row-major. That is already the channel-major [3, 32, 32] layout
 * image models take, so example i is x[i*3072 + c*1024 + h*32 + w].
 *
 * Order: split "train" is data_batch_1 .. data_batch_5 in order (50,000 examples), split "test"
 * is test_batch (10,000), the order in which torchvision's CIFAR10 reads the same batches of the
 * Python version; n takes the first n of that order, and only the files (and the bytes)
 * the first n records need are read, so n = 1000 reads 3,073,000 bytes of data_batch_1.bin.
 *
 * Features: float32, featureShape [3, 32, 32], byte / 255 then per channel (v - mean[c]) / std[c],
 * computed in float32 step by step exactly as torchvision's ToTensor + Normalize do (uint8 ->
 * float32 .div(255), then .sub_(mean).div_(std) with mean and std cast to float32), so the values
 * equal PyTorch's bit for bit (checked against a torch fixture). Normalizations (`norm`):
 *   pyhessian (default)  mean (0.4914, 0.4822, 0.4465), std (0.2023, 0.1994, 0.2010): the one
 *                        PyHessian's getData('cifar10') uses (utils.py of amirgholami/PyHessian),
 *                        so comparisons against PyHessian see the same inputs
 *   dataset              mean (0.4914, 0.4822, 0.4465), std (0.2470, 0.2435, 0.2616): the
 *                        per-channel mean and std of the 50,000 training images' pixels, the
 *                        figures commonly quoted with torchvision's CIFAR10
 *   half                 mean 0.5, std 0.5 per channel (PyTorch's CIFAR-10 tutorial): [-1, 1]
 *   imagenet             mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225): torchvision's
 *                        ImageNet statistics, for models pretrained on ImageNet
 *   none                 byte / 255 in [0, 1]
 * No augmentation (PyHessian's training loader also crops and flips at random; its
 * "cifar10_without_dataaugmentation" loader and its test loader do not).
 *
 * Labels 0..9, class names in CIFAR10_CLASSES (airplane ... truck; the order of the dataset's
 * batches.meta.txt).
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.ts";
import type { Dataset } from "./dataset.ts";

export const CIFAR10_CLASSES = [
  "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
] as const;

/** Bytes of one record: a label byte and 3 x 32 x 32 pixel bytes. */
export const CIFAR10_RECORD = 3073;
const PIXELS = 3072;
const PLANE = 1024;

export const CIFAR10_TRAIN_FILES = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"] as const;
export const CIFAR10_TEST_FILES = ["test_batch.bin"] as const;
export const CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar.html";

export type Cifar10Split = "train" | "test";

/** Per-channel (R, G, B) mean and std of each normalization; null: byte / 255 only. */
export const CIFAR10_NORMS = {
  pyhessian: { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.2010] },
  dataset: { mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616] },
  half: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  none: null,
} as const satisfies Record<string, { readonly mean: readonly number[]; readonly std: readonly number[] } | null>;

export type Cifar10Norm = keyof typeof CIFAR10_NORMS;
export const CIFAR10_NORM_NAMES = Object.keys(CIFAR10_NORMS) as Cifar10Norm[];

export interface Cifar10Options {
  /** The cifar-10-batches-bin folder. */
  readonly dir: string;
  /** Number of examples, the first n of the split (default: all, 50,000 or 10,000). */
  readonly n?: number;
  readonly split?: Cifar10Split;
  readonly norm?: Cifar10Norm;
  /** Dataset name (default: the equivalent spec). */
  readonly name?: string;
}

const what = `the CIFAR-10 binary version (folder cifar-10-batches-bin, from ${CIFAR10_URL})`;

/**
 * The 3 x 256 table of feature values: entry c*256 + p is the float32 value of byte p in channel
 * c, computed with torchvision's float32 steps (each Math.fround is one float32 operation; a
 * float64 operation rounded once to float32 is the correctly rounded float32 result).
 */
export function cifar10Table(norm: Cifar10Norm): Float32Array {
  const stats = CIFAR10_NORMS[norm];
  if (stats === undefined) throw new InputError(`norm=${norm}`, `unknown normalization; expected one of ${CIFAR10_NORM_NAMES.join(", ")}`);
  const t = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < 256; p++) {
      const unit = Math.fround(p / 255);
      t[c * 256 + p] = stats === null ? unit
        : Math.fround(Math.fround(unit - Math.fround(stats.mean[c]!)) / Math.fround(stats.std[c]!));
    }
  }
  return t;
}

/**
 * Decodes `count` records of `bytes` (whole 3,073-byte records from the start) into x (from
 * example `row` on) and y, through `table` (cifar10Table). A label byte above 9 is an InputError
 * naming `file`, the record (`first` + its index in `bytes`) and its byte offset.
 */
export function decodeCifar10Records(
  bytes: Uint8Array, count: number, table: Float32Array, x: Float32Array, y: Int32Array, row: number, file: string, first = 0,
): void {
  for (let r = 0; r < count; r++) {
    const at = r * CIFAR10_RECORD;
    const label = bytes[at]!;
    if (label > 9) {
      throw new InputError(file, `record ${first + r} (byte ${(first + r) * CIFAR10_RECORD}) has label byte ${label}; ` +
        `expected a class 0..9 as in a batch file of ${what}`);
    }
    y[row + r] = label;
    const out = (row + r) * PIXELS;
    for (let c = 0; c < 3; c++) {
      const src = bytes.subarray(at + 1 + c * PLANE, at + 1 + (c + 1) * PLANE);
      const dst = x.subarray(out + c * PLANE, out + (c + 1) * PLANE);
      const t = table.subarray(c * 256, (c + 1) * 256);
      for (let k = 0; k < PLANE; k++) dst[k] = t[src[k]!]!;
    }
  }
}

/** Number of records in the open `file` (its size / 3,073); InputError if not a file or of a bad size. */
function recordCount(file: string, fd: number): number {
  const st = fstatSync(fd);
  if (!st.isFile()) throw new InputError(file, `is not a file; expected a batch file of ${what}`);
  const size = st.size;
  if (size === 0 || size % CIFAR10_RECORD !== 0) {
    throw new InputError(file, `size ${size} bytes is not a positive multiple of 3,073 (records of 1 label byte and 3,072 ` +
      `pixel bytes; 30,730,000 bytes = 10,000 records as distributed); expected a batch file of ${what}`);
  }
  return size / CIFAR10_RECORD;
}

function openBatch(file: string, split: Cifar10Split, dir: string, files: readonly string[], hint: () => string): number {
  try {
    return openSync(file, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" || code === "EPERM" ? "permission denied" : (e as Error).message;
    throw new InputError(file, `cannot read CIFAR-10 batch file: ${why}${hint()}; split=${split} reads ${files.join(", ")} ` +
      `in order from ${dir}, expected to be ${what}`);
  }
}

function readExactly(fd: number, buf: Uint8Array, length: number, file: string): void {
  let off = 0;
  while (off < length) {
    const got = readSync(fd, buf, off, length - off, off);
    if (got === 0) throw new InputError(file, `file ended after ${off} bytes while reading ${length}; the file changed while being read?`);
    off += got;
  }
}

/** Checks that `dir` is a folder; otherwise an InputError naming it, with a hint for near misses. */
function checkFolder(dir: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new InputError(dir, `no such folder; expected the folder cifar-10-batches-bin (${[...CIFAR10_TRAIN_FILES, ...CIFAR10_TEST_FILES].join(", ")}) ` +
      `of the CIFAR-10 binary version, from ${CIFAR10_URL}`);
  }
  if (!st.isDirectory()) {
    const hint = /\.tar\.gz$|\.tgz$/.test(dir) ? " (extract it first: tar xzf cifar-10-binary.tar.gz gives cifar-10-batches-bin)" : "";
    throw new InputError(dir, `is a file, not a folder${hint}; expected ${what}`);
  }
}

/** Why `dir` looks like a near miss (the parent folder, or the Python version), or "". */
function nearMiss(dir: string): string {
  const isDir = (p: string) => { try { return statSync(p).isDirectory(); } catch { return false; } };
  const isFile = (p: string) => { try { return statSync(p).isFile(); } catch { return false; } };
  if (isDir(join(dir, "cifar-10-batches-bin"))) return ` (${dir} holds cifar-10-batches-bin: name that folder)`;
  if (isFile(join(dir, "data_batch_1")) || isDir(join(dir, "cifar-10-batches-py"))) {
    return " (this looks like the CIFAR-10 Python (pickle) version; curvlab reads the binary version)";
  }
  return "";
}

/** The first n examples of a split of the cifar-10-batches-bin folder (see the module comment). */
export function loadCifar10(o: Cifar10Options): Dataset {
  const split = o.split ?? "train";
  const norm = o.norm ?? "pyhessian";
  const name = o.name ?? `cifar10:${o.dir}${o.n === undefined ? "" : `,n=${o.n}`}${split === "train" ? "" : `,split=${split}`}` +
    `${norm === "pyhessian" ? "" : `,norm=${norm}`}`;
  if (split !== "train" && split !== "test") throw new InputError(name, `split must be train or test, got ${JSON.stringify(split)}`);
  if (o.n !== undefined && (!Number.isSafeInteger(o.n) || o.n < 1)) throw new InputError(name, `n must be an integer >= 1, got ${o.n}`);
  const table = cifar10Table(norm);
  checkFolder(o.dir);
  const files = split === "train" ? CIFAR10_TRAIN_FILES : CIFAR10_TEST_FILES;

  // Open the files the first n records need (all of them without n), sizes checked before reading.
  const opened: { file: string; fd: number; records: number }[] = [];
  try {
    let total = 0;
    for (const f of files) {
      if (o.n !== undefined && total >= o.n) break;
      const file = join(o.dir, f);
      const fd = openBatch(file, split, o.dir, files, () => (opened.length === 0 ? nearMiss(o.dir) : ""));
      opened.push({ file, fd, records: 0 });
      const records = recordCount(file, fd);
      opened[opened.length - 1]!.records = records;
      total += records;
    }
    const n = o.n ?? total;
    if (n > total) {
      throw new InputError(name, `n=${n} but split=${split} holds ${total} examples ` +
        `(${opened.map((b) => `${b.file}: ${b.records}`).join(", ")}); expected n in 1..${total}`);
    }
    const x = new Float32Array(n * PIXELS);
    const y = new Int32Array(n);
    let row = 0;
    for (const b of opened) {
      const count = Math.min(b.records, n - row);
      const buf = new Uint8Array(count * CIFAR10_RECORD);
      readExactly(b.fd, buf, buf.length, b.file);
      decodeCifar10Records(buf, count, table, x, y, row, b.file);
      row += count;
    }
    return { x, featureShape: [3, 32, 32], y, numClasses: 10, name };
  } finally {
    for (const b of opened) closeSync(b.fd);
  }
}
