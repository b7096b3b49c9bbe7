// vit: against PyTorch (the ViT module of bench/fixtures/make_architectures.py, float64):
// vit:patch=4,dim=8,depth=1,heads=2,mlp=16,classes=3,in=3x8x8 with PyTorch's state_dict gives
// PyTorch's logits (class-token and mean pooling) and Hessian-vector products on the exact cpu
// device, and the dense Hessian's eigenvalues through `curvlab hessian` (Wasm); erf and GELU
// equal torch.erf and F.gelu; names and spec errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np, grad, jit, type Array } from "../../src/engine/jax.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { erf, geluExact } from "../../src/nn/erf.ts";
import { loadData } from "../../src/data/spec.ts";
import { readNpy } from "../../src/data/npy.ts";
import { makeProblem } from "../../src/curvature/problem.ts";
import { curvatureOperator } from "../../src/curvature/make.ts";
import { loadWeights } from "../../src/train/checkpoint.ts";
import { relativeError } from "../curvature/oracle.ts";
import { throwsInput } from "../data/helpers.ts";

const heavy = process.env.CURVLAB_HEAVY === "1";
await startEngine({ device: "cpu" });

const dir = fileURLToPath(new URL("../fixtures/architectures/", import.meta.url));
const SPEC = "vit:patch=4,dim=8,depth=1,heads=2,mlp=16,classes=3,in=3x8x8";
const dataSpec = `npy:${join(dir, "x.npy")},${join(dir, "y.npy")},classes=3`;
const npy = (name: string) => readNpy(join(dir, name)).data as Float64Array;

for (const pool of ["cls", "mean"]) {
  test(`${SPEC},pool=${pool}: PyTorch's logits to 1e-12 relative`, async () => {
    const model = parseModel(`${SPEC},pool=${pool}`);
    const theta = loadWeights(join(dir, `vit_${pool}.safetensors`), model);
    const out = model.apply(np.array(theta, { dtype: np.float64 }), np.array(npy("x.npy"), { dtype: np.float64 }).reshape([8, 3, 8, 8]));
    const err = relativeError(Float64Array.from(await out.data()), npy(`vit_${pool}_logits.npy`));
    assert.ok(err < 1e-12, `relative error ${err}`);
  });
}

test(`${SPEC}: Hessian-vector products equal PyTorch's dense Hessian times v to 1e-10 relative`, async () => {
  const model = parseModel(SPEC);
  const P = model.size;
  const V = npy("vit_cls_v.npy");
  const HV = npy("vit_cls_hvp.npy");
  assert.equal(V.length, 2 * P);
  const problem = makeProblem(model, loadData(dataSpec), loadWeights(join(dir, "vit_cls.safetensors"), model), { dtype: "float64" });
  const op = curvatureOperator(problem);
  try {
    for (let r = 0; r < 2; r++) {
      const hv = Float64Array.from(await op.matvec(np.array(V.slice(r * P, (r + 1) * P), { dtype: np.float64 })).data());
      const err = relativeError(hv, HV.subarray(r * P, (r + 1) * P));
      assert.ok(err < 1e-10, `product ${r}: relative error ${err}`);
    }
  } finally {
    op.dispose();
    problem.dispose();
  }
});

test("erf and GELU equal torch.erf and F.gelu in float64 (eager and under jit); erf' = 2/sqrt(pi) exp(-x^2)", async () => {
  const ref = readNpy(join(dir, "erf_reference.npy"));
  const n = ref.shape[1]!;
  const all = ref.data as Float64Array;
  const xs = all.subarray(0, n), erfs = all.subarray(n, 2 * n), gelus = all.subarray(2 * n, 3 * n);
  const arr = () => np.array(Float64Array.from(xs), { dtype: np.float64 });
  const maxRel = (got: ArrayLike<number>, want: ArrayLike<number>, floor: number) => {
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(Math.abs(want[i]!), floor));
    return worst;
  };
  const erfJit = jit((x: Array) => erf(x));
  for (const f of [erf, (x: Array) => erfJit(x)]) {
    const e = maxRel(await f(arr()).data(), erfs, 1e-300);
    assert.ok(e < 1e-15, `erf: max relative error ${e}`);
  }
  erfJit.dispose();
  // x/2 (1 + erf(x / sqrt 2)) cancels for x < 0 in both (one ulp of erf, times |x|/2): errors
  // relative to max(|x|, 1).
  const gelu = await geluExact(arr()).data();
  let g = 0;
  for (let i = 0; i < n; i++) g = Math.max(g, Math.abs(gelu[i]! - gelus[i]!) / Math.max(Math.abs(xs[i]!), 1));
  assert.ok(g < 1e-15, `gelu: max error ${g}`);
  const d = await grad((x: Array) => erf(x).sum())(arr()).data();
  const exact = Float64Array.from(xs, (x) => (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x));
  const de = maxRel(d, exact, 1e-3);
  assert.ok(de < 1e-12, `erf': max error ${de}`);
});

test("vit:patch=4,dim=64,depth=2,heads=4 names its parameters in state_dict order (timm's names)", () => {
  const m = parseModel("vit:patch=4,dim=64,depth=2,heads=4");
  assert.equal(m.outputDim, 10);
  assert.deepEqual(m.inputShape, [3, 32, 32]);
  const names = m.layout.map((p) => p.name);
  assert.deepEqual(names.slice(0, 4), ["cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias"]);
  assert.deepEqual(names.slice(-4), ["norm.weight", "norm.bias", "head.weight", "head.bias"]);
  const shape = (n: string) => m.layout.find((p) => p.name === n)?.shape;
  assert.deepEqual(shape("pos_embed"), [1, 65, 64]);
  assert.deepEqual(shape("patch_embed.proj.weight"), [64, 3, 4, 4]);
  assert.deepEqual(shape("blocks.1.attn.qkv.weight"), [192, 64]);
  assert.deepEqual(shape("blocks.1.mlp.fc1.weight"), [128, 64]);
  assert.equal(m.buffers, undefined);
  const mean = parseModel("vit:patch=4,dim=64,depth=2,heads=4,pool=mean,mlp=32");
  assert.equal(mean.layout.find((p) => p.name === "cls_token"), undefined);
  assert.deepEqual(mean.layout.find((p) => p.name === "pos_embed")!.shape, [1, 64, 64]);
  assert.deepEqual(mean.layout.find((p) => p.name === "blocks.0.mlp.fc2.weight")!.shape, [64, 32]);
  // Sizes: PyTorch's counts for the fixture models.
  assert.equal(parseModel(SPEC).size, npy("vit_cls_v.npy").length / 2);
});

test("bad vit specs: one InputError each", () => {
  throwsInput(() => parseModel("vit:dim=10,heads=4"), "heads (4) must divide dim (10)");
  throwsInput(() => parseModel("vit:patch=5"), "patch (5) must divide the image size 32x32");
  throwsInput(() => parseModel("vit:patch=4,in=1x28x30"), "patch (4) must divide the image size 28x30");
  throwsInput(() => parseModel("vit:patch=4,width=3"), 'unknown key "width"', "patch, dim, depth, heads, mlp, pool, classes, in");
  throwsInput(() => parseModel("vit:pool=max"), "pool must be cls or mean");
  throwsInput(() => parseModel("vit:depth=0"), "depth", "positive integer");
  throwsInput(() => parseModel("vit:dim"), "key=value");
});

test("curvlab hessian --dense on the fixture ViT (Wasm, float64): PyTorch's eigenvalues", { skip: !heavy }, async () => {
  const { runCli } = await import("../cli/run-cli.ts");
  const r = runCli(["hessian", "--model", SPEC, "--data", dataSpec, "--weights", join(dir, "vit_cls.safetensors"), "--dense", "--json", "--quiet"]);
  assert.equal(r.status, 0, r.stderr);
  const got = (JSON.parse(r.stdout) as { eigenvalues: number[] }).eigenvalues;
  const expected = npy("vit_cls_hessian_eigenvalues.npy");
  assert.equal(got.length, expected.length);
  // Wasm's float64 exp is float32-accurate (ENGINE-NOTES: HVPs to about 2e-8 relative); the
  // exact products above hold to 1e-10.
  const err = relativeError(got, expected);
  assert.ok(err < 5e-8, `max eigenvalue error ${err} relative to the largest`);
});
