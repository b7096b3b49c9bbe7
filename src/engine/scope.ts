/**
 * Disposal helpers for jax-js's reference counting (every jax-js function consumes its array
 * arguments; `.ref` adds a reference; `.dispose()` drops one). Host reads are asynchronous
 * because the Wasm worker pool and WebGPU finish work asynchronously.
 */
import type { Array } from "./jax.ts";

/** Drops one reference of each array given (null and undefined are skipped). */
export function dispose(...arrays: (Array | null | undefined)[]): void {
  for (const a of arrays) a?.dispose();
}

/** Reads an array to the host and drops the caller's reference to it. */
export async function take(x: Array): Promise<Float32Array | Float64Array> {
  const data = await x.data();
  if (data instanceof Float32Array || data instanceof Float64Array) return data;
  return Float64Array.from(data as ArrayLike<number>);
}

/** Reads a one-element array as a number and drops the caller's reference to it. */
export async function takeScalar(x: Array): Promise<number> {
  const data = await x.data();
  if (data.length !== 1) throw new Error(`expected a scalar, got ${data.length} values`);
  return Number(data[0]);
}

/**
 * Runs `fn` with a list that collects arrays to dispose when it ends (also on error). For code
 * that makes several temporaries: `await scoped(async (own) => { const a = own(f(x)); ... })`.
 */
export async function scoped<T>(fn: (own: <A extends Array>(a: A) => A) => Promise<T> | T): Promise<T> {
  const owned: Array[] = [];
  try {
    return await fn((a) => {
      owned.push(a);
      return a;
    });
  } finally {
    for (const a of owned) if (a.refCount > 0) a.dispose();
  }
}
