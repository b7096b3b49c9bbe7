import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  encodeSafetensors, parseSafetensors, readSafetensors, writeSafetensors, type TensorInput,
} from "../../src/data/safetensors.ts";
import { fixture, throwsInput, withTmp } from "./helpers.ts";

const fixturePath = fixture("st_mixed.safetensors");

test("reads the python-written file: values, dtypes, shapes, metadata", () => {
  const { tensors, metadata } = readSafetensors(fixturePath);
  assert.deepEqual(metadata, { format: "pt", source: "make_safetensors.py" });
  // Data order of the reference layout: I64, F64, F32 (empty, w), I32, BF16, F16.
  assert.deepEqual([...tensors.keys()], ["idx", "b", "empty", "w", "count", "brain", "half"]);
  const t = (k: string) => tensors.get(k)!;
  assert.equal(t("w").dtype, "F32");
  assert.deepEqual(t("w").shape, [2, 3]);
  assert.deepEqual(t("w").data, new Float32Array([-0.5, -0.25, 0, 0.25, 0.5, 0.75]));
  assert.deepEqual(t("b").data, new Float64Array([1 / 3, -2.5, 1e300]));
  assert.equal(t("half").dtype, "F16");
  assert.deepEqual(t("half").data, new Float32Array([1, -0.5, 65504, 2 ** -24]));
  assert.equal(t("brain").dtype, "BF16");
  assert.deepEqual(t("brain").data, new Float32Array([1, -3.5, 2 ** 100]));
  assert.deepEqual(t("idx").data, new BigInt64Array([-(2n ** 40n), -1n, 0n, 2n ** 40n + 3n]));
  assert.deepEqual(t("idx").shape, [2, 2]);
  assert.deepEqual(t("count").data, new Int32Array([-7, 0, 2 ** 31 - 1]));
  assert.deepEqual(t("empty").shape, [0, 4]);
  assert.equal(t("empty").data.length, 0);
});

test("writing reproduces the reference layout byte for byte", () => {
  const { tensors, metadata } = readSafetensors(fixturePath);
  // Reverse the insertion order and the metadata order: the writer sorts both.
  const input = new Map([...tensors].reverse());
  const meta = Object.fromEntries(Object.entries(metadata).reverse());
  assert.deepEqual(Buffer.concat(encodeSafetensors(input, meta)), readFileSync(fixturePath));
});

test("matches the reference library's own serialization examples", () => {
  // Expected bytes from the reference implementation's unit tests: header length, compact JSON,
  // space padding to 8, then the data.
  const file = (header: string, data: Uint8Array = new Uint8Array(0)) => {
    const padded = header + " ".repeat((8 - (header.length % 8)) % 8);
    const len = Buffer.alloc(8); len.writeBigUInt64LE(BigInt(padded.length));
    return Buffer.concat([len, Buffer.from(padded), data]);
  };
  const six = new Float32Array([0, 1, 2, 3, 4, 5]);
  const sixBytes = new Uint8Array(six.buffer);
  const enc = (...a: Parameters<typeof encodeSafetensors>) => Buffer.concat(encodeSafetensors(...a));
  const a = enc({ "attn.0": { shape: [1, 2, 3], data: six } });
  assert.deepEqual(a, file('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}', sixBytes));
  assert.equal(a.readBigUInt64LE(0), 64n);
  const b = enc({ attn0: { shape: [1, 1, 2, 3], data: six } });
  assert.deepEqual(b, file('{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}', sixBytes));
  assert.equal(b.readBigUInt64LE(0), 72n);
  assert.deepEqual(enc({}), file("{}"));
  assert.deepEqual(enc({}, { framework: "pt" }), file('{"__metadata__":{"framework":"pt"}}'));
  assert.equal(enc({}, { framework: "pt" }).length, 48);
  // And they read back.
  assert.deepEqual(parseSafetensors(new Uint8Array(b), "b").tensors.get("attn0")!.data, six);
  assert.deepEqual(parseSafetensors(new Uint8Array(enc({}, { framework: "pt" })), "e").metadata, { framework: "pt" });
});

test("round trip of every dtype through a file; header padded to 8; written atomically", () => {
  withTmp((dir) => {
    const tensors: Record<string, TensorInput> = {
      f64: { shape: [2], data: new Float64Array([Math.E, -0]) },
      f32: { shape: [1, 3], data: new Float32Array([1, NaN, -Infinity]) },
      f16: { dtype: "F16", shape: [2], data: new Float32Array([0.1, -7]) },
      bf16: { dtype: "BF16", shape: [2], data: new Float64Array([0.1, 1e38]) },
      i64: { shape: [2], data: new BigInt64Array([-(2n ** 63n), 5n]) },
      u64: { shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
      i32: { shape: [2], data: new Int32Array([-1, 2]) },
      u32: { shape: [1], data: new Uint32Array([4e9]) },
      i16: { shape: [1], data: new Int16Array([-300]) },
      u16: { shape: [1], data: new Uint16Array([60000]) },
      i8: { shape: [1], data: new Int8Array([-100]) },
      u8: { shape: [2], data: new Uint8Array([0, 255]) },
      flags: { dtype: "BOOL", shape: [3], data: new Uint8Array([1, 0, 1]) },
      "0": { shape: [], data: new Float32Array([42]) },
    };
    const p = join(dir, "all.safetensors");
    writeSafetensors(p, tensors, { note: "round trip", "a b": "ü" });
    assert.deepEqual(readdirSync(dir), ["all.safetensors"]);
    const raw = readFileSync(p);
    const n = Number(raw.readBigUInt64LE(0));
    assert.equal(n % 8, 0);
    // Every tensor's data is aligned to its element size (largest dtypes first).
    const header = JSON.parse(raw.subarray(8, 8 + n).toString());
    for (const [k, v] of Object.entries(header)) {
      if (k === "__metadata__") continue;
      const size = { F64: 8, I64: 8, U64: 8, F32: 4, I32: 4, U32: 4 }[(v as { dtype: string }).dtype as "F64"] ?? 1;
      assert.equal((v as { data_offsets: number[] }).data_offsets[0]! % size, 0, k);
    }
    const back = readSafetensors(p);
    assert.deepEqual(back.metadata, { "a b": "ü", note: "round trip" });
    assert.equal(back.tensors.size, Object.keys(tensors).length);
    for (const [k, t] of Object.entries(tensors)) {
      const b = back.tensors.get(k)!;
      assert.deepEqual(b.shape, t.shape, k);
      if (t.dtype === "F16" || t.dtype === "BF16") {
        assert.equal(b.dtype, t.dtype);
        // Independent oracle: float16 / bfloat16 keep 11 / 8 significant bits.
        const rel = t.dtype === "F16" ? 2 ** -11 : 2 ** -8;
        t.data.forEach((v, i) => assert.ok(Math.abs(Number(b.data[i]) - Number(v)) <= rel * Math.abs(Number(v)), `${k}[${i}]`));
      } else {
        assert.deepEqual(b.data, t.data, k);
      }
    }
  });
});

test("bad files: each an InputError naming the file (and the tensor)", () => {
  const good = readFileSync(fixturePath);
  const n = Number(good.readBigUInt64LE(0));
  const header = JSON.parse(good.subarray(8, 8 + n).toString());
  const data = good.subarray(8 + n);
  const build = (h: unknown, d: Uint8Array = data) => {
    const text = Buffer.from(typeof h === "string" ? h : JSON.stringify(h));
    const len = Buffer.alloc(8); len.writeBigUInt64LE(BigInt(text.length));
    return new Uint8Array(Buffer.concat([len, text, d]));
  };
  const F = "m.safetensors";
  throwsInput(() => parseSafetensors(good.subarray(0, 5), F), F, "too short");
  throwsInput(() => parseSafetensors(good.subarray(0, 100), F), F, `header length ${n} is beyond the end of the file`);
  throwsInput(() => parseSafetensors(build("{not json"), F), F, "not valid JSON");
  throwsInput(() => parseSafetensors(build("[1,2]"), F), F, "not a JSON object");
  throwsInput(() => parseSafetensors(build({ ...header, w: { ...header.w, dtype: "F8_E4M3" } }), F), F, 'tensor "w"', "unsupported dtype \"F8_E4M3\"");
  throwsInput(() => parseSafetensors(build({ ...header, w: { ...header.w, shape: [2, 2] } }), F), F, 'tensor "w"', "shape [2, 2] of F32 needs 16");
  throwsInput(() => parseSafetensors(build({ ...header, w: { ...header.w, shape: [-2, 3] } }), F), 'tensor "w"', "shape");
  throwsInput(() => parseSafetensors(build({ ...header, w: { ...header.w, data_offsets: [5] } }), F), 'tensor "w"', "data_offsets");
  throwsInput(() => parseSafetensors(build(header, data.subarray(0, data.length - 2)), F), F, 'tensor "half"', "run past the end");
  throwsInput(() => parseSafetensors(build(header, Buffer.concat([data, Buffer.alloc(8)])), F), F, "cover 106 bytes of data but 114");
  // Two tensors claiming the same bytes.
  const { half: _h, ...noHalf } = header;
  const overlap = { ...noHalf, dup: { ...header.count } };
  throwsInput(() => parseSafetensors(build(overlap, data.subarray(0, data.length - 8)), F), F, "gap or overlap");
  throwsInput(() => parseSafetensors(build({ ...header, __metadata__: { a: 1 } }), F), F, "__metadata__");
  withTmp((dir) => {
    throwsInput(() => readSafetensors(join(dir, "none.safetensors")), "none.safetensors", "no such file");
    const p = join(dir, "cut.safetensors");
    writeFileSync(p, good.subarray(0, good.length - 1));
    throwsInput(() => readSafetensors(p), p, 'tensor "half"', "file truncated?");
  });
});

test("a failed write leaves neither a partial file nor a temp file, and keeps the old file", () => {
  withTmp((dir) => {
    const p = join(dir, "w.safetensors");
    writeSafetensors(p, { a: { shape: [1], data: new Float32Array([1]) } });
    const before = readFileSync(p);
    throwsInput(() => writeSafetensors(p, { a: { shape: [2], data: new Float32Array([1]) } }), p, 'tensor "a"', "needs 2 values");
    throwsInput(() => writeSafetensors(p, { a: { dtype: "F64", shape: [1], data: new Float32Array([1]) } }), "does not match");
    throwsInput(() => writeSafetensors(p, { a: { dtype: "BOOL", shape: [1], data: new Uint8Array([2]) } }), "0 or 1");
    throwsInput(() => writeSafetensors(p, { __metadata__: { shape: [1], data: new Float32Array([1]) } }), "cannot be a tensor name");
    assert.deepEqual(readFileSync(p), before);
    assert.deepEqual(readdirSync(dir), ["w.safetensors"]);
  });
});
