// Scratch: kernel profile of one conv formulation of conv-variants.ts (CURVLAB_THREADS=1).
//   node --import tsx bench/scratch/prof-variant.ts CASE VARIANT [jit]
import { numpy as np, jit, vjp, type Array } from "../../src/engine/jax.ts";
import { printProfile } from "./kprof.ts";
process.argv.splice(2, 0, "0", "__none__", "__none__");
const { variants, cases, randn } = await import("./conv-variants.ts");
const [, , , , , name, vname, mode] = process.argv;
const c = cases.find((c) => c[0] === name)!;
const [, xs, ws, s, p] = c;
const conv = variants[vname!]!;
const x = randn(xs), w = randn(ws);
const y0 = conv(x.ref, w.ref, s, p);
const ct = randn([...y0.shape]);
y0.dispose();
const fwd = mode === "jit" ? jit((a: Array, b: Array) => conv(a, b, s, p)) : (a: Array, b: Array) => conv(a, b, s, p);
await printProfile(`${name} ${vname} fwd ${mode ?? "eager"}`, () => fwd(x.ref, w.ref));
const bw = (a: Array, b: Array, c: Array) => {
  const [y, back] = vjp((q: Array, r: Array) => conv(q, r, s, p), [a, b]);
  y.dispose();
  const [gx, gw] = back(c);
  back.dispose();
  return gx.sum().add(gw.sum());
};
const bwd = mode === "jit" ? jit(bw) : bw;
await printProfile(`${name} ${vname} fwd+vjp ${mode ?? "eager"}`, () => bwd(x.ref, w.ref, ct.ref));
process.exit(0);
