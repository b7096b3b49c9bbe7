/**
 * The dtype policy. float32 for training and large models (fast, SIMD, WebGPU); float64 for the
 * spectra of small models. Under jit, jax-js turns plain JS number constants into float32 (so
 * `x.mul(0.1)` multiplies by 0.10000000149 in float64): code that must be float64-exact takes its
 * non-integer constants as arrays made by `constant` below, never as JS numbers.
 */
import { numpy as np, type Array } from "./jax.ts";

export type DTypeName = "float32" | "float64";
export const DTYPES: readonly DTypeName[] = ["float32", "float64"];

export function toDType(name: DTypeName): np.DType {
  return name === "float64" ? np.float64 : np.float32;
}

/** A scalar array of the given dtype, for constants inside jitted code. */
export function constant(value: number, dtype: DTypeName): Array {
  return np.array(value, { dtype: toDType(dtype) });
}

/** A host typed array of the dtype. */
export function hostArray(dtype: DTypeName, n: number): Float32Array | Float64Array {
  return dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
}
