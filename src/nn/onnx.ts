/**
 * Models from ONNX files (e.g. `torch.onnx.export(model, x, "model.onnx")`), run by
 * @jax-js/onnx, so that their Hessian, Gauss-Newton and spectra work like the built-in models'.
 *
 * How: an ONNX graph holds its weights as initializers (constants). curvlab differentiates with
 * respect to the weights, so every float initializer that is a parameter becomes a graph input
 * instead, fed from slices of the flat parameter vector; the layout names them with their ONNX
 * names, which `torch.onnx.export` takes from the `state_dict` ("0.weight"), so weights also load
 * from safetensors files PyTorch wrote. PyTorch buffers (names ending in running_mean, running_var,
 * num_batches_tracked) and integer initializers (shapes, indices) stay constants.
 *
 * Which initializers are parameters: the float ones that a node uses, except BatchNorm running
 * statistics (by name, and by role: BatchNormalization's mean and variance inputs, which the
 * rewrite turns into host constants even when the exporter merged them with a parameter of equal
 * values). `torch.onnx.export` stores the weight of a Linear applied to a 3-D input transposed,
 * as `onnx::MatMul_NN`: the same parameters in another layout, with the same Hessian spectrum.
 *
 * The graph must have one data input [batch, ...] (its non-batch dimensions fixed) and one output
 * [batch, classes] (logits; the loss is curvlab's, cross-entropy or MSE on the labels). Before
 * anything runs, every op is checked against the ops curvlab accepts (SUPPORTED_ONNX_OPS: the
 * ones @jax-js/onnx implements plus the ones onnx-rewrite.ts rewrites into those; an unsupported op
 * is one InputError listing all of them), and every node input must name a graph input, an
 * initializer or an earlier node's output. The model's `init(seed)` returns the weights stored in
 * the file (the seed is ignored): an imported model's starting point is the trained model.
 *
 * Warnings (Model.warnings; the CLI prints them): a graph whose BatchNorm the exporter folded into
 * the convolutions (the default eval-mode export: weights renamed `onnx::Conv_NN`, no
 * BatchNormalization node) is measured at the folded parameters, not the model's; a parameter
 * initializer that several nodes use is one parameter here (the exporter merges initializers with
 * equal values, e.g. BatchNorm weights still at their initial ones).
 *
 * Precision: the graph computes in the dtype of its inputs unless it casts; a model exported in
 * float64 (`model.double()` before export) computes in float64 when curvlab runs in float64.
 */
import { ONNXModel } from "@jax-js/onnx";
import { clone, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema, ValueInfoProtoSchema, TensorProto_DataType, type GraphProto, type ModelProto, type TensorProto } from "onnx-buf";
import { numpy as np, type Array } from "../engine/jax.ts";
import { InputError } from "../errors.ts";
import { makeLayout, layoutSize } from "../tree/layout.ts";
import { paramBlock } from "../tree/vector.ts";
import type { Model } from "./model.ts";
import { REWRITTEN_ONNX_OPS, rewriteGraph, type ComputeType } from "./onnx-rewrite.ts";

/**
 * The ops @jax-js/onnx 0.1.2 implements (its `ops` table). test/nn/onnx.test.ts checks this list
 * against the installed package, so an upgrade that changes it fails a test instead of a user.
 */
export const JAXJS_ONNX_OPS: readonly string[] = [
  "Abs", "Acos", "Acosh", "Add", "And", "ArgMax", "ArgMin", "Asin", "Asinh", "Atan", "Atanh", "BitCast", "BitShift",
  "BitwiseAnd", "BitwiseNot", "BitwiseOr", "BitwiseXor", "Cast", "Ceil", "Celu", "Clip", "Concat", "Constant",
  "ConstantOfShape", "Conv", "Cos", "Cosh", "CumSum", "Det", "Div", "Einsum", "Elu", "Equal", "Erf", "Exp", "Expand",
  "EyeLike", "Flatten", "Floor", "Gather", "GatherElements", "Gelu", "Gemm", "Greater", "GreaterOrEqual",
  "GridSample", "HardSigmoid", "HardSwish", "Identity", "IsInf", "IsNaN", "LayerNormalization", "LeakyRelu", "Less",
  "LessOrEqual", "Log", "LogSoftmax", "LpNormalization", "MatMul", "Max", "MaxPool", "MeanVarianceNormalization",
  "Min", "Mish", "Mod", "Mul", "Neg", "Not", "Or", "PRelu", "Pad", "Pow", "Reciprocal", "ReduceL1", "ReduceL2",
  "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum",
  "ReduceSumSquare", "Relu", "Reshape", "Resize", "Round", "Selu", "Shape", "Shrink", "Sigmoid", "Sign", "Sin",
  "Sinh", "Slice", "Softmax", "Softplus", "Softsign", "Split", "Sqrt", "Squeeze", "Sub", "Swish", "Tan", "Tanh",
  "ThresholdedRelu", "Tile", "TopK", "Transpose", "Trilu", "Unsqueeze", "Where", "Xor",
];

/** The ops curvlab accepts: @jax-js/onnx's plus the ones onnx-rewrite.ts rewrites (sorted). */
export const SUPPORTED_ONNX_OPS: readonly string[] = [...new Set([...JAXJS_ONNX_OPS, ...REWRITTEN_ONNX_OPS])].sort();

const FLOAT_TYPES = new Set<number>([TensorProto_DataType.FLOAT, TensorProto_DataType.DOUBLE, TensorProto_DataType.FLOAT16]);
const BUFFER_SUFFIXES = ["running_mean", "running_var", "num_batches_tracked"];

/** Host values of a float initializer (raw little-endian bytes or the typed fields). */
function initializerValues(t: TensorProto, path: string): Float64Array {
  const count = t.dims.reduce((a, d) => a * Number(d), 1);
  let out: Float64Array;
  if (t.rawData.length > 0) {
    const bytes = t.rawData.slice();
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const width = t.dataType === TensorProto_DataType.DOUBLE ? 8 : t.dataType === TensorProto_DataType.FLOAT ? 4 : 2;
    if (bytes.length !== count * width) {
      throw new InputError(path, `initializer "${t.name}" holds ${bytes.length} bytes, its shape [${t.dims}] needs ${count * width}`);
    }
    out = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = width === 8 ? dv.getFloat64(8 * i, true) : width === 4 ? dv.getFloat32(4 * i, true) : halfToFloat(dv.getUint16(2 * i, true));
    }
  } else if (t.doubleData.length > 0) out = Float64Array.from(t.doubleData);
  else if (t.floatData.length > 0) out = Float64Array.from(t.floatData);
  else if (count === 0) out = new Float64Array(0);
  else throw new InputError(path, `initializer "${t.name}" has no data (external data files are not supported)`);
  if (out.length !== count) throw new InputError(path, `initializer "${t.name}" holds ${out.length} values, its shape [${t.dims}] needs ${count}`);
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function staticDims(dims: readonly { value: { case: string | undefined; value?: unknown } }[]): (number | null)[] {
  return dims.map((d) => (d.value.case === "dimValue" ? Number(d.value.value) : null));
}

/** Parses and checks an ONNX file; InputError naming the file on any problem. */
export function parseOnnx(bytes: Uint8Array, path: string): ModelProto {
  let proto: ModelProto;
  try {
    proto = fromBinary(ModelProtoSchema, bytes);
  } catch (e) {
    throw new InputError(path, `not a readable ONNX model (${(e as Error).message})`);
  }
  if (!proto.graph || proto.graph.node.length === 0) throw new InputError(path, "not an ONNX model: no graph (or an empty one)");
  const unsupported = [...new Set(proto.graph.node.map((n) => n.opType))].filter((op) => !SUPPORTED_ONNX_OPS.includes(op));
  if (unsupported.length) {
    throw new InputError(path, `unsupported ONNX op${unsupported.length > 1 ? "s" : ""} ${unsupported.join(", ")}; curvlab runs ${SUPPORTED_ONNX_OPS.length} ops (e.g. Gemm, MatMul, Conv, BatchNormalization, Relu, Softmax, LayerNormalization, Reshape)`);
  }
  if (proto.functions.length) throw new InputError(path, `custom ONNX functions are not supported (${proto.functions.map((f) => f.name).join(", ")})`);
  if (proto.graph.sparseInitializer.length) throw new InputError(path, "sparse initializers are not supported");
  checkNames(proto.graph, path);
  return proto;
}

/** Every node input and graph output names a tensor defined before it (graph input, initializer, earlier node output). */
function checkNames(graph: GraphProto, path: string): void {
  const defined = new Set<string>([...graph.input.map((i) => i.name), ...graph.initializer.map((t) => t.name)]);
  graph.node.forEach((node, k) => {
    for (const name of node.input) {
      if (name !== "" && !defined.has(name)) {
        throw new InputError(path, `node ${k} "${node.name || node.output[0]}" (${node.opType}) reads input "${name}", which no graph input, initializer or earlier node defines`);
      }
    }
    for (const name of node.output) if (name !== "") defined.add(name);
  });
  for (const o of graph.output) {
    if (!defined.has(o.name)) throw new InputError(path, `graph output "${o.name}" is not produced by any node, input or initializer`);
  }
}

/** The warnings of the module comment (folded BatchNorm, parameters several nodes share). */
function graphWarnings(graph: GraphProto, params: readonly TensorProto[], path: string): string[] {
  const warnings: string[] = [];
  const folded = graph.node.some((n) => n.opType === "Conv" && /^onnx::Conv_\d+$/.test(n.input[1] ?? "") && params.some((t) => t.name === n.input[1]));
  if (folded && !graph.node.some((n) => n.opType === "BatchNormalization")) {
    warnings.push(
      `${path}: convolution weights named onnx::Conv_NN and no BatchNormalization node: torch.onnx.export folded BatchNorm into the convolutions, ` +
        "so the parameters measured are the folded ones (weight * gamma / sqrt(var + eps) and a new bias), not the model's. " +
        "To keep BatchNorm and its parameters, export the model in eval mode with torch.onnx.export(model.eval(), x, file, training=torch.onnx.TrainingMode.PRESERVE).",
    );
  }
  const uses = new Map<string, number>();
  // BatchNormalization's statistics inputs do not count: the rewrite gives them their own constants.
  for (const n of graph.node) n.input.forEach((name, i) => (n.opType !== "BatchNormalization" || i < 3) && uses.set(name, (uses.get(name) ?? 0) + 1));
  const shared = params.filter((t) => (uses.get(t.name) ?? 0) > 1).map((t) => `${t.name} (${uses.get(t.name)} uses)`);
  if (shared.length) {
    warnings.push(
      `${path}: parameter initializer${shared.length > 1 ? "s" : ""} ${shared.join(", ")} ${shared.length > 1 ? "are" : "is"} used by several nodes, so each is one parameter here; ` +
        "torch.onnx.export merges initializers with equal values (e.g. BatchNorm or LayerNorm weights still at their initial ones), which ties parameters that PyTorch keeps apart; a trained model rarely has equal tensors.",
    );
  }
  return warnings;
}

/**
 * A curvlab Model from the bytes of an ONNX file (module comment); `path` names it in messages.
 * Reading the file is the caller's (data/model-file.ts loadOnnxModel).
 */
export function onnxModel(bytes: Uint8Array, path: string): Model {
  const proto = parseOnnx(bytes, path);
  const graph = proto.graph!;
  const initNames = new Set(graph.initializer.map((t) => t.name));
  const read = (t: TensorProto) => initializerValues(t, path);
  // The graph as @jax-js/onnx will run it, in the compute type of the parameters (onnx-rewrite.ts).
  const rewrite = (type: ComputeType) => {
    const m = clone(ModelProtoSchema, proto);
    return { model: m, ...rewriteGraph(m.graph!, type, read, path) };
  };
  const probe = rewrite(TensorProto_DataType.DOUBLE);
  const used = new Set(probe.model.graph!.node.flatMap((n) => n.input));
  const params = graph.initializer.filter(
    (t) => FLOAT_TYPES.has(t.dataType) && used.has(t.name) && !BUFFER_SUFFIXES.some((s) => t.name.endsWith(s)) && !probe.constants.has(t.name),
  );
  if (params.length === 0) throw new InputError(path, "the ONNX graph has no float initializers (no weights to differentiate)");
  const dataInputs = graph.input.filter((i) => !initNames.has(i.name));
  if (dataInputs.length !== 1) {
    throw new InputError(path, `expected one data input, the graph has ${dataInputs.length} (${dataInputs.map((i) => i.name).join(", ")})`);
  }
  if (graph.output.length !== 1) throw new InputError(path, `expected one output (the logits), the graph has ${graph.output.length}`);
  const input = dataInputs[0]!;
  const inType = input.type?.value.case === "tensorType" ? input.type.value.value : undefined;
  const inDims = inType?.shape ? staticDims(inType.shape.dim) : null;
  if (!inDims || inDims.length < 2 || inDims.slice(1).some((d) => d === null)) {
    throw new InputError(path, `input "${input.name}" must have shape [batch, ...] with fixed non-batch dimensions, got [${inDims?.map((d) => d ?? "?") ?? "unknown"}]`);
  }
  const inputShape = inDims.slice(1) as number[];
  const layout = makeLayout(params.map((t) => ({ name: t.name, shape: t.dims.map(Number) })));
  const stored = new Float64Array(layoutSize(layout));
  params.forEach((t, i) => stored.set(read(t), layout[i]!.offset));
  const warnings = graphWarnings(graph, params, path);

  // The rewritten graph with the parameters as inputs, one ONNXModel per compute type (built on first use).
  const paramNames = new Set(params.map((t) => t.name));
  const built = new Map<ComputeType, ONNXModel>();
  const onnxFor = (type: ComputeType): ONNXModel => {
    let m = built.get(type);
    if (!m) {
      const r = type === TensorProto_DataType.DOUBLE ? probe.model : rewrite(type).model;
      const g = r.graph!;
      g.initializer = g.initializer.filter((t) => !paramNames.has(t.name));
      g.input = [...g.input.filter((i) => !paramNames.has(i.name)), ...params.map((t) => create(ValueInfoProtoSchema, { name: t.name }))];
      m = new ONNXModel(toBinary(ModelProtoSchema, r) as Uint8Array<ArrayBuffer>);
      built.set(type, m);
    }
    return m;
  };
  const outputName = graph.output[0]!.name;

  function apply(theta: Array, x: Array): Array {
    const feeds: Record<string, Array> = { [input.name]: x.reshape([x.shape[0], ...inputShape]) };
    for (const p of layout) feeds[p.name] = paramBlock(theta, p);
    const onnx = onnxFor(theta.dtype === np.float64 ? TensorProto_DataType.DOUBLE : TensorProto_DataType.FLOAT);
    theta.dispose();
    const out = onnx.run(feeds);
    const y = out[outputName]!;
    if (y.shape.length !== 2) {
      y.dispose();
      throw new InputError(path, `output "${outputName}" has shape [${y.shape}]; expected [batch, classes] logits`);
    }
    return y;
  }

  // The number of outputs: from the graph's output shape when it is fixed, else from one forward
  // pass on a zero batch (lazily: the engine may not be started when the model is parsed).
  const outType = graph.output[0]!.type?.value.case === "tensorType" ? graph.output[0]!.type.value.value : undefined;
  const outDims = outType?.shape ? staticDims(outType.shape.dim) : null;
  let outputDim: number | null = outDims && outDims.length === 2 && outDims[1] !== null ? outDims[1] : null;
  const probeOutputDim = (): number => {
    if (outputDim !== null) return outputDim;
    try {
      const probe = apply(np.array(Float32Array.from(stored)), np.zeros([1, ...inputShape]));
      outputDim = probe.shape[1]!;
      probe.dispose();
      return outputDim;
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(path, `the ONNX graph does not run: ${(e as Error).message}`);
    }
  };
  return {
    spec: `onnx:${path}`,
    inputShape,
    get outputDim() {
      return probeOutputDim();
    },
    layout,
    size: stored.length,
    torch: `ONNX graph ${graph.name || "(unnamed)"} (${graph.node.length} nodes: ${[...new Set(graph.node.map((n) => n.opType))].join(", ")})`,
    apply,
    init: () => Float64Array.from(stored),
    ...(warnings.length ? { warnings } : {}),
  };
}
