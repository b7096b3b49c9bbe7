/**
 * 16-bit floats on the host: IEEE 754 binary16 ("f2" in numpy, "F16" in safetensors) and bfloat16
 * ("BF16": the top 16 bits of a float32). Decoding is exact into float32; encoding rounds to
 * nearest, ties to even, like numpy's astype(float16) and torch's to(bfloat16). NaN stays NaN.
 */

let f16Table: Float32Array | null = null;

function f16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** float16 bits -> float32 values (exact), through a 65536-entry table built on first use. */
export function f16ToF32(bits: Uint16Array): Float32Array {
  if (f16Table === null) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToNumber(h);
  }
  const t = f16Table;
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]!]!;
  return out;
}

/** bfloat16 bits -> float32 values (exact: the bits are the high half of a float32). */
export function bf16ToF32(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i]! << 16;
  return new Float32Array(out.buffer);
}

const scratchF = new Float32Array(1);
const scratchU = new Uint32Array(scratchF.buffer);

/**
 * One value -> float16 bits, round to nearest even. The value is first rounded to float32, so a
 * float64 input lying within 2^-29 relative of a float16 tie can round differently from a direct
 * float64 -> float16 conversion; float32 inputs are converted exactly like numpy.
 */
function numberToF16Bits(v: number): number {
  scratchF[0] = v;
  const x = scratchU[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf, or a quiet NaN
  const e = exp - 127 + 15; // rebiased exponent
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> Inf
  if (e <= 0) {
    // Subnormal half: count units of 2^-24. The float32 value is m * 2^(exp-150) with the
    // implicit bit in m, i.e. m * 2^(e-14) units, so drop 14 - e bits with rounding.
    if (e < -10) return sign; // below half the smallest subnormal -> +-0
    const m = mant | 0x800000; // implicit leading 1
    const shift = 14 - e; // bits to drop so that the result counts units of 2^-24
    const half = 1 << (shift - 1);
    let r = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r; // r may carry into the exponent field: that is the right encoding
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) r++; // carry may reach Inf: correct
  return sign | r;
}

/** Values -> float16 bits (round to nearest even; overflow to Inf). */
export function f32ToF16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = numberToF16Bits(values[i]!);
  return out;
}

/** Values -> bfloat16 bits (round to nearest even on the float32 bits; NaN kept quiet). */
export function f32ToBf16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    scratchF[0] = values[i]!;
    const x = scratchU[0]!;
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) {
      out[i] = (x >>> 16) | 0x40; // NaN: keep it a (quiet) NaN after truncation
      continue;
    }
    out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}
