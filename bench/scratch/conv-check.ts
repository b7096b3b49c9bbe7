// Scratch: conv2d (src/nn/conv.ts) against lax.conv, float64, quick.
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np, lax } from "../../src/engine/jax.ts";
import { conv2d } from "../../src/nn/conv.ts";
import { maxRelDiff } from "../lib/stats.ts";
await startEngine();
let seed = 1;
const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
const arr = (shape: number[]) => np.array(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, rnd), { dtype: np.float64 }).reshape(shape);
for (const [n, C, H, O, k, s, p] of [[2, 1, 9, 3, 3, 1, 0], [2, 6, 12, 4, 5, 1, 0], [2, 8, 8, 4, 3, 1, 1], [3, 8, 9, 5, 3, 2, 1], [2, 16, 8, 8, 1, 2, 0], [2, 3, 7, 4, 3, 2, 1], [1, 2, 6, 3, 5, 1, 2], [2, 9, 7, 4, 1, 1, 0]]) {
  const x = arr([n!, C!, H!, H! + 1]), w = arr([O!, C!, k!, k!]);
  const a = await conv2d(x.ref, w.ref, { stride: s, padding: p }).data();
  const b = await lax.conv(x, w, [s!, s!], p === 0 ? "VALID" : [[p!, p!], [p!, p!]]).data();
  console.log([n, C, H, O, k, s, p].join(","), a.length === b.length ? maxRelDiff(a as Float64Array, b as Float64Array) : `len ${a.length} vs ${b.length}`);
}
process.exit(0);
