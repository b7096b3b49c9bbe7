import { test } from "node:test";
import assert from "node:assert/strict";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "../../src/data/half.ts";
import { readNpy } from "../../src/data/npy.ts";
import { fixture } from "./helpers.ts";

const allBits = Uint16Array.from({ length: 65536 }, (_, i) => i);
const isNaNBits16 = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;

test("float16 decoding matches numpy's float16 -> float32 (fixture)", () => {
  const h = readNpy(fixture("npy_f2.npy"));
  const f = readNpy(fixture("npy_f2_as_f4.npy"));
  assert.equal(h.dtype, "f2");
  assert.ok(h.data instanceof Float32Array);
  assert.deepEqual(h.data, f.data); // deepEqual treats NaN as equal to NaN and -0 as distinct from 0
  assert.ok(Object.is(h.data[1], -0));
});

test("float16 encode(decode(h)) = h for every non-NaN pattern, NaN stays NaN", () => {
  const back = f32ToF16(f16ToF32(allBits));
  for (let h = 0; h < 65536; h++) {
    if (isNaNBits16(h)) assert.ok(isNaNBits16(back[h]!), `NaN ${h}`);
    else if (back[h] !== h) assert.fail(`pattern ${h.toString(16)} -> ${back[h]!.toString(16)}`);
  }
});

test("float16 rounding: to nearest, ties to even, overflow to Inf, underflow to 0", () => {
  const v = f16ToF32(allBits);
  // Between consecutive positive finite halves h and h+1: the midpoint (exact in float32, 12
  // significant bits) goes to the even one; a float32 ulp either side goes to the nearer.
  const probes: number[] = [], expect: number[] = [];
  for (let h = 0; h < 0x7bff; h++) {
    const lo = v[h]!, hi = v[h + 1]!, mid = (lo + hi) / 2;
    probes.push(mid, Math.fround(mid * (1 - 2 ** -23)), Math.fround(mid * (1 + 2 ** -23)));
    expect.push(h % 2 === 0 ? h : h + 1, h, h + 1);
  }
  const got = f32ToF16(probes);
  for (let i = 0; i < probes.length; i++) if (got[i] !== expect[i]) assert.fail(`${probes[i]} -> ${got[i]} expected ${expect[i]}`);
  assert.deepEqual([...f32ToF16([65519, 65520, 1e6, -1e6, 2 ** -25, 2 ** -25 * 1.01, 2 ** -26, -(2 ** -30)])],
    [0x7bff, 0x7c00, 0x7c00, 0xfc00, 0, 1, 0, 0x8000]);
  // numpy: np.float16(1/3) has bits 0x3555 (the fixture stores it at index 4).
  assert.equal(f32ToF16([1 / 3])[0], 0x3555);
});

test("bfloat16: exact decode, round-trip of every pattern, ties to even", () => {
  const v = bf16ToF32(allBits);
  const back = f32ToBf16(v);
  for (let h = 0; h < 65536; h++) {
    const nan = (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0;
    if (nan) assert.ok(Number.isNaN(v[h]!) && ((back[h]! & 0x7f80) === 0x7f80 && (back[h]! & 0x7f) !== 0));
    else if (back[h] !== h) assert.fail(`bf16 pattern ${h.toString(16)} -> ${back[h]!.toString(16)}`);
  }
  assert.deepEqual([...v.subarray(0x3f80, 0x3f81)], [1]); // 0x3f80 is 1.0
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1.0); a bit above goes up.
  assert.deepEqual([...f32ToBf16([1 + 2 ** -8, 1 + 2 ** -8 + 2 ** -20, 1 + 3 * 2 ** -8, 3.4e38])], [0x3f80, 0x3f81, 0x3f82, 0x7f80]);
});
