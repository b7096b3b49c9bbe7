/**
 * Flat device vectors: the currency of every curvature operator and algorithm. These helpers
 * BORROW their array arguments (they take `.ref`s internally) and return arrays the caller owns,
 * so algorithm code can reuse its vectors without counting references. Reductions come back to
 * the host as numbers (asynchronously: the Wasm pool and WebGPU finish work asynchronously).
 */
import { numpy as np, random, type Array } from "../engine/jax.ts";
import { takeScalar } from "../engine/scope.ts";
import { toDType, type DTypeName } from "../engine/dtype.ts";

export async function dot(a: Array, b: Array): Promise<number> {
  return takeScalar(a.ref.mul(b.ref).sum());
}

export async function norm(a: Array): Promise<number> {
  return Math.sqrt(await dot(a, a));
}

/** a*x + y, as a new array. `a` is a host number; it is passed as an array of the vectors' dtype
 * so that float64 vectors keep float64 coefficients. */
export function axpy(a: number, x: Array, y: Array): Array {
  return x.ref.mul(np.array(a, { dtype: x.dtype })).add(y.ref);
}

/** a*x, as a new array. */
export function scale(a: number, x: Array): Array {
  return x.ref.mul(np.array(a, { dtype: x.dtype }));
}

/** A flat device vector from host values. */
export function fromHost(values: ArrayLike<number>, dtype: DTypeName): Array {
  const data = dtype === "float64" ? Float64Array.from(values) : Float32Array.from(values);
  return np.array(data, { dtype: toDType(dtype) });
}

export function zeros(size: number, dtype: DTypeName): Array {
  return np.zeros([size], { dtype: toDType(dtype) });
}

/** Standard Gaussian direction of the given size (sampled in float32, cast to dtype). */
export function gaussianDirection(seed: number, size: number, dtype: DTypeName): Array {
  return random.normal(random.key(seed), [size]).astype(toDType(dtype));
}

/** Rademacher (+1/-1) direction of the given size. */
export function rademacherDirection(seed: number, size: number, dtype: DTypeName): Array {
  return random.rademacher(random.key(seed), { shape: [size], dtype: toDType(dtype) });
}

/** The block of flat parameters `theta` that `p` names, in its shape (borrows theta). */
export function paramBlock(theta: Array, p: { readonly offset: number; readonly size: number; readonly shape: readonly number[] }): Array {
  return theta.ref.slice([p.offset, p.offset + p.size]).reshape([...p.shape]);
}
