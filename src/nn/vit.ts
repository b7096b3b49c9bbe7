/**
 * A small vision transformer `vit:patch=4,dim=64,depth=2,heads=4[,mlp=2*dim,pool=cls|mean,
 * classes=10,in=3x32x32]` (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words"), in the
 * pre-norm form of timm's VisionTransformer, with its state_dict names, in state_dict order:
 * - cls_token [1, 1, dim] (pool=cls only), prepended to the patch tokens;
 * - pos_embed [1, T, dim], learned, added to the tokens (T = patches, + 1 with the class token);
 * - patch_embed.proj.{weight [dim, C, p, p], bias}: Conv2d(C, dim, kernel=stride=patch), computed
 *   as the equivalent reshape + matmul (each patch flattened in (C, p, p) order);
 * - blocks.i: x = x + attn(norm1(x)); x = x + mlp(norm2(x)), with norm1/norm2 LayerNorm(dim),
 *   attn.qkv.{weight [3 dim, dim], bias}, attn.proj.{weight, bias} (attention.ts), and
 *   mlp.fc1 Linear(dim, mlp), GELU (exact, erf; erf.ts), mlp.fc2 Linear(mlp, dim);
 * - norm: LayerNorm(dim) on every token, then pooling: the class token (pool=cls, default) or the
 *   mean over the patch tokens (pool=mean);
 * - head: Linear(dim, classes).
 * No dropout. The PyTorch module it equals is `ViT` in bench/fixtures/make_architectures.py.
 *
 * init(seed): Linear and patch weights and biases PyTorch's default (uniform in +-1/sqrt(fan_in)),
 * LayerNorm weight 1 and bias 0, cls_token and pos_embed normal with std 0.02 (as timm).
 */
import { numpy as np, type Array } from "../engine/jax.ts";
import { hostRng } from "../engine/host-rng.ts";
import { makeLayout, layoutSize, type ParamSpec } from "../tree/layout.ts";
import { paramBlock } from "../tree/vector.ts";
import { layerNorm, linear, selfAttention } from "./attention.ts";
import { geluExact } from "./erf.ts";
import type { Model } from "./model.ts";

export type VitPool = "cls" | "mean";

export interface VitConfig {
  readonly patch: number;
  readonly dim: number;
  readonly depth: number;
  readonly heads: number;
  /** Hidden width of the MLP (default 2 dim). */
  readonly mlp: number;
  readonly pool: VitPool;
  readonly classes: number;
  readonly inputShape: readonly [number, number, number];
}

export const VIT_DEFAULTS: Omit<VitConfig, "mlp"> = { patch: 4, dim: 64, depth: 2, heads: 4, pool: "cls", classes: 10, inputShape: [3, 32, 32] };

export function vit(config: VitConfig, spec: string): Model {
  const { patch: p, dim, depth, heads, mlp, pool, classes } = config;
  const [C, H, W] = config.inputShape;
  const gh = H / p, gw = W / p;
  const patches = gh * gw;
  const tokens = patches + (pool === "cls" ? 1 : 0);
  // state_dict order: the module's own parameters first, then its submodules'.
  const entries: { name: string; shape: number[] }[] = [];
  if (pool === "cls") entries.push({ name: "cls_token", shape: [1, 1, dim] });
  entries.push(
    { name: "pos_embed", shape: [1, tokens, dim] },
    { name: "patch_embed.proj.weight", shape: [dim, C, p, p] },
    { name: "patch_embed.proj.bias", shape: [dim] },
  );
  for (let i = 0; i < depth; i++) {
    const b = `blocks.${i}`;
    entries.push(
      { name: `${b}.norm1.weight`, shape: [dim] },
      { name: `${b}.norm1.bias`, shape: [dim] },
      { name: `${b}.attn.qkv.weight`, shape: [3 * dim, dim] },
      { name: `${b}.attn.qkv.bias`, shape: [3 * dim] },
      { name: `${b}.attn.proj.weight`, shape: [dim, dim] },
      { name: `${b}.attn.proj.bias`, shape: [dim] },
      { name: `${b}.norm2.weight`, shape: [dim] },
      { name: `${b}.norm2.bias`, shape: [dim] },
      { name: `${b}.mlp.fc1.weight`, shape: [mlp, dim] },
      { name: `${b}.mlp.fc1.bias`, shape: [mlp] },
      { name: `${b}.mlp.fc2.weight`, shape: [dim, mlp] },
      { name: `${b}.mlp.fc2.bias`, shape: [dim] },
    );
  }
  entries.push(
    { name: "norm.weight", shape: [dim] },
    { name: "norm.bias", shape: [dim] },
    { name: "head.weight", shape: [classes, dim] },
    { name: "head.bias", shape: [classes] },
  );
  const layout = makeLayout(entries);
  const byName = new Map<string, ParamSpec>(layout.map((q) => [q.name, q]));

  function apply(theta: Array, x: Array): Array {
    const block = (name: string): Array => paramBlock(theta, byName.get(name)!);
    const n = x.shape[0]!;
    // [n, C, gh, p, gw, p] -> [n, gh, gw, C, p, p] -> [n, T, C p p]: one row per patch.
    const rows = x.reshape([n, C, gh, p, gw, p]).transpose([0, 2, 4, 1, 3, 5]).reshape([n, patches, C * p * p]);
    let h = linear(rows, block("patch_embed.proj.weight").reshape([dim, C * p * p]), block("patch_embed.proj.bias"));
    if (pool === "cls") h = np.concatenate([np.broadcastTo(block("cls_token"), [n, 1, dim]), h], 1);
    h = h.add(block("pos_embed"));
    for (let i = 0; i < depth; i++) {
      const b = `blocks.${i}`;
      const a = selfAttention(layerNorm(h.ref, block(`${b}.norm1.weight`), block(`${b}.norm1.bias`)), {
        qkvWeight: block(`${b}.attn.qkv.weight`),
        qkvBias: block(`${b}.attn.qkv.bias`),
        projWeight: block(`${b}.attn.proj.weight`),
        projBias: block(`${b}.attn.proj.bias`),
      }, heads);
      h = h.add(a);
      let m = layerNorm(h.ref, block(`${b}.norm2.weight`), block(`${b}.norm2.bias`));
      m = geluExact(linear(m, block(`${b}.mlp.fc1.weight`), block(`${b}.mlp.fc1.bias`)));
      h = h.add(linear(m, block(`${b}.mlp.fc2.weight`), block(`${b}.mlp.fc2.bias`)));
    }
    h = layerNorm(h, block("norm.weight"), block("norm.bias"));
    const pooled = pool === "cls" ? h.slice([], 0) : h.sum(1).div(patches);
    const out = linear(pooled, block("head.weight"), block("head.bias"));
    theta.dispose();
    return out;
  }

  return {
    spec,
    inputShape: [...config.inputShape],
    outputDim: classes,
    layout,
    size: layoutSize(layout),
    torch:
      `ViT(in_shape=(${C}, ${H}, ${W}), patch=${p}, dim=${dim}, depth=${depth}, heads=${heads}, mlp=${mlp}, ` +
      `pool="${pool}", classes=${classes}) of curvlab's bench/fixtures/make_architectures.py (timm-style pre-norm blocks)`,
    apply,
    init: (seed) => vitInit(layout, seed),
  };
}

function vitInit(layout: readonly ParamSpec[], seed: number): Float64Array {
  const rng = hostRng(seed);
  const out = new Float64Array(layoutSize(layout));
  const fanIn = (name: string): number => {
    const w = layout.find((q) => q.name === name.replace(/bias$/, "weight"))!;
    return w.shape.slice(1).reduce((a, b) => a * b, 1);
  };
  for (const q of layout) {
    const end = q.offset + q.size;
    if (q.name === "cls_token" || q.name === "pos_embed") {
      for (let i = q.offset; i < end; i++) out[i] = 0.02 * rng.normal();
    } else if (/norm\d?\.weight$/.test(q.name)) {
      out.fill(1, q.offset, end);
    } else if (/norm\d?\.bias$/.test(q.name)) {
      // zeros
    } else {
      const bound = 1 / Math.sqrt(fanIn(q.name));
      for (let i = q.offset; i < end; i++) out[i] = (2 * rng.uniform() - 1) * bound;
    }
  }
  return out;
}
