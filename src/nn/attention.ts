/**
 * The pieces of a transformer block, as PyTorch computes them: LayerNorm over the last axis
 * (biased variance, eps 1e-5, affine), a Linear layer on the last axis, and multi-head
 * self-attention with one fused qkv projection (timm's `Attention`: qkv = Linear(dim, 3 dim),
 * split as reshape(B, T, 3, heads, dim / heads), softmax(q k^T / sqrt(dim / heads)) v, heads
 * concatenated, then Linear(dim, dim)). The same as nn.MultiheadAttention(dim, heads,
 * batch_first=True) with in_proj_weight = qkv.weight and out_proj = proj.
 *
 * Float64 exactness under jit: non-integer constants (eps, 1/sqrt(head_dim)) are arrays of the
 * input's dtype (engine/dtype.ts `constant`), and means are sums divided by integers.
 */
import { nn, numpy as np, type Array } from "../engine/jax.ts";
import { constant, type DTypeName } from "../engine/dtype.ts";

/** PyTorch's LayerNorm default eps. */
export const LAYERNORM_EPS = 1e-5;

export function dtypeOf(x: Array): DTypeName {
  return x.dtype === np.float64 ? "float64" : "float32";
}

/** LayerNorm(D) over the last axis of x [..., D]. Consumes its arguments. */
export function layerNorm(x: Array, weight: Array, bias: Array): Array {
  const D = x.shape[x.shape.length - 1]!;
  const mean = x.ref.sum(-1, { keepdims: true }).div(D);
  const d = x.sub(mean);
  const v = d.ref.mul(d.ref).sum(-1, { keepdims: true }).div(D);
  return d.div(np.sqrt(v.add(constant(LAYERNORM_EPS, dtypeOf(d))))).mul(weight).add(bias);
}

/** y = x W^T + b on the last axis: x [..., in], W [out, in], b [out]. Consumes its arguments. */
export function linear(x: Array, weight: Array, bias: Array): Array {
  const shape = x.shape as number[];
  const inF = shape[shape.length - 1]!;
  const outF = weight.shape[0]!;
  const rows = shape.slice(0, -1);
  const flat = x.reshape([rows.reduce((a, b) => a * b, 1), inF]);
  return np.matmul(flat, weight.transpose()).add(bias).reshape([...rows, outF]);
}

export interface AttentionWeights {
  /** [3 dim, dim] and [3 dim]: q, k, v stacked. */
  readonly qkvWeight: Array;
  readonly qkvBias: Array;
  /** [dim, dim] and [dim]. */
  readonly projWeight: Array;
  readonly projBias: Array;
}

/** Multi-head self-attention over x [n, T, dim] (module comment). Consumes x and the weights. */
export function selfAttention(x: Array, w: AttentionWeights, heads: number): Array {
  const [n, T, dim] = x.shape as number[];
  const hd = dim! / heads;
  const qkv = linear(x, w.qkvWeight, w.qkvBias).reshape([n!, T!, 3, heads, hd]).transpose([2, 0, 3, 1, 4]);
  const q = qkv.ref.slice(0);
  const k = qkv.ref.slice(1);
  const v = qkv.slice(2);
  const scale = constant(1 / Math.sqrt(hd), dtypeOf(q));
  const scores = np.matmul(q, k.transpose([0, 1, 3, 2])).mul(scale);
  const attn = nn.softmax(scores, -1);
  const out = np.matmul(attn, v).transpose([0, 2, 1, 3]).reshape([n!, T!, dim!]);
  return linear(out, w.projWeight, w.projBias);
}
