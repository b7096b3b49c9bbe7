/**
 * A minimal WebAssembly binary writer, enough for small numeric kernels written by hand: i32 / f64
 * / v128 (128-bit SIMD) locals and arithmetic, loads and stores, block / loop / if, and one
 * imported linear memory (optionally shared, so that worker threads can run the same kernels on
 * the same data). Binary format: WebAssembly Core Specification 2.0, chapter 5, and the fixed-width
 * SIMD proposal (now part of 2.0).
 *
 * Why: the package has no build step and no native code; a few hundred bytes of hand-written Wasm
 * give the dense eigensolver SIMD loads and arithmetic without bounds checks on every access. Code
 * is written as arrays of instruction bytes made by the helpers below (`op.*`), so kernels are
 * TypeScript functions that emit their own (partially unrolled) bodies.
 */

export type ValType = "i32" | "f64" | "v128";
const TYPE_CODE: Record<ValType, number> = { i32: 0x7f, f64: 0x7c, v128: 0x7b };

/** Unsigned LEB128. */
export function uleb(x: number): number[] {
  const out: number[] = [];
  do {
    let b = x & 0x7f;
    x = Math.floor(x / 128);
    if (x !== 0) b |= 0x80;
    out.push(b);
  } while (x !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
export function sleb(x: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = x & 0x7f;
    x >>= 7;
    if ((x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const simd = (code: number): number[] => [0xfd, ...uleb(code)];
/** memarg: alignment exponent and constant byte offset. */
const mem = (align: number, offset: number): number[] => [...uleb(align), ...uleb(offset)];

/** Instruction encoders (each returns the bytes of one instruction). */
export const op = {
  block: (): number[] => [0x02, 0x40],
  loop: (): number[] => [0x03, 0x40],
  if: (): number[] => [0x04, 0x40],
  else: (): number[] => [0x05],
  end: (): number[] => [0x0b],
  br: (depth: number): number[] => [0x0c, ...uleb(depth)],
  brIf: (depth: number): number[] => [0x0d, ...uleb(depth)],
  /** Pops c, b, a; pushes a if c != 0, else b. */
  select: (): number[] => [0x1b],
  get: (i: number): number[] => [0x20, ...uleb(i)],
  set: (i: number): number[] => [0x21, ...uleb(i)],
  tee: (i: number): number[] => [0x22, ...uleb(i)],
  i32: (x: number): number[] => [0x41, ...sleb(x | 0)],
  f64: (x: number): number[] => {
    const b = new Uint8Array(new Float64Array([x]).buffer);
    return [0x44, ...b];
  },
  f64Load: (offset = 0): number[] => [0x2b, ...mem(3, offset)],
  f64Store: (offset = 0): number[] => [0x39, ...mem(3, offset)],
  i32Add: (): number[] => [0x6a],
  i32Sub: (): number[] => [0x6b],
  i32Mul: (): number[] => [0x6c],
  i32Shl: (): number[] => [0x74],
  i32LtS: (): number[] => [0x48],
  i32GtS: (): number[] => [0x4a],
  i32LtU: (): number[] => [0x49],
  i32LeS: (): number[] => [0x4c],
  i32GeU: (): number[] => [0x4f],
  i32Eqz: (): number[] => [0x45],
  f64Add: (): number[] => [0xa0],
  f64Sub: (): number[] => [0xa1],
  f64Mul: (): number[] => [0xa2],
  // SIMD (alignment hints are hints only: unaligned addresses are allowed)
  v128Load: (offset = 0): number[] => [...simd(0x00), ...mem(3, offset)],
  v128Store: (offset = 0): number[] => [...simd(0x0b), ...mem(3, offset)],
  load64Splat: (offset = 0): number[] => [...simd(0x0a), ...mem(3, offset)],
  f64x2Splat: (): number[] => simd(0x14),
  f64x2Extract: (lane: number): number[] => [...simd(0x21), lane],
  f64x2Add: (): number[] => simd(0xf0),
  f64x2Sub: (): number[] => simd(0xf1),
  f64x2Mul: (): number[] => simd(0xf2),
  v128Zero: (): number[] => [...simd(0x0c), ...new Array<number>(16).fill(0)],
};

/** One function: parameter and local types, and its body (without the final `end`). */
export interface WasmFunction {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly locals: readonly ValType[];
  readonly body: readonly number[];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}

/**
 * A module importing its memory as env.memory (`minPages` .. `maxPages` pages of 64 KiB, shared
 * if asked) and exporting every function under its name; functions return nothing.
 */
export function assembleModule(functions: readonly WasmFunction[], memory: { minPages: number; maxPages: number; shared: boolean }): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vec(f.params.map((t) => [TYPE_CODE[t]])), 0x00]);
  const limits = memory.shared ? [0x03, ...uleb(memory.minPages), ...uleb(memory.maxPages)] : [0x01, ...uleb(memory.minPages), ...uleb(memory.maxPages)];
  const imports = vec([[...name("env"), ...name("memory"), 0x02, ...limits]]);
  const funcs = vec(functions.map((_, i) => uleb(i)));
  const exports = vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]));
  const codes = vec(
    functions.map((f) => {
      const locals = vec(f.locals.map((t) => [1, TYPE_CODE[t]]));
      const body = [...locals, ...f.body, 0x0b];
      return [...uleb(body.length), ...body];
    }),
  );
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, codes),
  ]);
}
