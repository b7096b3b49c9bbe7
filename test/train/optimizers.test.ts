// Optimizers against PyTorch (torch 1.13, float64): the reference values below are the
// parameters torch.optim produced on the same problems, printed with repr(); the script is in
// the comment of each block. Wasm float64 arithmetic (+, *, /, sqrt) is IEEE-exact, so the only
// differences are summation order: tolerance 1e-13 relative.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np, jit, grad, type Array } from "../../src/engine/jax.ts";
import { parseModel } from "../../src/nn/spec.ts";
import type { Dataset } from "../../src/data/dataset.ts";
import {
  makeOptimizer, parseOptimizer, resolveOptimizer, describeOptimizer, type OptimizerConfig,
} from "../../src/train/optimizers.ts";
import { train } from "../../src/train/train.ts";
import { throwsInput } from "../data/helpers.ts";

await startEngine({ device: "wasm" });

const f64 = (v: number[]) => np.array(Float64Array.from(v), { dtype: np.float64 });

function close(actual: ArrayLike<number>, expected: readonly number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!));
    assert.ok(err <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (rel ${err.toExponential(2)})`);
  }
}

// f(p) = 0.5 p^T A p - b^T p, p0 = [0.5, -1, 2]; 5 steps of each optimizer:
//   A = torch.tensor([[3.,1,0],[1,2,.5],[0,.5,1]]); b = torch.tensor([1.,-2,.5])
//   p = torch.tensor(p0, requires_grad=True); opt = <optimizer>([p], ...)
//   for t in range(5): opt.zero_grad(); (0.5*p@A@p - b@p).backward(); opt.step(); print(p)
const A = [3, 1, 0, 1, 2, 0.5, 0, 0.5, 1];
const b = [1, -2, 0.5];
const p0 = [0.5, -1, 2];
const torchQuadratic: [string, OptimizerConfig, number[][]][] = [
  ["SGD(lr=0.1)", { name: "sgd", lr: 0.1 }, [
    [0.55, -1.15, 1.9], [0.6, -1.27, 1.8175], [0.647, -1.366875, 1.74925],
    [0.6895875, -1.4456625, 1.69266875], [0.7272775, -1.5101221875000002, 1.6456849999999998]]],
  ["SGD(lr=0.1, weight_decay=0.01)", { name: "sgd", lr: 0.1, weightDecay: 0.01 }, [
    [0.5495, -1.149, 1.898], [0.5990005, -1.267901, 1.8137519999999998],
    [0.6454914495, -1.3636405489999999, 1.7439580979999998],
    [0.6875625781005, -1.441295848501, 1.6860003575519997],
    [0.7247358269423495, -1.504651658639949, 1.6377791138642976]]],
  ["SGD(lr=0.05, momentum=0.9, weight_decay=0.01)", { name: "momentum", lr: 0.05, momentum: 0.9, weightDecay: 0.01 }, [
    [0.52475, -1.0745, 1.949], [0.571775125, -1.20852525, 1.856538],
    [0.6384718436875001, -1.382693393625, 1.73478016225],
    [0.7215435477125314, -1.5757771330688126, 1.5971590449220001],
    [0.8165046340577642, -1.7671930502035047, 1.4570379358849594]]],
  ["Adam(lr=0.1)", { name: "adam", lr: 0.1 }, [
    [0.599999998, -1.0999999993333334, 1.900000001],
    [0.6957490135210906, -1.1995877709635296, 1.8007484444130826],
    [0.7805198749807445, -1.2983927820956134, 1.7029725063060182],
    [0.8455568466905184, -1.3959071135584222, 1.6076306740835382],
    [0.8864754808525731, -1.4913843872201795, 1.5159597499298028]]],
  ["Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)",
    { name: "adam", lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.1 }, [
      [0.5099999777778271, -1.009999992857148, 1.9900000083333265],
      [0.519971761360921, -1.0199937235567227, 1.9800073618719927],
      [0.5298950195580403, -1.0299769817318836, 1.9700270047232766],
      [0.5397485137193798, -1.0399455735408127, 1.9600638531349994],
      [0.549510330602106, -1.0498953526947, 1.950122747270692]]],
];

for (const [label, config, expected] of torchQuadratic) {
  test(`${label}: 5 jitted steps on a quadratic equal torch.optim`, async () => {
    const opt = makeOptimizer(config);
    const f = (p: Array, Am: Array, bv: Array) =>
      np.matmul(Am, p.ref).mul(p.ref).sum().mul(f64([0.5]).reshape([])).sub(bv.mul(p).sum());
    const step = jit((p: Array, state: Array[], h: Array, Am: Array, bv: Array) =>
      opt.update(p.ref, grad(f)(p, Am, bv), state, h));
    let p = f64(p0);
    let state = opt.initState(3, "float64");
    try {
      for (let t = 1; t <= 5; t++) {
        const [next, nextState] = step(p, state, f64([...opt.scalars(t)]), f64(A).reshape([3, 3]), f64(b));
        p = next;
        state = nextState;
        close(await p.ref.data(), expected[t - 1]!, 1e-13, `${label} step ${t}`);
      }
    } finally {
      p.dispose();
      for (const s of state) s.dispose();
      step.dispose();
    }
  });
}

// The whole training loop, float64, full batch, MSE: Linear(3, 2) from a fixed start, 4 steps:
//   X = [[.5,-1,2],[1.5,.25,-.5],[-1,2,0],[0,-.5,1]]; y = [0,1,1,0]; T = one_hot(y, 2)
//   lin.weight = [[.1,-.2,.3],[-.4,.5,-.6]]; lin.bias = [.05,-.05]
//   loss = ((lin(X) - T)**2).sum() / 4; print(loss) before each opt.step(); print(weight, bias)
const linearData: Dataset = {
  x: Float64Array.from([0.5, -1, 2, 1.5, 0.25, -0.5, -1, 2, 0, 0, -0.5, 1]),
  featureShape: [3],
  y: Int32Array.from([0, 1, 1, 0]),
  numClasses: 2,
  name: "four points",
};
const linearStart = [0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.05, -0.05];
const torchLinear: [string, OptimizerConfig, number[], number[]][] = [
  ["SGD(lr=0.05, momentum=0.9, weight_decay=0.001)", { name: "momentum", lr: 0.05, momentum: 0.9, weightDecay: 0.001 },
    [0.019877853739158412, -0.10201831758066321, 0.42820972108748145, 0.1450976251669522, 0.09601143817731894,
      0.042803916597933624, 0.24859541259255655, 0.5848045666281149],
    [1.6876562500000003, 1.1116395423403564, 0.43942603975047667, 0.12631501680476467]],
  ["Adam(lr=0.01)", { name: "adam", lr: 0.01 },
    [0.060451913628998946, -0.16043002577170862, 0.3397871555181309, -0.3600557357264063, 0.46009136532178957,
      -0.5600664391362649, 0.0898224193546937, -0.010045495242649357],
    [1.6876562500000003, 1.605803125756429, 1.526762111404854, 1.4505759150378277]],
];

for (const [label, optimizer, expectedTheta, expectedLosses] of torchLinear) {
  test(`train(): Linear(3, 2), MSE, full batch, ${label}: 4 steps equal PyTorch`, async () => {
    const losses: number[] = [];
    const r = await train(
      { model: parseModel("mlp:3-2:linear"), train: linearData, loss: "mse", optimizer, batchSize: 4, steps: 4, dtype: "float64", initTheta: linearStart },
      { onStep: (s) => { losses.push(s.batchLoss); } },
    );
    assert.ok(r.theta instanceof Float64Array);
    close(r.theta, expectedTheta, 1e-13, "theta");
    close(losses, expectedLosses, 1e-13, "batch losses");
    assert.equal(r.steps, 4);
  });
}

test("hand-computed: f = p^2 from p = 1 (g = 2p)", async () => {
  // sgd lr .1: p <- 0.8p. momentum .9 lr .1: buf 2, 3.4, 3.98; p 0.8, 0.46, 0.062.
  // adam lr .1, step 1: m_hat = g, v_hat = g^2: p = 1 - 0.1 * 2 / (2 + 1e-8).
  const run = async (config: OptimizerConfig, steps: number) => {
    const opt = makeOptimizer(config);
    const step = jit((p: Array, s: Array[], h: Array) => opt.update(p.ref, p.mul(2), s, h));
    let p = f64([1]);
    let s = opt.initState(1, "float64");
    const out: number[] = [];
    for (let t = 1; t <= steps; t++) {
      [p, s] = step(p, s, f64([...opt.scalars(t)]));
      out.push((await p.ref.data())[0]!);
    }
    p.dispose();
    for (const a of s) a.dispose();
    step.dispose();
    return out;
  };
  close(await run({ name: "sgd", lr: 0.1 }, 3), [0.8, 0.64, 0.512], 1e-15, "sgd");
  close(await run({ name: "momentum", lr: 0.1, momentum: 0.9 }, 3), [0.8, 0.46, 0.062], 1e-15, "momentum");
  close(await run({ name: "adam", lr: 0.1 }, 1), [1 - 0.1 * 2 / (2 + 1e-8)], 1e-15, "adam");
});

test("parseOptimizer and defaults", () => {
  assert.deepEqual(parseOptimizer("sgd"), { name: "sgd", lr: 0.1, weightDecay: 0 });
  assert.deepEqual(parseOptimizer("momentum"), { name: "momentum", lr: 0.1, momentum: 0.9, weightDecay: 0 });
  assert.deepEqual(parseOptimizer(" momentum:0.5 ", 0.02, 1e-4), { name: "momentum", lr: 0.02, momentum: 0.5, weightDecay: 1e-4 });
  assert.deepEqual(parseOptimizer("adam"), { name: "adam", lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
  assert.deepEqual(parseOptimizer("adam:0.8,0.99,1e-6", 0.01), { name: "adam", lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0 });
  assert.deepEqual(resolveOptimizer({ name: "momentum" }), parseOptimizer("momentum"));
  assert.equal(describeOptimizer(parseOptimizer("momentum:0.9", 0.05)), "momentum(lr=0.05, mu=0.9)");
  throwsInput(() => parseOptimizer("rmsprop"), "optimizer: ", "unknown optimizer", "sgd");
  throwsInput(() => parseOptimizer("sgd:0.9"), "optimizer: ", "no options");
  throwsInput(() => parseOptimizer("momentum:x"), "optimizer: ", "momentum must be a number");
  throwsInput(() => parseOptimizer("momentum:1"), "optimizer: ", "[0, 1)");
  throwsInput(() => parseOptimizer("adam:0.9"), "optimizer: ", "B1,B2");
  throwsInput(() => parseOptimizer("sgd", 0), "lr: ", "> 0");
  throwsInput(() => parseOptimizer("sgd", Number.NaN), "lr: ");
  throwsInput(() => parseOptimizer("sgd", 0.1, -1), "weightDecay: ", ">= 0");
  throwsInput(() => parseOptimizer("adam:0.9,0.999,0"), "optimizer: ", "eps");
});
