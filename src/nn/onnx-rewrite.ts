/**
 * ONNX graph rewrites that run before @jax-js/onnx builds a model: the ops it lacks, and the ops
 * it computes imprecisely in float64, replaced by equivalent nodes of ops it implements exactly
 * (all differentiable, so Hessians flow through them like through the rest of the graph).
 *
 * - BatchNormalization (inference form, as `torch.onnx.export(..., training=TrainingMode.PRESERVE)`
 *   writes it for a model in eval mode): PyTorch's eval-mode batch_norm,
 *   y = (x - running_mean) / sqrt(running_var + eps) * weight + bias, per channel (dimension 1).
 *   The statistics are constants: mean and sqrt(var + eps) are computed on the host in float64 into
 *   new initializers (stored in the statistics' dtype), reshaped to [C, 1, ..., 1] for any rank.
 *   A node in training mode (batch statistics, several outputs) is refused.
 * - GlobalAveragePool: the mean over the spatial dimensions (2 ...), keepdims (PyTorch's
 *   adaptive_avg_pool2d(x, 1)); written as a ReduceMean, then rewritten as below.
 * - AveragePool (2-D, as nn.AvgPool2d(k) exports: no padding, or padding counted, ceil_mode 0; e.g.
 *   the final AvgPool2d(8) of PyHessian's CIFAR ResNets): every channel as its own image, one
 *   Conv with a constant kernel of 1/(kh*kw), then back to [N, C, H', W'] ([N, C, H, W] ->
 *   [N*C, 1, H, W] -> Conv -> [N*C, 1, H', W'] -> [N, C, H', W'], the shapes from Shape nodes).
 * - ReduceMean: ReduceSum divided by the element count held in an array of the compute dtype.
 *   @jax-js/jax's mean multiplies by 1/n, a JavaScript number, which `jit` turns into a float32
 *   constant: under jit a float64 mean over 9 elements was off by 7e-9 relative, the linearized
 *   one too (curvlab replays linearized Hessian products through jit on small problems).
 * - LayerNormalization (opset 17): PyTorch's layer_norm, (x - mean) / sqrt(var + eps) * weight +
 *   bias over the dimensions from `axis` on (biased variance), decomposed into ReduceMean (above),
 *   Sub, Mul, Add, Sqrt, Div: @jax-js/onnx computes it in its own jit with 1/n and eps as
 *   JavaScript numbers (float32 constants in a float64 graph).
 * - Erf (PyTorch's exact GELU, x * 0.5 * (1 + erf(x / sqrt(2))), exports as Div, Erf, Add, Mul):
 *   @jax-js/jax's erf is float32-accurate (erf(0.3) off by 8e-8 on the exact cpu device). Written
 *   as sign(x) * (1 - erfc(|x|)) with erfc from its Chebyshev expansion (Numerical Recipes, 3rd
 *   ed., section 6.2.2, 28 coefficients, evaluated by Horner's rule): within 4.4e-16 of Python's math.erf on [-6, 6], and
 *   smooth, so its derivatives are those of erf to the same order. Gelu (opset 20, approximate
 *   "none") is that formula too; "tanh" stays the package's.
 * - Gather of one constant index from data (not from a shape), e.g. the class token x[:, 0]: a
 *   Slice and a Squeeze. Its derivative is then a pad, not a scatter: @jax-js/jax's jit cannot
 *   compile a scatter ("routine primitive scatter input is not imm"), and curvlab replays the
 *   linearized Hessian products of small problems through jit.
 * - Pow with a constant exponent 2 (PyTorch's LayerNorm decomposition at opsets below 17): x * x.
 *   @jax-js/jax computes pow through exp and log, which the Wasm backend evaluates to float32
 *   precision even in float64: the opset-13 ViT's dense Hessian on wasm was off by 7.5e-6
 *   relative with Pow, by 3e-8 like the opset-17 graph without it.
 *
 * Epsilon attributes are float32 in ONNX (PyTorch's 1e-5 is stored as 9.99999974738e-06); the
 * rewrites use the shortest decimal that rounds to that float32 (1e-5), which is what PyTorch used.
 *
 * Before those, integer constants are folded on the host: every node whose inputs are all integer
 * constants (Constant nodes, integer initializers) and whose op is one of FOLDED_OPS becomes an
 * int64 initializer. PyTorch writes F.pad's amounts as such a chain (Constant, ConstantOfShape,
 * Concat, Reshape, a Slice with step -1 that reverses the pairs, Transpose, Cast); @jax-js/onnx
 * refuses Slice steps <= 0 and would read the amounts back from the device, which fails under jit.
 * A Slice with a negative step left after folding (one on data) is one InputError.
 *
 * The rank of a tensor is not known from the graph in general, so shapes and axes that depend on
 * it are computed with Shape/Slice/ConstantOfShape/Concat nodes, which @jax-js/onnx evaluates on
 * the host (static integer arrays), also under jit.
 */
import { create } from "@bufbuild/protobuf";
import {
  AttributeProtoSchema, AttributeProto_AttributeType, NodeProtoSchema, TensorProtoSchema, TensorProto_DataType,
  type AttributeProto, type GraphProto, type NodeProto, type TensorProto,
} from "onnx-buf";
import { InputError } from "../errors.ts";

/** The ops curvlab rewrites into others before @jax-js/onnx runs the graph. */
export const REWRITTEN_ONNX_OPS: readonly string[] = ["AveragePool", "BatchNormalization", "Erf", "Gather", "Gelu", "GlobalAveragePool", "LayerNormalization", "Pow", "ReduceMean"];

/** The float type the rewritten graph computes in (the dtype of the parameters fed to it). */
export type ComputeType = TensorProto_DataType.FLOAT | TensorProto_DataType.DOUBLE;

export interface RewriteResult {
  /** Float initializers added by the rewrite: constants, never parameters. */
  readonly constants: ReadonlySet<string>;
}

/** Host values of a float initializer, for the BatchNorm statistics. */
export type ReadFloats = (t: TensorProto) => Float64Array;

/** The shortest decimal that rounds to the same float32 as `f` (float32 attributes -> what the user wrote). */
export function float32Decimal(f: number): number {
  const target = Math.fround(f);
  for (let digits = 1; digits <= 9; digits++) {
    const d = Number(f.toPrecision(digits));
    if (Math.fround(d) === target) return d;
  }
  return f;
}

function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}
const intAttr = (node: NodeProto, name: string, dflt: number) => {
  const a = attr(node, name);
  return a ? Number(a.i) : dflt;
};
const floatAttr = (node: NodeProto, name: string, dflt: number) => {
  const a = attr(node, name);
  return a ? a.f : dflt;
};
const intsAttr = (node: NodeProto, name: string) => attr(node, name)?.ints.map(Number);

/** An integer tensor on the host (C order). */
interface HostInts {
  readonly dims: readonly number[];
  readonly data: readonly number[];
}

/** The ops whose integer-constant nodes are folded on the host (module comment). */
const FOLDED_OPS = new Set(["Constant", "ConstantOfShape", "Concat", "Reshape", "Slice", "Transpose", "Cast", "Unsqueeze", "Squeeze", "Identity", "Gather"]);
const INT_TYPES = new Set<number>([TensorProto_DataType.INT64, TensorProto_DataType.INT32]);

function decodeInts(t: TensorProto): HostInts | null {
  if (!INT_TYPES.has(t.dataType)) return null;
  const dims = t.dims.map(Number);
  const count = dims.reduce((a, d) => a * d, 1);
  let data: number[];
  if (t.rawData.length > 0) {
    const bytes = t.rawData.slice();
    data = t.dataType === TensorProto_DataType.INT64 ? Array.from(new BigInt64Array(bytes.buffer, 0, bytes.length / 8), Number) : Array.from(new Int32Array(bytes.buffer, 0, bytes.length / 4));
  } else if (t.int64Data.length > 0) data = t.int64Data.map(Number);
  else data = [...t.int32Data];
  return data.length === count ? { dims, data } : null;
}

const sizeOf = (dims: readonly number[]) => dims.reduce((a, d) => a * d, 1);
function stridesOf(dims: readonly number[]): number[] {
  const st = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) st[i] = st[i + 1]! * dims[i + 1]!;
  return st;
}
/** out[i] = src.data[source(multi-index of i)]. */
function gatherBy(src: HostInts, outDims: number[], source: (idx: number[]) => number[]): HostInts {
  const st = stridesOf(src.dims), n = sizeOf(outDims), ost = stridesOf(outDims);
  const data = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const idx = outDims.map((_, d) => Math.floor(i / ost[d]!) % outDims[d]!);
    data[i] = src.data[source(idx).reduce((a, v, d) => a + v * st[d]!, 0)]!;
  }
  return { dims: outDims, data };
}
const axisOf = (a: number, rank: number) => (a < 0 ? a + rank : a);

function foldNode(node: NodeProto, inputs: (HostInts | undefined)[]): HostInts | null {
  const [a] = inputs;
  switch (node.opType) {
    case "Constant": {
      const t = attr(node, "value")?.t;
      if (t) return decodeInts(t);
      const ints = attr(node, "value_ints"), one = attr(node, "value_int");
      if (ints) return { dims: [ints.ints.length], data: ints.ints.map(Number) };
      if (one) return { dims: [], data: [Number(one.i)] };
      return null;
    }
    case "ConstantOfShape": {
      const t = attr(node, "value")?.t;
      const v = t ? decodeInts(t) : null;
      if (!v || v.data.length !== 1) return null; // float fill: not an integer constant
      const dims = [...a!.data];
      return { dims, data: new Array<number>(sizeOf(dims)).fill(v.data[0]!) };
    }
    case "Identity":
      return a!;
    case "Cast":
      return INT_TYPES.has(intAttr(node, "to", 0)) ? a! : null;
    case "Reshape": {
      const shape = inputs[1]!.data.map((d, i) => (d === 0 && !intAttr(node, "allowzero", 0) ? a!.dims[i]! : d));
      const known = shape.filter((d) => d !== -1).reduce((x, d) => x * d, 1);
      return { dims: shape.map((d) => (d === -1 ? a!.data.length / known : d)), data: a!.data };
    }
    case "Unsqueeze": {
      const axes = inputs[1]?.data ?? intsAttr(node, "axes") ?? [];
      const rank = a!.dims.length + axes.length;
      const set = new Set(axes.map((x) => axisOf(x, rank)));
      const dims: number[] = [];
      for (let i = 0, j = 0; i < rank; i++) dims.push(set.has(i) ? 1 : a!.dims[j++]!);
      return { dims, data: a!.data };
    }
    case "Squeeze": {
      const axes = inputs[1]?.data ?? intsAttr(node, "axes");
      const set = new Set((axes ?? a!.dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((x) => axisOf(x, a!.dims.length)));
      return { dims: a!.dims.filter((_, i) => !set.has(i)), data: a!.data };
    }
    case "Concat": {
      const parts = inputs as HostInts[];
      const axis = axisOf(intAttr(node, "axis", 0), parts[0]!.dims.length);
      const dims = [...parts[0]!.dims];
      dims[axis] = parts.reduce((x, p) => x + p.dims[axis]!, 0);
      const offsets = parts.map((_, k) => parts.slice(0, k).reduce((x, p) => x + p.dims[axis]!, 0));
      const st = parts.map((p) => stridesOf(p.dims)), ost = stridesOf(dims);
      const data = new Array<number>(sizeOf(dims));
      for (let i = 0; i < data.length; i++) {
        const idx = dims.map((_, d) => Math.floor(i / ost[d]!) % dims[d]!);
        let k = parts.length - 1;
        while (offsets[k]! > idx[axis]!) k--;
        idx[axis] = idx[axis]! - offsets[k]!;
        data[i] = parts[k]!.data[idx.reduce((x, v, d) => x + v * st[k]![d]!, 0)]!;
      }
      return { dims, data };
    }
    case "Transpose": {
      const perm = intsAttr(node, "perm") ?? a!.dims.map((_, i) => a!.dims.length - 1 - i);
      return gatherBy(a!, perm.map((p) => a!.dims[p]!), (idx) => {
        const src = new Array<number>(idx.length);
        perm.forEach((p, d) => (src[p] = idx[d]!));
        return src;
      });
    }
    case "Gather": {
      const ind = inputs[1]!, axis = axisOf(intAttr(node, "axis", 0), a!.dims.length);
      const dims = [...a!.dims.slice(0, axis), ...ind.dims, ...a!.dims.slice(axis + 1)];
      const ist = stridesOf(ind.dims);
      return gatherBy(a!, dims, (idx) => {
        const inner = idx.slice(axis, axis + ind.dims.length).reduce((x, v, d) => x + v * ist[d]!, 0);
        const at = ind.data[inner]!;
        return [...idx.slice(0, axis), at < 0 ? at + a!.dims[axis]! : at, ...idx.slice(axis + ind.dims.length)];
      });
    }
    case "Slice": {
      // ONNX Slice (opset 10+): per axis, start/end clamped as the spec says for the step's sign.
      const [, starts, ends, axesT, stepsT] = inputs;
      const rank = a!.dims.length;
      const axes = axesT ? axesT.data.map((x) => axisOf(x, rank)) : starts!.data.map((_, i) => i);
      const range = a!.dims.map((d) => ({ start: 0, step: 1, count: d }));
      axes.forEach((ax, i) => {
        const dim = a!.dims[ax]!, step = stepsT ? stepsT.data[i]! : 1;
        let start = starts!.data[i]!, end = ends!.data[i]!;
        if (start < 0) start += dim;
        if (end < 0) end += dim;
        if (step > 0) {
          start = Math.min(Math.max(start, 0), dim);
          end = Math.min(Math.max(end, 0), dim);
        } else {
          start = Math.min(Math.max(start, -1), dim - 1);
          end = Math.min(Math.max(end, -1), dim - 1);
        }
        range[ax] = { start, step, count: Math.max(0, Math.ceil((end - start) / step)) };
      });
      return gatherBy(a!, range.map((r) => r.count), (idx) => idx.map((v, d) => range[d]!.start + v * range[d]!.step));
    }
  }
  return null;
}

/** Folds integer-constant nodes into int64 initializers (module comment); returns the kept nodes. */
function foldIntegerConstants(graph: GraphProto): NodeProto[] {
  const known = new Map<string, HostInts>();
  for (const t of graph.initializer) {
    const v = decodeInts(t);
    if (v) known.set(t.name, v);
  }
  const kept: NodeProto[] = [];
  const folded: TensorProto[] = [];
  for (const node of graph.node) {
    const inputs = node.input.map((n) => (n === "" ? undefined : known.get(n)));
    const foldable = FOLDED_OPS.has(node.opType) && node.output.length === 1 && node.input.every((n, i) => n === "" || inputs[i] !== undefined);
    const v = foldable ? foldNode(node, inputs) : null;
    if (!v) {
      kept.push(node);
      continue;
    }
    known.set(node.output[0]!, v);
    folded.push(create(TensorProtoSchema, { name: node.output[0]!, dataType: TensorProto_DataType.INT64, dims: v.dims.map(BigInt), int64Data: v.data.map((x) => BigInt(Math.max(-(2 ** 62), Math.min(2 ** 62, x)))) }));
  }
  // Only the folded values something still reads become initializers.
  const read = new Set([...kept.flatMap((n) => n.input), ...graph.output.map((o) => o.name)]);
  graph.initializer.push(...folded.filter((t) => read.has(t.name)));
  return kept;
}

// Fewer than 16 values: @jax-js/onnx keeps small integer initializers on the host (static), larger ones on the device.
const AXES_UP_TO = 12;

class Builder {
  readonly nodes: NodeProto[] = [];
  readonly inits: TensorProto[] = [];
  readonly constants = new Set<string>();
  private count = 0;
  constructor(private readonly prefix: string, private readonly taken: Set<string>) {}

  fresh(what: string): string {
    let name: string;
    do name = `${this.prefix}/${what}_${this.count++}`;
    while (this.taken.has(name));
    this.taken.add(name);
    return name;
  }
  node(opType: string, inputs: string[], attrs: AttributeProto[] = [], output?: string): string {
    const out = output ?? this.fresh(opType);
    this.nodes.push(create(NodeProtoSchema, { opType, input: inputs, output: [out], attribute: attrs, name: this.fresh(`${opType}_node`) }));
    return out;
  }
  ints(values: readonly number[], scalar = false): string {
    const name = this.fresh("const");
    this.inits.push(create(TensorProtoSchema, {
      name, dataType: TensorProto_DataType.INT64, dims: scalar ? [] : [BigInt(values.length)], int64Data: values.map(BigInt),
    }));
    return name;
  }
  floats(values: Float64Array, dims: readonly number[], type: TensorProto_DataType): string {
    const name = this.fresh("const");
    const double = type === TensorProto_DataType.DOUBLE;
    const raw = double ? new Uint8Array(Float64Array.from(values).buffer) : new Uint8Array(Float32Array.from(values).buffer);
    this.inits.push(create(TensorProtoSchema, {
      name, dataType: double ? TensorProto_DataType.DOUBLE : TensorProto_DataType.FLOAT, dims: dims.map(BigInt), rawData: raw,
    }));
    this.constants.add(name);
    return name;
  }
}

const intA = (name: string, i: number) => create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(i) });
const intsA = (name: string, v: readonly number[]) => create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INTS, ints: v.map(BigInt) });
const tensorA = (name: string, t: TensorProto) => create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.TENSOR, t });

/** [x.ndim - 2] ones, then [-1] in front: the shape [C, 1, ..., 1] a per-channel vector broadcasts from. */
function channelShape(b: Builder, x: string): string {
  const rank = b.node("Shape", [b.node("Shape", [x])]);
  const spatial = b.node("Sub", [rank, b.ints([2])]);
  const one = create(TensorProtoSchema, { dataType: TensorProto_DataType.INT64, dims: [1n], int64Data: [1n] });
  const ones = b.node("ConstantOfShape", [spatial], [tensorA("value", one)]);
  return b.node("Concat", [b.ints([-1]), ones], [intA("axis", 0)]);
}

/** The axes [from, ..., x.ndim - 1] (from >= 0), as a static int64 vector. */
function axesFrom(b: Builder, x: string, from: number): string {
  const rank = b.node("Shape", [b.node("Shape", [x])]);
  const all = b.ints(Array.from({ length: AXES_UP_TO }, (_, i) => i));
  return b.node("Slice", [all, b.ints([from]), rank, b.ints([0])]);
}

/** sum(x over axes) / count, the count an array of the compute type (see the module comment). */
function mean(b: Builder, x: string, axes: string | null, keepdims: number, type: ComputeType, output?: string): string {
  const shape = b.node("Shape", [x]);
  const sum = b.node("ReduceSum", axes ? [x, axes] : [x], [intA("keepdims", keepdims)]);
  const dims = axes ? b.node("Gather", [shape, axes], [intA("axis", 0)]) : shape;
  const count = b.node("Cast", [b.node("ReduceProd", [dims], [intA("keepdims", 0)])], [intA("to", type)]);
  return b.node("Div", [sum, count], [], output);
}

/** Chebyshev coefficients of erfc (Numerical Recipes, 3rd ed., Erf::cof). */
const ERFC_COF = [
  -1.3026537197817094, 6.4196979235649026e-1, 1.9476473204185836e-2, -9.561514786808631e-3, -9.46595344482036e-4,
  3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5, -1.624290004647e-6, 1.30365583558e-6, 1.5626441722e-8,
  -8.5238095915e-8, 6.529054439e-9, 5.059343495e-9, -9.91364156e-10, -2.27365122e-10, 9.6467911e-11, 2.394038e-12,
  -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15, -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17,
];

/**
 * NR's erfc exponent, (c0 + ty d) / 2 - dd with d, dd from the recurrence d <- ty d - dd + c_j,
 * as a polynomial in ty (power coefficients, lowest first), for Horner's rule: a recurrence that
 * reads both previous terms makes @jax-js/jax's fused kernels grow as the Fibonacci numbers
 * under jit (it did not compile in minutes), Horner's rule reads one. Converted in float64: the
 * coefficients stay below 0.68, and erf from them was within 4.4e-16 of math.erf on [-6, 6].
 */
const ERFC_POLY: readonly number[] = (() => {
  const add = (a: number[], b: number[]) => Array.from({ length: Math.max(a.length, b.length) }, (_, i) => (a[i] ?? 0) + (b[i] ?? 0));
  const scale = (a: number[], k: number) => a.map((v) => v * k);
  const shift = (a: number[]) => [0, ...a];
  let d = [0], dd = [0];
  for (let j = ERFC_COF.length - 1; j > 0; j--) [d, dd] = [add(add(shift(d), scale(dd, -1)), [ERFC_COF[j]!]), d];
  return add(scale(add([ERFC_COF[0]!], shift(d)), 0.5), scale(dd, -1));
})();

/** erf(x) = sign(x) (1 - erfc(|x|)), erfc(z) = t exp(-z^2 + P(4t - 2)), t = 2 / (2 + z) (module comment). */
function erf(b: Builder, x: string, type: ComputeType, output?: string): string {
  const c = (v: number) => b.floats(Float64Array.of(v), [], type);
  const z = b.node("Abs", [x]);
  const t = b.node("Div", [c(2), b.node("Add", [c(2), z])]);
  const ty = b.node("Sub", [b.node("Mul", [c(4), t]), c(2)]);
  let p = c(ERFC_POLY[ERFC_POLY.length - 1]!);
  for (let k = ERFC_POLY.length - 2; k >= 0; k--) p = b.node("Add", [b.node("Mul", [p, ty]), c(ERFC_POLY[k]!)]);
  const erfc = b.node("Mul", [t, b.node("Exp", [b.node("Sub", [p, b.node("Mul", [z, z])])])]);
  return b.node("Mul", [b.node("Sign", [x]), b.node("Sub", [c(1), erfc])], [], output);
}

function rewriteBatchNorm(b: Builder, node: NodeProto, inits: Map<string, TensorProto>, read: ReadFloats, path: string): void {
  const label = `BatchNormalization node "${node.name || node.output[0]}"`;
  if (intAttr(node, "training_mode", 0) !== 0 || node.output.filter((o) => o !== "").length > 1) {
    throw new InputError(path, `${label} computes batch statistics (training mode); export the model in eval mode (model.eval()) with training=torch.onnx.TrainingMode.PRESERVE`);
  }
  const [x, scale, bias, meanName, varName] = node.input;
  const meanT = inits.get(meanName ?? ""), varT = inits.get(varName ?? "");
  if (!x || !scale || !bias || !meanT || !varT) {
    throw new InputError(path, `${label}: expected inputs X, scale, B and the running mean and variance stored as initializers`);
  }
  const eps = float32Decimal(floatAttr(node, "epsilon", 1e-5));
  const mu = read(meanT), v = read(varT);
  const std = v.map((s) => Math.sqrt(s + eps));
  const type = varT.dataType === TensorProto_DataType.DOUBLE ? TensorProto_DataType.DOUBLE : TensorProto_DataType.FLOAT;
  const shape = channelShape(b, x);
  const perChannel = (t: string) => b.node("Reshape", [t, shape]);
  const centered = b.node("Sub", [x, perChannel(b.floats(mu, [mu.length], meanT.dataType === TensorProto_DataType.DOUBLE ? TensorProto_DataType.DOUBLE : TensorProto_DataType.FLOAT))]);
  const normalized = b.node("Div", [centered, perChannel(b.floats(std, [std.length], type))]);
  b.node("Add", [b.node("Mul", [normalized, perChannel(scale)]), perChannel(bias)], [], node.output[0]);
}

function rewriteLayerNorm(b: Builder, node: NodeProto, type: ComputeType, path: string): void {
  const [x, scale, bias] = node.input;
  if (!x || !scale) throw new InputError(path, `LayerNormalization node "${node.name}": expected inputs X and Scale`);
  const axis = intAttr(node, "axis", -1);
  const eps = float32Decimal(floatAttr(node, "epsilon", 1e-5));
  // Negative axes need no rank: [axis, ..., -1].
  const axes = axis < 0 ? b.ints(Array.from({ length: -axis }, (_, i) => axis + i)) : axesFrom(b, x, axis);
  const centered = b.node("Sub", [x, mean(b, x, axes, 1, type)]);
  const variance = mean(b, b.node("Mul", [centered, centered]), axes, 1, type);
  const std = b.node("Sqrt", [b.node("Add", [variance, b.floats(Float64Array.of(eps), [], type)])]);
  const scaled = b.node("Mul", [b.node("Div", [centered, std]), scale]);
  if (bias) b.node("Add", [scaled, bias], [], node.output[0]);
  else b.node("Identity", [scaled], [], node.output[0]);
}

function rewriteAveragePool(b: Builder, node: NodeProto, type: ComputeType, path: string): void {
  const x = node.input[0]!;
  const k = intsAttr(node, "kernel_shape");
  if (!k || k.length !== 2) throw new InputError(path, `AveragePool node "${node.name}": only 2-D pooling is supported (kernel_shape ${JSON.stringify(k)})`);
  const strides = intsAttr(node, "strides") ?? [1, 1];
  const pads = intsAttr(node, "pads") ?? [0, 0, 0, 0];
  const autoPad = new TextDecoder().decode(attr(node, "auto_pad")?.s ?? new Uint8Array()) || "NOTSET";
  const padded = pads.some((p) => p !== 0);
  if (intAttr(node, "ceil_mode", 0) !== 0 || (autoPad !== "NOTSET" && autoPad !== "VALID") || (padded && intAttr(node, "count_include_pad", 0) !== 1)) {
    throw new InputError(path, `AveragePool node "${node.name}": only pooling without padding (or with count_include_pad=1) and ceil_mode=0 is supported, as nn.AvgPool2d(k) exports`);
  }
  const shape = b.node("Shape", [x]);
  const hw = b.node("Slice", [shape, b.ints([2]), b.ints([4])]);
  const images = b.node("Reshape", [x, b.node("Concat", [b.ints([-1, 1]), hw], [intA("axis", 0)])]);
  const kernel = b.floats(Float64Array.from({ length: k[0]! * k[1]! }, () => 1 / (k[0]! * k[1]!)), [1, 1, k[0]!, k[1]!], type);
  const attrs = [intsA("kernel_shape", k), intsA("strides", strides), ...(padded ? [intsA("pads", pads)] : [])];
  const pooled = b.node("Conv", [images, kernel], attrs);
  const nc = b.node("Slice", [shape, b.ints([0]), b.ints([2])]);
  const spatial = b.node("Slice", [b.node("Shape", [pooled]), b.ints([2]), b.ints([4])]);
  b.node("Reshape", [pooled, b.node("Concat", [nc, spatial], [intA("axis", 0)])], [], node.output[0]);
}

function rewriteReduceMean(b: Builder, node: NodeProto, type: ComputeType): void {
  const [x, axesInput] = node.input;
  const keepdims = intAttr(node, "keepdims", 1);
  const axesAttr = intsAttr(node, "axes");
  let axes: string | null = axesInput ? axesInput : axesAttr && axesAttr.length ? b.ints(axesAttr) : null;
  if (!axes && intAttr(node, "noop_with_empty_axes", 0)) {
    b.node("Identity", [x!], [], node.output[0]);
    return;
  }
  mean(b, x!, axes, keepdims, type, node.output[0]);
}

/**
 * Rewrites `graph` in place (module comment). `type` is the float type parameters are fed in;
 * `read` decodes a float initializer. Node order is kept: each rewritten node becomes its
 * replacement nodes at the same place.
 */
export function rewriteGraph(graph: GraphProto, type: ComputeType, read: ReadFloats, path: string): RewriteResult {
  graph.node = foldIntegerConstants(graph);
  for (const n of graph.node) {
    if (n.opType !== "Slice" || !n.input[4]) continue;
    const steps = graph.initializer.find((t) => t.name === n.input[4]);
    const v = steps ? decodeInts(steps) : null;
    if (v?.data.some((x) => x <= 0)) throw new InputError(path, `Slice node "${n.name}" has a step <= 0 on data (e.g. torch.flip or x[::-1]); @jax-js/onnx does not run it`);
  }
  const taken = new Set<string>([...graph.node.flatMap((n) => [...n.input, ...n.output, n.name]), ...graph.initializer.map((t) => t.name), ...graph.input.map((i) => i.name)]);
  const inits = new Map(graph.initializer.map((t) => [t.name, t]));
  const shapes = new Set(graph.node.filter((n) => n.opType === "Shape").map((n) => n.output[0]!));
  // Scalar float Constant nodes, for Pow's exponent (not initializers: those may be parameters).
  const floatConstants = new Map<string, number>();
  const scalarOf = (t: TensorProto | undefined) => (t && (t.dataType === TensorProto_DataType.FLOAT || t.dataType === TensorProto_DataType.DOUBLE) && t.dims.reduce((a, d) => a * Number(d), 1) === 1 ? read(t)[0] : undefined);
  for (const n of graph.node) {
    const v = n.opType === "Constant" ? scalarOf(attr(n, "value")?.t) : undefined;
    if (v !== undefined) floatConstants.set(n.output[0]!, v);
  }
  const b = new Builder("curvlab", taken);
  const out: NodeProto[] = [];
  for (const node of graph.node) {
    const start = b.nodes.length;
    switch (node.opType) {
      case "BatchNormalization":
        rewriteBatchNorm(b, node, inits, read, path);
        break;
      case "AveragePool":
        rewriteAveragePool(b, node, type, path);
        break;
      case "GlobalAveragePool":
        mean(b, node.input[0]!, axesFrom(b, node.input[0]!, 2), 1, type, node.output[0]);
        break;
      case "LayerNormalization":
        if (node.output.slice(1).some((o) => o !== "")) throw new InputError(path, `LayerNormalization node "${node.name}": only the normalized output (Y) is supported`);
        rewriteLayerNorm(b, node, type, path);
        break;
      case "ReduceMean":
        rewriteReduceMean(b, node, type);
        break;
      case "Gather": {
        const [data, indices] = node.input;
        const index = indices ? graph.initializer.find((t) => t.name === indices) : undefined;
        const v = index ? decodeInts(index) : null;
        if (!v || v.dims.length !== 0 || shapes.has(data!) || inits.has(data!)) {
          out.push(node);
          continue;
        }
        const i = v.data[0]!, axis = intAttr(node, "axis", 0);
        const slice = b.node("Slice", [data!, b.ints([i]), b.ints([i === -1 ? 2 ** 62 : i + 1]), b.ints([axis])]);
        b.node("Squeeze", [slice, b.ints([axis])], [], node.output[0]);
        break;
      }
      case "Pow": {
        const e = node.input[1] ? floatConstants.get(node.input[1]) : undefined;
        if (e !== 2) {
          out.push(node);
          continue;
        }
        b.node("Mul", [node.input[0]!, node.input[0]!], [], node.output[0]);
        break;
      }
      case "Erf":
        erf(b, node.input[0]!, type, node.output[0]);
        break;
      case "Gelu": {
        if (new TextDecoder().decode(attr(node, "approximate")?.s ?? new Uint8Array()) === "tanh") {
          out.push(node);
          continue;
        }
        const x = node.input[0]!;
        const c = (v: number) => b.floats(Float64Array.of(v), [], type);
        const phi = b.node("Mul", [c(0.5), b.node("Add", [c(1), erf(b, b.node("Div", [x, c(Math.SQRT2)]), type)])]);
        b.node("Mul", [x, phi], [], node.output[0]);
        break;
      }
      default:
        out.push(node);
        continue;
    }
    out.push(...b.nodes.slice(start));
  }
  graph.node = out;
  graph.initializer.push(...b.inits);
  return { constants: b.constants };
}
