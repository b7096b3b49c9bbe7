/**
 * The element types of the tensor files curvlab reads and writes, in one table: each row's name
 * in a .npy header (numpy's type code, npy.ts) and in a safetensors header (safetensors.ts), its
 * size in bytes, its position in the safetensors library's dtype enum (which orders the tensors of
 * a written file), how its little-endian bytes decode into a typed array, and the typed array that
 * holds it natively (what a file format writes a typed array as when no dtype is given).
 *
 * Half precision (f2 / F16, and BF16, which .npy has no code for) decodes exactly into a
 * Float32Array; bool (b1 / BOOL) into a Uint8Array of 0/1.
 */
import { bf16ToF32, f16ToF32 } from "./half.ts";

export type TypedArray =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

/** numpy's type codes (without the byte-order character) that .npy files here may hold. */
export type NpyDtype = "f2" | "f4" | "f8" | "i1" | "i2" | "i4" | "i8" | "u1" | "u2" | "u4" | "u8" | "b1";

/** The safetensors dtype names supported here (the 8-bit floats are not). */
export type SafetensorsDtype =
  | "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U64" | "U32" | "U16" | "U8" | "BOOL";

export interface ElementType {
  /** numpy's type code ('f4' for float32); none for bfloat16. */
  readonly npy?: NpyDtype;
  /** The safetensors dtype name ("F32"). */
  readonly safetensors: SafetensorsDtype;
  /** Bytes per element. */
  readonly size: number;
  /** Position in the safetensors library's dtype enum (F8 types, not supported, are 3 and 4). */
  readonly safetensorsRank: number;
  /** Typed array over the raw little-endian bytes (the buffer is the caller's aligned copy). */
  readonly decode: (buf: ArrayBuffer) => TypedArray;
  /** The typed array whose elements are this type, where one is (not for f2, bf16, bool). */
  readonly native?: abstract new (length: number) => TypedArray;
}

/** Every element type, in the order .npy error messages list them (floats, ints, uints, bool). */
export const ELEMENT_TYPES: readonly ElementType[] = [
  { npy: "f2", safetensors: "F16", size: 2, safetensorsRank: 7, decode: (b) => f16ToF32(new Uint16Array(b)) },
  { safetensors: "BF16", size: 2, safetensorsRank: 8, decode: (b) => bf16ToF32(new Uint16Array(b)) },
  { npy: "f4", safetensors: "F32", size: 4, safetensorsRank: 11, decode: (b) => new Float32Array(b), native: Float32Array },
  { npy: "f8", safetensors: "F64", size: 8, safetensorsRank: 12, decode: (b) => new Float64Array(b), native: Float64Array },
  { npy: "i1", safetensors: "I8", size: 1, safetensorsRank: 2, decode: (b) => new Int8Array(b), native: Int8Array },
  { npy: "i2", safetensors: "I16", size: 2, safetensorsRank: 5, decode: (b) => new Int16Array(b), native: Int16Array },
  { npy: "i4", safetensors: "I32", size: 4, safetensorsRank: 9, decode: (b) => new Int32Array(b), native: Int32Array },
  { npy: "i8", safetensors: "I64", size: 8, safetensorsRank: 13, decode: (b) => new BigInt64Array(b), native: BigInt64Array },
  { npy: "u1", safetensors: "U8", size: 1, safetensorsRank: 1, decode: (b) => new Uint8Array(b), native: Uint8Array },
  { npy: "u2", safetensors: "U16", size: 2, safetensorsRank: 6, decode: (b) => new Uint16Array(b), native: Uint16Array },
  { npy: "u4", safetensors: "U32", size: 4, safetensorsRank: 10, decode: (b) => new Uint32Array(b), native: Uint32Array },
  { npy: "u8", safetensors: "U64", size: 8, safetensorsRank: 14, decode: (b) => new BigUint64Array(b), native: BigUint64Array },
  { npy: "b1", safetensors: "BOOL", size: 1, safetensorsRank: 0, decode: (b) => new Uint8Array(b) },
];

/** The row of the typed array that holds `data` natively, if any. */
export function nativeElementType(data: TypedArray): ElementType | undefined {
  return ELEMENT_TYPES.find((t) => t.native !== undefined && data instanceof t.native);
}
