import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeNpy, parseNpy, readNpy, writeNpy, type NpyArray, type NpyDtype } from "../../src/data/npy.ts";
import { fixture, throwsInput, withTmp } from "./helpers.ts";

const concat = (parts: Uint8Array[]) => Buffer.concat(parts);

// The values bench/fixtures/make_npy.py wrote, recomputed here.
const intExtremes: Record<string, bigint[]> = {};
for (const [code, bits] of [["i1", 8], ["i2", 16], ["i4", 32], ["i8", 64]] as const) {
  const min = -(2n ** BigInt(bits - 1)), max = 2n ** BigInt(bits - 1) - 1n;
  intExtremes[code] = [min, min + 1n, -1n, 0n, 1n, 7n, max - 1n, max];
}
for (const [code, bits] of [["u1", 8], ["u2", 16], ["u4", 32], ["u8", 64]] as const) {
  const max = 2n ** BigInt(bits) - 1n;
  intExtremes[code] = [0n, 1n, 2n, 7n, 127n, 128n, max - 1n, max];
}
const asBig = (d: NpyArray["data"]) => Array.from(d as ArrayLike<number | bigint>, (v) => BigInt(v));

test("reads numpy-written files of every dtype with the right values and shapes", () => {
  const f4 = readNpy(fixture("npy_f4.npy"));
  assert.equal(f4.dtype, "f4");
  assert.deepEqual(f4.shape, [3, 4]);
  assert.ok(f4.data instanceof Float32Array);
  assert.deepEqual([...f4.data], Array.from({ length: 12 }, (_, k) => (k - 5.5) / 4));
  const f8 = readNpy(fixture("npy_f8.npy"));
  assert.deepEqual(f8.shape, [2, 3]);
  assert.ok(f8.data instanceof Float64Array);
  assert.deepEqual([...f8.data], Array.from({ length: 6 }, (_, k) => k / 3 - 1));
  const types: Record<string, Function> = {
    i1: Int8Array, i2: Int16Array, i4: Int32Array, i8: BigInt64Array,
    u1: Uint8Array, u2: Uint16Array, u4: Uint32Array, u8: BigUint64Array,
  };
  for (const [code, values] of Object.entries(intExtremes)) {
    const a = readNpy(fixture(`npy_${code}.npy`));
    assert.equal(a.dtype, code);
    assert.ok(a.data instanceof types[code]!, code);
    assert.deepEqual(a.shape, code.startsWith("u") ? [2, 4] : [8]);
    assert.deepEqual(asBig(a.data), values, code);
  }
  const b = readNpy(fixture("npy_b1.npy"));
  assert.equal(b.dtype, "b1");
  assert.deepEqual([...b.data], [1, 0, 0, 1, 1]);
  const s = readNpy(fixture("npy_scalar.npy"));
  assert.deepEqual(s.shape, []);
  assert.deepEqual([...s.data], [3.25]);
  const e = readNpy(fixture("npy_empty.npy"));
  assert.deepEqual(e.shape, [0, 3]);
  assert.equal(e.data.length, 0);
  const d4 = readNpy(fixture("npy_4d.npy"));
  assert.deepEqual(d4.shape, [2, 2, 2, 2]);
  assert.deepEqual([...d4.data], Array.from({ length: 16 }, (_, k) => k / 2));
});

test("format versions 2.0 and 3.0 read like 1.0", () => {
  const v1 = readNpy(fixture("npy_f4.npy"));
  for (const f of ["npy_v2.npy", "npy_v3.npy"]) {
    const bytes = readFileSync(fixture(f));
    assert.equal(bytes[6], f === "npy_v2.npy" ? 2 : 3);
    assert.deepEqual(readNpy(fixture(f)), v1);
  }
});

test("encoding reproduces numpy.save byte for byte", () => {
  const files = readdirSync(fixture("")).filter((f) => /^(npy_(f2|f4|f8|[iu][1248]|b1|scalar|empty|4d)|data_\w+)\.npy$/.test(f));
  assert.ok(files.length >= 16);
  for (const f of files) {
    const bytes = readFileSync(fixture(f));
    const a = readNpy(fixture(f));
    assert.deepEqual(concat(encodeNpy(a)), bytes, f);
  }
});

test("write/read round trip for each dtype, with a long header (version 2.0)", () => {
  withTmp((dir) => {
    const cases: [NpyDtype, NpyArray["data"]][] = [
      ["f4", new Float32Array([1.5, -0, NaN, Infinity, 3e-45])],
      ["f8", new Float64Array([Math.PI, -1e-310, 1e308])],
      ["f2", new Float32Array([1, 0.5, -65504, 2 ** -24])],
      ["i1", new Int8Array([-128, 0, 127])],
      ["i2", new Int16Array([-32768, 5, 32767])],
      ["i4", new Int32Array([-(2 ** 31), 0, 2 ** 31 - 1])],
      ["i8", new BigInt64Array([-(2n ** 63n), 0n, 2n ** 63n - 1n])],
      ["u1", new Uint8Array([0, 128, 255])],
      ["u2", new Uint16Array([0, 65535])],
      ["u4", new Uint32Array([0, 2 ** 32 - 1])],
      ["u8", new BigUint64Array([0n, 2n ** 64n - 1n])],
      ["b1", new Uint8Array([1, 0, 1])],
    ];
    for (const [dtype, data] of cases) {
      const p = join(dir, `${dtype}.npy`);
      writeNpy(p, { dtype, shape: [data.length], data });
      const back = readNpy(p);
      assert.equal(back.dtype, dtype);
      assert.deepEqual(back.shape, [data.length]);
      assert.deepEqual(back.data, data, dtype);
      // The data starts on a 64-byte boundary, as numpy lays it out.
      const itemsize = Number(dtype.slice(1));
      assert.equal((readFileSync(p).length - data.length * itemsize) % 64, 0);
    }
    // 30,000 axes of length 1: a header over 64 KiB needs format 2.0 (numpy parses such a
    // header, though it refuses arrays of more than 64 dimensions).
    const shape = new Array(30000).fill(1);
    writeNpy(join(dir, "long.npy"), { shape, data: new Float64Array([2]) });
    const raw = readFileSync(join(dir, "long.npy"));
    assert.equal(raw[6], 2);
    assert.deepEqual(readNpy(join(dir, "long.npy")), { dtype: "f8", shape, data: new Float64Array([2]) });
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith(".tmp")), []);
  });
});

test("refused inputs: Fortran order, big-endian, complex, structured", () => {
  throwsInput(() => readNpy(fixture("npy_fortran.npy")), "npy_fortran.npy", "Fortran-order");
  throwsInput(() => readNpy(fixture("npy_big_endian.npy")), "npy_big_endian.npy", "big-endian", ">f4");
  throwsInput(() => readNpy(fixture("npy_complex.npy")), "npy_complex.npy", "unsupported dtype '<c8'");
  const hdr = (dict: string) => {
    const text = dict.padEnd(117, " ") + "\n";
    return new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length, 0, ...Buffer.from(text, "latin1")]);
  };
  throwsInput(() => parseNpy(hdr("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (0,), }"), "s.npy"), "s.npy", "structured");
  throwsInput(() => parseNpy(hdr("{'descr': '<U5', 'fortran_order': False, 'shape': (0,), }"), "u.npy"), "unsupported dtype '<U5'");
  throwsInput(() => parseNpy(hdr("{'descr': '<f4', 'shape': (0,), }"), "m.npy"), "no 'fortran_order'");
  throwsInput(() => parseNpy(hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), "m.npy"), "'shape'");
  throwsInput(() => parseNpy(hdr("{'descr': '<f4' 'fortran_order': False}"), "g.npy"), "g.npy", "expected ','");
  // Python 2 era long integers in the shape are accepted.
  assert.deepEqual(parseNpy(hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (0L, 2L), }"), "l.npy").shape, [0, 2]);
});

test("unreadable, bad magic, bad version, truncated header and data, trailing bytes", () => {
  withTmp((dir) => {
    throwsInput(() => readNpy(join(dir, "missing.npy")), "missing.npy", "cannot read .npy file: no such file");
    mkdirSync(join(dir, "folder.npy"));
    throwsInput(() => readNpy(join(dir, "folder.npy")), "folder.npy", "cannot read");
    const p = join(dir, "x.npy");
    writeFileSync(p, "col1,col2\n1,2\n");
    throwsInput(() => readNpy(p), "x.npy", "bad magic", "col1");
    writeFileSync(p, new Uint8Array(0));
    throwsInput(() => readNpy(p), "bad magic", "got 0 bytes");
    const good = readFileSync(fixture("npy_f4.npy"));
    const bad = Uint8Array.from(good); bad[6] = 4;
    throwsInput(() => parseNpy(bad, "v.npy"), "v.npy", "version 4.0");
    throwsInput(() => parseNpy(good.subarray(0, 50), "h.npy"), "h.npy", "truncated header");
    throwsInput(() => parseNpy(good.subarray(0, good.length - 5), "t.npy"), "t.npy", "truncated data", "needs 48 bytes", "has 43");
    throwsInput(() => parseNpy(Buffer.concat([good, Buffer.from([0])]), "t.npy"), "trailing", "has 49");
  });
});

test("writing refuses data that does not fit, and leaves nothing behind", () => {
  withTmp((dir) => {
    const p = join(dir, "bad.npy");
    throwsInput(() => writeNpy(p, { shape: [2, 2], data: new Float32Array(3) }), "bad.npy", "needs 4 values");
    throwsInput(() => writeNpy(p, { dtype: "f8", shape: [1], data: new Float32Array(1) }), "dtype 'f8' does not match");
    assert.deepEqual(readdirSync(dir), []);
    throwsInput(() => writeNpy(join(dir, "no", "such", "dir.npy"), { shape: [1], data: new Float32Array(1) }), "cannot write file");
  });
});
