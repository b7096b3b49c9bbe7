/**
 * Seeded pseudo-random numbers on the host (data generation, shuffling, probe vectors that live
 * in Float64Arrays). xoshiro128** seeded through splitmix32: fast, 2^128 period, and the same
 * stream on every platform for the same seed. Device-side randomness uses jax-js keys instead.
 */
export interface HostRng {
  /** Uniform in [0, 1) with 32 random bits. */
  uniform(): number;
  /** Standard normal (Box-Muller, both values used). */
  normal(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** A Rademacher sign, +1 or -1. */
  sign(): number;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function hostRng(seed: number): HostRng {
  if (!Number.isInteger(seed)) throw new Error(`hostRng: seed must be an integer, got ${seed}`);
  const init = splitmix32(seed);
  let a = init(), b = init(), c = init(), d = init();
  const next = (): number => {
    const result = Math.imul(((Math.imul(b, 5) << 7) | (Math.imul(b, 5) >>> 25)) >>> 0, 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t;
    d = ((d << 11) | (d >>> 21)) >>> 0;
    return result;
  };
  let spare: number | null = null;
  const uniform = () => next() / 4294967296;
  return {
    uniform,
    normal() {
      if (spare !== null) { const s = spare; spare = null; return s; }
      let u = 0;
      while (u === 0) u = uniform();
      const v = uniform();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    int(n: number) { return Math.floor(uniform() * n); },
    sign() { return next() & 1 ? 1 : -1; },
  };
}
