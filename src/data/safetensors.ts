/**
 * safetensors files (https://github.com/huggingface/safetensors#format): an 8-byte little-endian
 * header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, optional
 * "__metadata__": {string: string}}, then the tensors' raw little-endian bytes in C order, offsets
 * relative to the end of the header.
 *
 * Reading validates everything the reference library validates (header length within the file,
 * JSON object, dtype, shape, offsets inside the data region, end - begin = prod(shape) x dtype
 * size, tensors tiling the data region with no gap or overlap) and reports problems as an
 * InputError naming the file and the tensor. Supported dtypes: F64, F32, F16 and BF16 (both
 * decoded exactly into Float32Array; `dtype` still says which), I64, I32, I16, I8, U64, U32, U16,
 * U8 and BOOL (Uint8Array of 0/1). The 8-bit float types are refused.
 *
 * Writing lays the file out like the reference library: tensors sorted by dtype, largest first
 * (its dtype order), then by name, so every tensor's data is aligned to its element size; header
 * JSON compact with "__metadata__" (keys sorted) first and tensors in data order; header padded
 * with spaces to a multiple of 8 bytes. The file is written atomically (temporary file in the same
 * folder, then rename), so a failed write never leaves a partial file.
 */
import { InputError } from "../errors.ts";
import { readInputFile, writeFileAtomic } from "./files.ts";
import { f32ToBf16, f32ToF16 } from "./half.ts";
import { ELEMENT_TYPES, nativeElementType, type ElementType, type SafetensorsDtype, type TypedArray } from "./element-types.ts";

export type { SafetensorsDtype } from "./element-types.ts";

/** The typed arrays of the element types (element-types.ts). */
export type TensorData = TypedArray;

export interface Tensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** C-order values, length prod(shape); F16/BF16 decoded to Float32Array. */
  readonly data: TensorData;
}

export interface SafetensorsFile {
  /** Tensors in the order of their data in the file. */
  readonly tensors: ReadonlyMap<string, Tensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

/** What writeSafetensors accepts: dtype defaults to the typed array's own (F32 for Float32Array...). */
export interface TensorInput {
  readonly dtype?: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/**
 * The element types by safetensors name (element-types.ts), in the order of the reference
 * library's dtype enum (BOOL, U8, I8, I16, ...); writing sorts tensors by it, largest first.
 */
const dtypes = Object.fromEntries(
  [...ELEMENT_TYPES].sort((a, b) => a.safetensorsRank - b.safetensorsRank).map((t) => [t.safetensors, t]),
) as Record<SafetensorsDtype, ElementType>;

/** The reference library refuses headers above 100 MB; so do we (a corrupt length is likelier). */
const MAX_HEADER = 100_000_000;
const isLittleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const isShape = (s: unknown): s is number[] =>
  Array.isArray(s) && s.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0);

/** Parses the bytes of a safetensors file; `name` (the path) is used in error messages. */
export function parseSafetensors(bytes: Uint8Array, name: string): SafetensorsFile {
  const fail = (why: string): never => { throw new InputError(name, `not a readable safetensors file: ${why}`); };
  if (bytes.length < 8) fail(`${bytes.length} bytes is too short for the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) {
    fail(`header length ${n64} is beyond the end of the file (${bytes.length - 8} bytes follow the length)`);
  }
  const n = Number(n64);
  if (n > MAX_HEADER) fail(`header length ${n} exceeds the ${MAX_HEADER}-byte limit`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail("header is not valid UTF-8");
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) fail("header is not a JSON object");
  const entries = Object.entries(header as Record<string, unknown>);

  let metadata: Record<string, string> = {};
  const infos: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [key, v] of entries) {
    if (key === "__metadata__") {
      if (v === null || typeof v !== "object" || Array.isArray(v) || !Object.values(v).every((s) => typeof s === "string")) {
        fail(`"__metadata__" must be a map of strings to strings`);
      }
      metadata = { ...(v as Record<string, string>) };
      continue;
    }
    const bad = (why: string): never => { throw new InputError(name, `tensor "${key}": ${why}`); };
    if (v === null || typeof v !== "object" || Array.isArray(v)) return bad("header entry is not an object");
    const { dtype, shape, data_offsets: offs } = v as Record<string, unknown>;
    if (typeof dtype !== "string" || !(dtype in dtypes)) {
      bad(`unsupported dtype ${JSON.stringify(dtype)}; supported: ${Object.keys(dtypes).join(", ")}`);
    }
    if (!isShape(shape)) return bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[0] > offs[1]) {
      return bad(`data_offsets ${JSON.stringify(offs)} is not [begin, end] with 0 <= begin <= end`);
    }
    const info = dtypes[dtype as SafetensorsDtype];
    const count = shape.reduce((a, b) => a * b, 1);
    if (offs[1] - offs[0] !== count * info.size) {
      bad(`data_offsets [${offs[0]}, ${offs[1]}] hold ${offs[1] - offs[0]} bytes but shape [${shape.join(", ")}] of ${dtype} needs ${count * info.size}`);
    }
    infos.push({ name: key, dtype: dtype as SafetensorsDtype, shape, begin: offs[0], end: offs[1] });
  }

  // Like the reference library: the tensors must tile the data region exactly.
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  infos.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const t of infos) {
    if (t.end > dataLen) {
      throw new InputError(name, `tensor "${t.name}": data_offsets [${t.begin}, ${t.end}] run past the end of the data (${dataLen} bytes; file truncated?)`);
    }
    if (t.begin !== pos) {
      throw new InputError(name, `tensor "${t.name}": data starts at ${t.begin} but the previous tensor ends at ${pos} (gap or overlap)`);
    }
    pos = t.end;
  }
  if (pos !== dataLen) fail(`the tensors cover ${pos} bytes of data but ${dataLen} bytes follow the header`);
  if (!isLittleEndianHost) throw new Error("safetensors: big-endian hosts are not supported");

  const tensors = new Map<string, Tensor>();
  for (const t of infos) {
    const s = bytes.byteOffset + dataStart;
    // A copy: aligned for the typed array, and independent of the file buffer.
    const buf = bytes.buffer.slice(s + t.begin, s + t.end) as ArrayBuffer;
    tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data: dtypes[t.dtype].decode(buf) });
  }
  return { tensors, metadata };
}

/** Reads a safetensors file; every problem is an InputError naming `path` (and the tensor). */
export function readSafetensors(path: string): SafetensorsFile {
  return parseSafetensors(readInputFile(path, "safetensors file"), path);
}

function dtypeOf(data: TensorData): SafetensorsDtype {
  return nativeElementType(data)?.safetensors ?? "U8";
}

function rawBytes(name: string, key: string, t: TensorInput, dtype: SafetensorsDtype): Uint8Array {
  const bad = (why: string): never => { throw new InputError(name, `tensor "${key}": ${why}`); };
  if (dtype === "F16" || dtype === "BF16") {
    if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) bad(`${dtype} needs Float32Array or Float64Array data`);
    const h = dtype === "F16" ? f32ToF16(t.data as Float32Array) : f32ToBf16(t.data as Float32Array);
    return new Uint8Array(h.buffer);
  }
  const natural = dtypeOf(t.data);
  if (natural !== dtype && !(dtype === "BOOL" && natural === "U8")) {
    bad(`dtype ${dtype} does not match the data (a ${t.data.constructor.name})`);
  }
  if (dtype === "BOOL" && !(t.data as Uint8Array).every((b) => b === 0 || b === 1)) bad("BOOL data must be 0 or 1");
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** The bytes of a safetensors file holding `tensors` and `metadata` (layout as in the module comment). */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, TensorInput> | Readonly<Record<string, TensorInput>>,
  metadata: Readonly<Record<string, string>> = {},
  name = "safetensors",
): Uint8Array[] {
  if (!isLittleEndianHost) throw new Error("safetensors: big-endian hosts are not supported");
  const list = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))] as [string, TensorInput][];
  const items = list.map(([key, t]) => {
    if (key === "__metadata__") throw new InputError(name, `"__metadata__" cannot be a tensor name`);
    const dtype = t.dtype ?? dtypeOf(t.data);
    if (!(dtype in dtypes)) throw new InputError(name, `tensor "${key}": unsupported dtype ${dtype}`);
    if (!isShape(t.shape)) throw new InputError(name, `tensor "${key}": shape [${t.shape.join(", ")}] is not non-negative integers`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== count) {
      throw new InputError(name, `tensor "${key}": shape [${t.shape.join(", ")}] needs ${count} values, the data has ${t.data.length}`);
    }
    return { key, dtype, shape: t.shape, raw: rawBytes(name, key, t, dtype) };
  });
  items.sort((a, b) => dtypes[b.dtype].safetensorsRank - dtypes[a.dtype].safetensorsRank || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") throw new InputError(name, `metadata "${k}" must be a string`);
  }
  // Built by hand so that the key order is exactly the layout order (a JS object would move
  // integer-like names such as "0" to the front).
  const parts: string[] = [];
  const metaKeys = Object.keys(metadata).sort();
  if (metaKeys.length > 0) {
    parts.push(`"__metadata__":{${metaKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(",")}}`);
  }
  let off = 0;
  for (const it of items) {
    const info = { dtype: it.dtype, shape: [...it.shape], data_offsets: [off, off + it.raw.byteLength] };
    parts.push(`${JSON.stringify(it.key)}:${JSON.stringify(info)}`);
    off += it.raw.byteLength;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const padded = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20);
  padded.set(json);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(padded.length), true);
  return [len, padded, ...items.map((it) => it.raw)];
}

/** Writes `tensors` (and string `metadata`) to `path` as safetensors, atomically. */
export function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, TensorInput> | Readonly<Record<string, TensorInput>>,
  metadata: Readonly<Record<string, string>> = {},
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata, path));
}
