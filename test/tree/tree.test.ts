import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { makeLayout, layoutSize, blockRange, flattenParams, unflattenParams } from "../../src/tree/layout.ts";
import { dot, norm, axpy, scale, fromHost, gaussianDirection, rademacherDirection } from "../../src/tree/vector.ts";
import { InputError } from "../../src/errors.ts";

await startEngine({ device: "wasm" });

test("layout offsets, blocks by parameter or layer, flatten/unflatten round trip", () => {
  const layout = makeLayout([
    { name: "0.weight", shape: [3, 2] },
    { name: "0.bias", shape: [3] },
    { name: "2.weight", shape: [1, 3] },
  ]);
  assert.deepEqual(layout.map((p) => [p.offset, p.size]), [[0, 6], [6, 3], [9, 3]]);
  assert.equal(layoutSize(layout), 12);
  assert.deepEqual(blockRange(layout, "0"), { offset: 0, size: 9, names: ["0.weight", "0.bias"] });
  assert.deepEqual(blockRange(layout, "2.weight"), { offset: 9, size: 3, names: ["2.weight"] });
  assert.throws(() => blockRange(layout, "1"), InputError);
  const flat = Float64Array.from({ length: 12 }, (_, i) => i + 0.5);
  const named = unflattenParams(layout, flat);
  assert.deepEqual(Array.from(named.get("0.bias")!.data), [6.5, 7.5, 8.5]);
  const back = flattenParams(layout, named, new Float64Array(12), "test");
  assert.deepEqual(Array.from(back), Array.from(flat));
  const wrong = new Map(named);
  wrong.set("0.bias", { shape: [4], data: new Float64Array(4) });
  assert.throws(() => flattenParams(layout, wrong, new Float64Array(12), "w.safetensors"), /0\.bias.*\[4\].*\[3\]/);
});

test("dot, norm, axpy, scale agree with host arithmetic in float64; directions are seeded", async () => {
  const a = [1.5, -2, 0.25, 3], b = [0.1, 0.2, -0.3, 0.4];
  const A = fromHost(a, "float64"), B = fromHost(b, "float64");
  // Summation order may differ from the host's: equal to a few ulps.
  const close = (x: number, y: number) => assert.ok(Math.abs(x - y) <= 4e-16 * Math.abs(y), `${x} vs ${y}`);
  close(await dot(A, B), a.reduce((s, x, i) => s + x * b[i], 0));
  close(await norm(A), Math.hypot(...a));
  assert.deepEqual(Array.from(await axpy(0.1, A, B).data()), a.map((x, i) => 0.1 * x + b[i]));
  assert.deepEqual(Array.from(await scale(-0.3, A).data()), a.map((x) => -0.3 * x));
  const g1 = Array.from(await gaussianDirection(5, 1000, "float64").data(), Number);
  const g2 = Array.from(await gaussianDirection(5, 1000, "float64").data());
  const g3 = Array.from(await gaussianDirection(6, 1000, "float64").data());
  assert.deepEqual(g1, g2);
  assert.notDeepEqual(g1, g3);
  const mean = g1.reduce((s, x) => s + x, 0) / 1000;
  const variance = g1.reduce((s, x) => s + x * x, 0) / 1000;
  assert.ok(Math.abs(mean) < 0.15 && Math.abs(variance - 1) < 0.15, `mean ${mean}, variance ${variance}`); // ~5 sigma
  const r = Array.from(await rademacherDirection(7, 1000, "float32").data(), Number);
  assert.ok(r.every((x) => x === 1 || x === -1));
  assert.ok(Math.abs(r.reduce((s, x) => s + x, 0)) < 160); // 5 sigma of a sum of 1000 signs
  A.dispose(); B.dispose();
});
