// conv2d (sums of matmuls over row slices, src/nn/conv.ts) equals jax-js's lax.conv in float64:
// values, the gradient of a scalar function of x and w, and a JVP, over strides 1 and 2, paddings
// 0 and 1 (and 2), kernels 1, 3 and 5 and several channel counts (both the stacked-taps path for
// few channels and the per-tap path); maxPool2 equals the reshape+max definition; the Hessian of a
// small LeNet built from Hessian-vector products equals the dense autodiff Hessian.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np, lax, grad, jvp, defaultDevice, type Array } from "../../src/engine/jax.ts";
import { conv2d, conv2dNhwc, maxPool2, globalAvgPool } from "../../src/nn/conv.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { makeProblem } from "../../src/curvature/problem.ts";
import { hessianOperator } from "../../src/curvature/hessian.ts";
import { materialize } from "../../src/curvature/dense.ts";
import { denseOracle, relativeError } from "../curvature/oracle.ts";

await startEngine({ device: "wasm" });

let seed = 12345;
function rand(shape: number[]): Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 16807) % 2147483647;
    data[i] = (seed / 2147483647) * 2 - 1;
  }
  return np.array(data, { dtype: np.float64 }).reshape(shape);
}

const host = async (a: Array) => Float64Array.from((await a.data()) as Float64Array);
const laxConv = (x: Array, w: Array, s: number, p: number) => lax.conv(x, w, [s, s], p === 0 ? "VALID" : [[p, p], [p, p]]);
const TOL = 1e-12;

// [n, C, H, W, O, k, stride, padding]
const CASES: [number, number, number, number, number, number, number, number][] = [
  [2, 1, 9, 8, 3, 3, 1, 0],
  [2, 3, 8, 8, 4, 3, 1, 1],
  [2, 6, 12, 12, 5, 5, 1, 0],
  [2, 8, 8, 7, 4, 3, 1, 1],
  [2, 16, 8, 8, 8, 3, 2, 1],
  [3, 8, 9, 9, 6, 3, 2, 1],
  [2, 3, 7, 7, 4, 3, 2, 1],
  [2, 8, 8, 8, 4, 1, 2, 0],
  [2, 9, 7, 6, 4, 1, 1, 0],
  [1, 2, 6, 6, 3, 5, 1, 2],
  [2, 8, 10, 10, 4, 5, 2, 0],
  [2, 12, 6, 6, 16, 3, 1, 0],
];

for (const [n, C, H, W, O, k, s, p] of CASES) {
  const label = `x[${n},${C},${H},${W}] w[${O},${C},${k},${k}] stride ${s} padding ${p}`;
  test(`conv2d equals lax.conv in float64: values, gradient and JVP (${label})`, async () => {
    const x = rand([n, C, H, W]), w = rand([O, C, k, k]);
    const a = await host(conv2d(x.ref, w.ref, { stride: s, padding: p }));
    const b = await host(laxConv(x.ref, w.ref, s, p));
    assert.equal(a.length, b.length);
    assert.ok(relativeError(a, b) <= TOL, `values: ${relativeError(a, b)}`);
    // Scalar function of both arguments, nonlinear in the output.
    const c = rand([n, O, Math.floor((H + 2 * p - k) / s) + 1, Math.floor((W + 2 * p - k) / s) + 1]);
    const f = (conv: typeof laxConv) => (xx: Array, ww: Array) => {
      const y = conv(xx, ww, s, p);
      return y.ref.mul(y).mul(c.ref).sum();
    };
    const ours = f((xx, ww) => conv2d(xx, ww, { stride: s, padding: p }));
    const ref = f(laxConv);
    for (const arg of [0, 1] as const) {
      const g1 = await host(grad((xx: Array, ww: Array) => ours(xx, ww), { argnums: arg })(x.ref, w.ref));
      const g2 = await host(grad((xx: Array, ww: Array) => ref(xx, ww), { argnums: arg })(x.ref, w.ref));
      assert.ok(relativeError(g1, g2) <= TOL, `gradient w.r.t. ${arg ? "w" : "x"}: ${relativeError(g1, g2)}`);
    }
    const dx = rand([n, C, H, W]), dw = rand([O, C, k, k]);
    const [p1, t1] = jvp(ours, [x.ref, w.ref], [dx.ref, dw.ref]);
    const [p2, t2] = jvp(ref, [x.ref, w.ref], [dx, dw]);
    p1.dispose(), p2.dispose();
    const [j1, j2] = [await host(t1), await host(t2)];
    assert.ok(relativeError(j1, j2) <= TOL, `JVP: ${relativeError(j1, j2)}`);
    x.dispose(), w.dispose(), c.dispose();
  });
}

test("conv2dNhwc is conv2d on channels-last activations", async () => {
  const x = rand([2, 4, 7, 7]), w = rand([6, 4, 3, 3]);
  const a = await host(conv2dNhwc(x.ref.transpose([0, 2, 3, 1]), w.ref, { stride: 2, padding: 1 }).transpose([0, 3, 1, 2]));
  const b = await host(conv2d(x, w, { stride: 2, padding: 1 }));
  assert.deepEqual(a, b);
});

test("conv2d rejects a kernel that does not fit the input", () => {
  assert.throws(() => conv2d(rand([1, 2, 5, 5]), rand([3, 4, 3, 3])), /do not fit/);
  assert.throws(() => conv2d(rand([1, 2, 2, 2]), rand([3, 2, 3, 3])), /does not fit/);
});

test("maxPool2 equals the reshape+max definition (values and gradient; odd sizes drop the last row/column)", async () => {
  for (const [h, wd] of [[8, 8], [7, 9]] as const) {
    const x = rand([2, 3, h, wd]);
    const h2 = Math.floor(h / 2), w2 = Math.floor(wd / 2);
    const def = (a: Array) => a.slice([], [], [0, 2 * h2], [0, 2 * w2]).reshape([2, 3, h2, 2, w2, 2]).max([3, 5]);
    const a = await host(maxPool2(x.ref));
    const b = await host(def(x.ref));
    assert.deepEqual(a, b);
    const c = rand([2, 3, h2, w2]);
    const g1 = await host(grad((q: Array) => maxPool2(q).mul(c.ref).sum())(x.ref));
    const g2 = await host(grad((q: Array) => def(q).mul(c.ref).sum())(x.ref));
    assert.deepEqual(g1, g2); // no ties among random values
    x.dispose(), c.dispose();
  }
});

test("globalAvgPool is the mean over the spatial dimensions", async () => {
  const x = rand([2, 3, 4, 5]);
  const a = await host(globalAvgPool(x.ref));
  const b = await host(x.mean([2, 3]));
  assert.ok(relativeError(a, b) <= TOL);
});

test("Hessian of a small LeNet from Hessian-vector products equals the dense autodiff Hessian (float64)", async () => {
  const model = parseModel("cnn:lenet:in=1x10x10,c1=2,c2=3,k=3,classes=3");
  const data = loadData("gmm:k=3,d=100,n=5,sep=2,seed=4");
  defaultDevice("cpu");
  const exact = makeProblem(model, data, model.init(3), { dtype: "float64", batchSize: 1000 });
  const oracle = await denseOracle(exact);
  exact.dispose();
  defaultDevice("wasm");
  const problem = makeProblem(model, data, model.init(3), { dtype: "float64", batchSize: 2 });
  const op = hessianOperator(problem);
  const H = await materialize(op, { symmetrize: false });
  op.dispose(), problem.dispose();
  // Wasm float64 arithmetic; the loss's exp/log are float32-precise there (about 1e-8).
  const err = relativeError(H.data, oracle.H);
  assert.ok(err <= 1e-6, `relative error ${err}`);
});
