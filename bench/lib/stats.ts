/** Small numeric helpers shared by the benchmarks: medians, rounding, timing device work. */
import type { Array } from "../../src/engine/jax.ts";

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** `x` with `digits` significant digits, as a number (for table cells). */
export function sig(x: number, digits = 3): number {
  return Number.isFinite(x) ? Number(x.toPrecision(digits)) : x;
}

/**
 * Milliseconds for `f()` to produce its result on the device and for the device to finish it
 * (the Wasm worker pool and WebGPU complete work asynchronously); the result is disposed.
 */
export async function timeDevice(f: () => Array): Promise<number> {
  const t = performance.now();
  const r = f();
  await r.blockUntilReady();
  const ms = performance.now() - t;
  r.dispose();
  return ms;
}

/** timeDevice for a computation that yields between its dispatches (an operator's matvecAsync). */
export async function timeDeviceAsync(f: () => Promise<Array>): Promise<number> {
  const t = performance.now();
  const r = await f();
  await r.blockUntilReady();
  const ms = performance.now() - t;
  r.dispose();
  return ms;
}

/** max_i |a_i - b_i| / max_i |b_i|: the error relative to the reference's scale. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxRelDiff: lengths ${a.length} and ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return den > 0 ? num / den : num;
}

/** ||a - b|| / ||b|| (Euclidean). */
export function normRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`normRelDiff: lengths ${a.length} and ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
}
