/**
 * What the stochastic estimators (SLQ, Hutchinson, Hutch++, XTrace, XDiag) share: random test
 * vectors on the device, the products of an operator with a set of them, checks of their options,
 * and the statistics of their samples.
 *
 * Seeds: an estimator's `seed` starts a host stream (hostRng) from which each probe, or each block
 * of probes, draws its own 31-bit device key, in order. So probe j of a run depends only on
 * (seed, j): a run with more probes extends a run with fewer, and the same seed gives the same
 * numbers on every device (jax-js's counter-based RNG).
 *
 * A set of k device vectors of length n is one [k, n] array, one vector per row.
 */
import { numpy as np, random, type Array as JaxArray } from "../engine/jax.ts";
import { toDType, type DTypeName } from "../engine/dtype.ts";
import { hostRng } from "../engine/host-rng.ts";
import { InputError } from "../errors.ts";
import { checkInteger as checkIntegerOption, checkPositive } from "../validate.ts";
import type { LinearOperator } from "../curvature/operator.ts";

/** Distributions of single probe vectors: random signs, or standard Gaussian entries. */
export type ProbeKind = "rademacher" | "gaussian";
export const PROBE_KINDS: readonly ProbeKind[] = ["rademacher", "gaussian"];

/** Unit roundoff of a dtype (half the distance from 1 to the next number). */
export function unitRoundoff(dtype: DTypeName): number {
  return dtype === "float64" ? 2 ** -53 : 2 ** -24;
}

/** `count` device keys (as 31-bit integers) drawn in order from the host stream of `seed`. */
export function probeSeeds(seed: number, count: number): number[] {
  const rng = hostRng(seed);
  return Array.from({ length: count }, () => rng.int(2 ** 31));
}

/** One probe vector of length n: random signs, or standard Gaussian (sampled in float32). */
export function probeVector(kind: ProbeKind, seed: number, n: number, dtype: DTypeName): JaxArray {
  const key = random.key(seed);
  return kind === "rademacher"
    ? random.rademacher(key, { shape: [n], dtype: toDType(dtype) })
    : random.normal(key, [n]).astype(toDType(dtype));
}

/** k x n random signs. */
export function rademacherRows(seed: number, k: number, n: number, dtype: DTypeName): JaxArray {
  return random.rademacher(random.key(seed), { shape: [k, n], dtype: toDType(dtype) });
}

/** k x n, each row uniform on the sphere of radius sqrt(n) (a Gaussian row, normalized). */
export function sphereRows(seed: number, k: number, n: number, dtype: DTypeName): JaxArray {
  const g = random.normal(random.key(seed), [k, n]).astype(toDType(dtype));
  const norms = np.sqrt(g.ref.mul(g.ref).sum(1, { keepdims: true }));
  return g.mul(np.array(Math.sqrt(n), { dtype: toDType(dtype) })).div(norms);
}

/** The unit vector e_j of length k, uploaded from the host. */
export function unitVector(j: number, k: number, dtype: DTypeName): JaxArray {
  const e = dtype === "float64" ? new Float64Array(k) : new Float32Array(k);
  e[j] = 1;
  return np.array(e, { dtype: toDType(dtype) });
}

/**
 * Row j of X ([k, n], borrowed), as e_j^T X. A static slice would compile one kernel per row
 * index (measured ~1.6 ms each on Wasm, more for WebGPU shaders); this compiles one per shape.
 */
export function row(X: JaxArray, j: number): JaxArray {
  return np.matmul(unitVector(j, X.shape[0], dtypeName(X)), X.ref);
}

/** X + e_j x^T: X ([k, n]) with x (length n, borrowed) added to row j; consumes X. */
export function addRow(X: JaxArray, j: number, x: JaxArray): JaxArray {
  const [k, n] = X.shape;
  return X.add(unitVector(j, k, dtypeName(X)).reshape([k, 1]).mul(x.ref.reshape([1, n])));
}

export function dtypeName(x: JaxArray): DTypeName {
  return x.dtype === np.float64 ? "float64" : "float32";
}

/**
 * The products A x_i of an operator with the rows of X ([k, n], borrowed), as a new [k, n] array.
 * Each product is awaited before the next is queued: a long queue of lazy work measured slower.
 * `each(i, product)`, when given, obtains row i instead of calling `product()` itself (a journal
 * that may hold it: estimator.ts).
 */
export async function applyToRows(
  op: LinearOperator,
  X: JaxArray,
  onEach?: () => void,
  each?: (i: number, product: () => Promise<JaxArray>) => Promise<JaxArray>,
): Promise<JaxArray> {
  const k = X.shape[0];
  const rows: JaxArray[] = [];
  try {
    for (let i = 0; i < k; i++) {
      const product = async () => {
        const x = row(X, i);
        const y = await op.matvecAsync(x);
        x.dispose();
        return y;
      };
      const y = each ? await each(i, product) : await product();
      rows.push(y);
      await y.blockUntilReady();
      onEach?.();
    }
  } catch (err) {
    for (const r of rows) r.dispose();
    throw err;
  }
  return np.stack(rows);
}

/** A host matrix (row-major r x c) as a device array of the dtype. */
export function hostMatrix(data: ArrayLike<number>, rows: number, cols: number, dtype: DTypeName): JaxArray {
  const values = dtype === "float64" ? Float64Array.from(data) : Float32Array.from(data);
  return np.array(values, { dtype: toDType(dtype) }).reshape([rows, cols]);
}

/** Reads a device array to the host as float64 numbers (consumes it). */
export async function readHost(x: JaxArray): Promise<Float64Array> {
  const data = await x.data();
  return data instanceof Float64Array ? data : Float64Array.from(data as ArrayLike<number>);
}

export interface SampleStats {
  readonly mean: number;
  /** Sample standard deviation (n - 1 in the denominator); null for fewer than two samples. */
  readonly std: number | null;
  /** std / sqrt(count); null for fewer than two samples. */
  readonly standardError: number | null;
}

export function sampleStats(samples: ArrayLike<number>): SampleStats {
  const m = samples.length;
  let mean = 0;
  for (let i = 0; i < m; i++) mean += samples[i];
  mean /= m;
  if (m < 2) return { mean, std: null, standardError: null };
  let ss = 0;
  for (let i = 0; i < m; i++) ss += (samples[i] - mean) ** 2;
  const std = Math.sqrt(ss / (m - 1));
  return { mean, std, standardError: std / Math.sqrt(m) };
}

// --- option checks (bad options are user input: InputError naming the option) ---

export function checkInteger(name: string, value: number, min: number): number {
  return checkIntegerOption(name, value, { min });
}

export function checkSeed(seed: number): number {
  return checkIntegerOption("seed", seed);
}

export { checkPositive };

export function checkOperator(op: LinearOperator): void {
  if (!(Number.isInteger(op.size) && op.size >= 1)) {
    throw new InputError("operator", `expected a size >= 1, got ${op.size}`);
  }
}

/** Throws unless every value is finite (an operator returned NaN or Inf). */
export function checkFinite(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new Error(`${what}: the operator produced a non-finite value (${values[i]})`);
  }
}

/** Seconds since `t0` (a performance.now() reading). */
export function secondsSince(t0: number): number {
  return (performance.now() - t0) / 1000;
}
