/**
 * NumPy .npy files (format versions 1.0, 2.0 and 3.0; see numpy.lib.format / NEP 1): the magic
 * "\x93NUMPY", a version, a little-endian header length (2 bytes in 1.0, 4 in 2.0/3.0), a Python
 * dict literal {'descr', 'fortran_order', 'shape'} padded so the data starts on a 64-byte
 * boundary, then the raw array in C order.
 *
 * Supported dtypes: little-endian (or 1-byte) f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1. Values come
 * back in the matching typed array, except f2 (decoded exactly into a Float32Array, dtype still
 * reported as "f2") and b1 (a Uint8Array of 0/1). Big-endian data, Fortran order, structured,
 * complex, string and object arrays are refused with an InputError naming the file. `.npz`
 * archives are not read here.
 *
 * Writing produces the same bytes as numpy.save (version 1.0 unless the header needs 2.0), and
 * is atomic: a temporary file in the same folder renamed into place.
 */
import { InputError } from "../errors.ts";
import { readInputFile, writeFileAtomic } from "./files.ts";
import { f32ToF16 } from "./half.ts";
import { ELEMENT_TYPES, nativeElementType, type ElementType, type NpyDtype, type TypedArray } from "./element-types.ts";

export type { NpyDtype } from "./element-types.ts";

/** The typed arrays of the element types (element-types.ts). */
export type NpyData = TypedArray;

export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  /** C-order values; length prod(shape) (1 for a 0-d array). */
  readonly data: NpyData;
}

/** What writeNpy/encodeNpy accept: dtype defaults to the typed array's own ("f4" for Float32Array...). */
export interface NpyInput {
  readonly dtype?: NpyDtype;
  readonly shape: readonly number[];
  readonly data: NpyData;
}

/** The element types by numpy type code (element-types.ts), in its order: f2 f4 f8 i1 ... u8 b1. */
const dtypes = Object.fromEntries(ELEMENT_TYPES.flatMap((t) => (t.npy ? [[t.npy, t]] : []))) as Record<NpyDtype, ElementType>;

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const isLittleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------
// The header: a tiny parser for the Python literals numpy writes (dict, str, bool, int, tuple).

type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

function parsePyLiteral(src: string, fail: (why: string) => never): PyValue {
  let i = 0;
  const ws = () => { while (i < src.length && /\s/.test(src[i]!)) i++; };
  const value = (): PyValue => {
    ws();
    const c = src[i];
    if (c === "{" || c === "(" || c === "[") {
      const close = c === "{" ? "}" : c === "(" ? ")" : "]";
      i++;
      const items: PyValue[] = [];
      const dict: { [k: string]: PyValue } = {};
      for (;;) {
        ws();
        if (src[i] === close) { i++; break; }
        const k = value();
        if (c === "{") {
          ws();
          if (src[i] !== ":") fail(`expected ':' at header position ${i}`);
          i++;
          if (typeof k !== "string") fail("header dict keys must be strings");
          dict[k] = value();
        } else items.push(k);
        ws();
        if (src[i] === ",") i++;
        else if (src[i] !== close) fail(`expected ',' or '${close}' at header position ${i}`);
      }
      return c === "{" ? dict : items;
    }
    if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) fail("unterminated string in header");
      const s = src.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    const m = /^(True|False|None|[+-]?\d+L?)/.exec(src.slice(i, i + 40));
    if (!m) fail(`unexpected '${src.slice(i, i + 10)}' at header position ${i}`);
    i += m[0].length;
    if (m[0] === "True") return true;
    if (m[0] === "False") return false;
    if (m[0] === "None") return null;
    return Number(m[0].replace("L", ""));
  };
  const v = value();
  ws();
  if (i !== src.length) fail(`unexpected text after the header dict at position ${i}`);
  return v;
}

function parseDescr(descr: PyValue, fail: (why: string) => never): NpyDtype {
  if (typeof descr !== "string") fail("structured dtypes (descr is a list of fields) are not supported");
  const m = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(descr);
  const code = m ? `${m[2]}${m[3]}` : descr;
  const order = m?.[1] ?? "";
  if (!m || !(code in dtypes)) {
    fail(`unsupported dtype '${descr}'; supported: ${Object.keys(dtypes).map((d) => `'<${d}'`).join(", ")} (little-endian, or '|' for 1-byte types)`);
  }
  const size = dtypes[code as NpyDtype].size;
  if (size > 1 && (order === ">" || (order === "=" && !isLittleEndianHost))) {
    fail(`big-endian dtype '${descr}' is not supported; save with arr.astype('<${code}')`);
  }
  return code as NpyDtype;
}

/** Parses the bytes of a .npy file; `name` (the path) is used in error messages. */
export function parseNpy(bytes: Uint8Array, name: string): NpyArray {
  const fail = (why: string): never => { throw new InputError(name, `not a readable .npy file: ${why}`); };
  if (bytes.length < 10 || !MAGIC.every((b, k) => bytes[k] === b)) {
    fail(`bad magic (expected the bytes "\\x93NUMPY" at the start; got ${bytes.length} bytes${bytes.length ? ` starting ${JSON.stringify(String.fromCharCode(...bytes.subarray(0, 6)))}` : ""})`);
  }
  const major = bytes[6]!, minor = bytes[7]!;
  if (!((major === 1 || major === 2 || major === 3) && minor === 0)) {
    fail(`unsupported format version ${major}.${minor}; expected 1.0, 2.0 or 3.0`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) fail(`truncated header (file is ${bytes.length} bytes)`);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = 8 + lenBytes;
  if (start + headerLen > bytes.length) {
    fail(`truncated header: header length says ${headerLen} bytes but only ${bytes.length - start} follow`);
  }
  const headerBytes = bytes.subarray(start, start + headerLen);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(headerBytes).trim();
  const dict = parsePyLiteral(header, fail);
  if (dict === null || typeof dict !== "object" || Array.isArray(dict)) fail("header is not a dict");
  const h = dict as { [k: string]: PyValue };
  for (const k of ["descr", "fortran_order", "shape"]) if (!(k in h)) fail(`header has no '${k}' key`);
  const dtype = parseDescr(h.descr!, fail);
  if (h.fortran_order === true) {
    throw new InputError(name, "Fortran-order arrays are not supported; save with np.save(path, np.ascontiguousarray(arr))");
  }
  if (h.fortran_order !== false) fail("'fortran_order' must be True or False");
  const shapeV = h.shape!;
  if (!Array.isArray(shapeV) || !shapeV.every((s) => typeof s === "number" && Number.isInteger(s) && s >= 0)) {
    fail("'shape' must be a tuple of non-negative integers");
  }
  const shape = shapeV as number[];
  const count = shape.reduce((a, b) => a * b, 1);
  const info = dtypes[dtype];
  const expected = count * info.size;
  const dataStart = start + headerLen;
  const actual = bytes.length - dataStart;
  if (actual !== expected) {
    throw new InputError(
      name,
      `${actual < expected ? "truncated" : "unexpected trailing"} data: shape (${shape.join(", ")}) of '${h.descr}' needs ` +
        `${expected} bytes after the header, the file has ${actual}`,
    );
  }
  if (!isLittleEndianHost && info.size > 1) throw new Error("npy: big-endian hosts are not supported");
  const buf = bytes.buffer.slice(bytes.byteOffset + dataStart, bytes.byteOffset + dataStart + expected) as ArrayBuffer;
  return { dtype, shape, data: info.decode(buf) };
}

/** Reads a .npy file; every problem (unreadable, bad magic, truncated, dtype) is an InputError naming `path`. */
export function readNpy(path: string): NpyArray {
  return parseNpy(readInputFile(path, ".npy file"), path);
}

function defaultDtype(data: NpyData): NpyDtype {
  return nativeElementType(data)?.npy ?? "u8";
}

/** Raw little-endian bytes of `data` stored as `dtype` (converting only for f2). */
function rawBytes(dtype: NpyDtype, data: NpyData, name: string): Uint8Array {
  if (dtype === "f2") {
    if (!(data instanceof Float32Array || data instanceof Float64Array)) {
      throw new InputError(name, "dtype 'f2' needs Float32Array or Float64Array data");
    }
    const h = f32ToF16(data);
    return new Uint8Array(h.buffer);
  }
  if (defaultDtype(data) !== dtype && !(dtype === "b1" && data instanceof Uint8Array)) {
    throw new InputError(name, `dtype '${dtype}' does not match the data (a ${data.constructor.name})`);
  }
  if (!isLittleEndianHost && dtypes[dtype].size > 1) throw new Error("npy: big-endian hosts are not supported");
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The header numpy.save writes for this array, padded to a 64-byte boundary. */
function header(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  const order = dtypes[dtype].size === 1 ? "|" : "<";
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${order}${dtype}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  // numpy.save leaves room for the first axis to grow in place (GROWTH_AXIS_MAX_DIGITS = 21).
  if (shape.length > 0) dict += " ".repeat(Math.max(0, 21 - String(shape[0]).length));
  // Like numpy: pad with 1..64 spaces plus "\n" so the data starts on a 64-byte boundary;
  // version 1.0 (2-byte length) unless the header is too long for it.
  let major = 1;
  let pre = 10;
  let pad = 64 - ((pre + dict.length + 1) % 64);
  if (dict.length + 1 + pad > 0xffff) { major = 2; pre = 12; pad = 64 - ((pre + dict.length + 1) % 64); }
  const text = dict + " ".repeat(pad) + "\n";
  const out = new Uint8Array(pre + text.length);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, text.length, true);
  else dv.setUint32(8, text.length, true);
  for (let k = 0; k < text.length; k++) out[pre + k] = text.charCodeAt(k);
  return out;
}

/** The bytes of a .npy file holding `arr` (dtype defaults to the typed array's own). */
export function encodeNpy(arr: NpyInput, name = "npy"): Uint8Array[] {
  const dtype = arr.dtype ?? defaultDtype(arr.data);
  if (!(dtype in dtypes)) throw new InputError(name, `unsupported dtype '${dtype}'`);
  if (!arr.shape.every((s) => Number.isInteger(s) && s >= 0)) {
    throw new InputError(name, `shape must be non-negative integers, got [${arr.shape.join(", ")}]`);
  }
  const count = arr.shape.reduce((a, b) => a * b, 1);
  if (arr.data.length !== count) {
    throw new InputError(name, `shape [${arr.shape.join(", ")}] needs ${count} values, the data has ${arr.data.length}`);
  }
  return [header(dtype, arr.shape), rawBytes(dtype, arr.data, name)];
}

/** Writes `arr` to `path` as .npy, atomically. */
export function writeNpy(path: string, arr: NpyInput): void {
  writeFileAtomic(path, encodeNpy(arr, path));
}
