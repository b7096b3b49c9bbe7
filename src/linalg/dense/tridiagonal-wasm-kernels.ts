/**
 * WebAssembly SIMD (f64x2) kernels of the blocked Householder tridiagonalization
 * (blocked-tridiagonal.ts; LAPACK dsytrd / dlatrd / dsyr2k), written with wasm-assembler.ts.
 *
 * Storage they assume: the symmetric matrix's upper triangle in a row-major array with row stride
 * `ld` (element (r, c), c >= r, at byte address a + 8 (r ld + c)). The strict lower triangle is
 * scratch: kernels may write anything there and never read it. Columns n .. ld-1 and rows past
 * n - 1 are zero padding, and so are the vectors past index n - 1, so that loops over pairs of
 * columns may run one column past the end. All addresses are byte addresses in the module's
 * (imported) memory; unaligned v128 accesses are allowed by Wasm and cheap on x86 and ARM.
 *
 * Kernels (all return nothing):
 * - symv(a, ld8, u, y, r0, r1, n): for rows r in [r0, r1): y_r += sum_{c >= r} A_rc u_c and
 *   y_c += A_rc u_r for c > r (the symmetric product from one stored triangle, both halves).
 *   Four rows per sweep of u and y, so each loaded u_c, y_c pair serves eight matrix entries.
 * - syr2k(a, ld8, zp, yp, K, r0, h0, h1, hb): A_rc -= sum_l Z_rl Y_cl over 4 x 4 tiles (g, h),
 *   rows r0 + 4g .., columns r0 + 4h .., for column groups h in [h0, h1) and row groups g <= h,
 *   in blocks of hb column groups; Z and Y are packed by groups of four rows: element
 *   (r0 + 4g + q, l) at 8 (g K 4 + 4 l + q). With Z = [V W] and Y = [W V] this is the rank-2k
 *   update A -= V W^T + W V^T.
 * - rowUpdate(arow, vt, wt, ld8, j, i, n): A_ic -= sum_{l < j} (V_il W_cl + W_il V_cl) for
 *   c in [i, n), V and W stored transposed (row l of vt at vt + 8 l ld).
 * - correct(vt, wt, ld8, j, u, y, c0, n): y -= V (W^T u) + W (V^T u) over [c0, n) (dlatrd's
 *   correction of a product with the stale matrix).
 */
import { assembleModule, op, type ValType, type WasmFunction } from "./wasm-assembler.ts";

/** Declares named locals; `L.x` is the index of local x. */
function frame(params: Record<string, ValType>, locals: Record<string, ValType>) {
  const names = [...Object.keys(params), ...Object.keys(locals)];
  const L: Record<string, number> = {};
  names.forEach((k, i) => (L[k] = i));
  return { L, params: Object.values(params), locals: Object.values(locals) };
}

const I = "i32" as const, D = "f64" as const, V = "v128" as const;
const get = op.get, set = op.set;

/** while (cond) { body } with cond computed by `cond` (bytes leaving an i32). */
function whileLoop(cond: number[], body: number[]): number[] {
  return [...op.block(), ...op.loop(), ...cond, ...op.i32Eqz(), ...op.brIf(1), ...body, ...op.br(0), ...op.end(), ...op.end()];
}

function symv(): WasmFunction {
  const R = 4;
  const locals: Record<string, ValType> = { r: I, off: I, end8: I, pu: I, py: I };
  for (let q = 0; q < R; q++) Object.assign(locals, { [`p${q}`]: I, [`x${q}`]: I, [`u${q}`]: D, [`s${q}`]: D, [`U${q}`]: V, [`S${q}`]: V, [`A${q}`]: V });
  Object.assign(locals, { xu: I, xy: I, uv: V });
  const { L, params, locals: loc } = frame({ a: I, ld8: I, u: I, y: I, r0: I, r1: I, n: I }, locals);

  /** Code for a block of `rows` rows starting at local r (rows = 4 or 1). */
  const rowsBlock = (rows: number): number[] => {
    const b: number[] = [];
    // p0 = a + r ld8 + 8 r; pq = p0 + q ld8; pu = u + 8r; py = y + 8r; end8 = 8 (n - r)
    b.push(...get(L.a), ...get(L.r), ...get(L.ld8), ...op.i32Mul(), ...op.i32Add(), ...get(L.r), ...op.i32(3), ...op.i32Shl(), ...op.i32Add(), ...set(L.p0));
    for (let q = 1; q < rows; q++) b.push(...get(L[`p${q - 1}`]), ...get(L.ld8), ...op.i32Add(), ...set(L[`p${q}`]));
    b.push(...get(L.u), ...get(L.r), ...op.i32(3), ...op.i32Shl(), ...op.i32Add(), ...set(L.pu));
    b.push(...get(L.y), ...get(L.r), ...op.i32(3), ...op.i32Shl(), ...op.i32Add(), ...set(L.py));
    b.push(...get(L.n), ...get(L.r), ...op.i32Sub(), ...op.i32(3), ...op.i32Shl(), ...set(L.end8));
    for (let q = 0; q < rows; q++) {
      b.push(...get(L.pu), ...op.f64Load(8 * q), ...op.tee(L[`u${q}`]), ...op.f64x2Splat(), ...set(L[`U${q}`]));
      b.push(...op.v128Zero(), ...set(L[`S${q}`]));
    }
    // Corner: entries (r+q, r+c), q <= c < rows.
    for (let q = 0; q < rows; q++) {
      // s_q = sum_{c >= q} A_qc u_c
      for (let c = q; c < rows; c++) {
        b.push(...get(L[`p${q}`]), ...op.f64Load(8 * c), ...get(L[`u${c}`]), ...op.f64Mul());
        if (c > q) b.push(...get(L[`s${q}`]), ...op.f64Add());
        b.push(...set(L[`s${q}`]));
      }
    }
    for (let c = 1; c < rows; c++) {
      // y_{r+c} += sum_{q < c} A_qc u_q
      b.push(...get(L.py), ...get(L.py), ...op.f64Load(8 * c));
      for (let q = 0; q < c; q++) b.push(...get(L[`p${q}`]), ...op.f64Load(8 * c), ...get(L[`u${q}`]), ...op.f64Mul(), ...op.f64Add());
      b.push(...op.f64Store(8 * c));
    }
    // Columns r + rows .. n-1: four at a time while at least three are left, then two at a time
    // (a column past n - 1 reads zero padding). Addresses are formed once per iteration and the
    // unrolled pairs use constant offsets, which saves instructions in this, the hottest loop.
    const columns = (pairs: number): number[] => {
      const body: number[] = [];
      for (let q = 0; q < rows; q++) body.push(...get(L[`p${q}`]), ...get(L.off), ...op.i32Add(), ...set(L[`x${q}`]));
      body.push(...get(L.pu), ...get(L.off), ...op.i32Add(), ...set(L.xu));
      body.push(...get(L.py), ...get(L.off), ...op.i32Add(), ...set(L.xy));
      for (let k = 0; k < pairs; k++) {
        const o = 16 * k;
        body.push(...get(L.xu), ...op.v128Load(o), ...set(L.uv));
        for (let q = 0; q < rows; q++) {
          body.push(...get(L[`x${q}`]), ...op.v128Load(o), ...op.tee(L[`A${q}`]));
          body.push(...get(L.uv), ...op.f64x2Mul(), ...get(L[`S${q}`]), ...op.f64x2Add(), ...set(L[`S${q}`]));
        }
        // y += (A0 U0 + A1 U1) + (A2 U2 + A3 U3)
        body.push(...get(L.xy), ...get(L.xy), ...op.v128Load(o));
        const prod = (q: number) => [...get(L[`A${q}`]), ...get(L[`U${q}`]), ...op.f64x2Mul()];
        if (rows === 4) body.push(...prod(0), ...prod(1), ...op.f64x2Add(), ...prod(2), ...prod(3), ...op.f64x2Add(), ...op.f64x2Add());
        else body.push(...prod(0));
        body.push(...op.f64x2Add(), ...op.v128Store(o));
      }
      body.push(...get(L.off), ...op.i32(16 * pairs), ...op.i32Add(), ...set(L.off));
      return body;
    };
    b.push(...op.i32(8 * rows), ...set(L.off));
    b.push(...whileLoop([...get(L.off), ...op.i32(16), ...op.i32Add(), ...get(L.end8), ...op.i32LtS()], columns(2)));
    b.push(...whileLoop([...get(L.off), ...get(L.end8), ...op.i32LtS()], columns(1)));
    // y_{r+q} += s_q + S_q[0] + S_q[1]
    for (let q = 0; q < rows; q++) {
      b.push(...get(L.py), ...get(L.py), ...op.f64Load(8 * q), ...get(L[`s${q}`]));
      b.push(...get(L[`S${q}`]), ...op.f64x2Extract(0), ...get(L[`S${q}`]), ...op.f64x2Extract(1), ...op.f64Add(), ...op.f64Add(), ...op.f64Add());
      b.push(...op.f64Store(8 * q));
    }
    b.push(...get(L.r), ...op.i32(rows), ...op.i32Add(), ...set(L.r));
    return b;
  };
  const body: number[] = [];
  body.push(...get(L.r0), ...set(L.r));
  // while (r + 4 <= r1)
  body.push(...whileLoop([...get(L.r), ...op.i32(4), ...op.i32Add(), ...get(L.r1), ...op.i32LeS()], rowsBlock(4)));
  body.push(...whileLoop([...get(L.r), ...get(L.r1), ...op.i32LtS()], rowsBlock(1)));
  return { name: "symv", params, locals: loc, body };
}

function syr2k(): WasmFunction {
  const locals: Record<string, ValType> = { g: I, h: I, b0: I, b1: I, pz: I, py: I, pzEnd: I, pa: I, tile: I, Y0: V, Y1: V, Zs: V };
  for (let q = 0; q < 4; q++) Object.assign(locals, { [`C${q}a`]: V, [`C${q}b`]: V });
  const { L, params, locals: loc } = frame({ a: I, ld8: I, zp: I, yp: I, K: I, r0: I, h0: I, h1: I, hb: I }, locals);
  const b: number[] = [];
  // tile = K * 32 bytes per packed group
  b.push(...get(L.K), ...op.i32(5), ...op.i32Shl(), ...set(L.tile));
  const colLoop: number[] = [];
  // pz = zp + g tile, py = yp + h tile, pzEnd = pz + tile
  colLoop.push(...get(L.zp), ...get(L.g), ...get(L.tile), ...op.i32Mul(), ...op.i32Add(), ...op.tee(L.pz));
  colLoop.push(...get(L.tile), ...op.i32Add(), ...set(L.pzEnd));
  colLoop.push(...get(L.yp), ...get(L.h), ...get(L.tile), ...op.i32Mul(), ...op.i32Add(), ...set(L.py));
  for (let q = 0; q < 4; q++) colLoop.push(...op.v128Zero(), ...set(L[`C${q}a`]), ...op.v128Zero(), ...set(L[`C${q}b`]));
  const kBody: number[] = [];
  for (let unroll = 0; unroll < 2; unroll++) {
    const o = 32 * unroll;
    kBody.push(...get(L.py), ...op.v128Load(o), ...set(L.Y0), ...get(L.py), ...op.v128Load(o + 16), ...set(L.Y1));
    for (let q = 0; q < 4; q++) {
      kBody.push(...get(L.pz), ...op.load64Splat(o + 8 * q), ...set(L.Zs));
      kBody.push(...get(L[`C${q}a`]), ...get(L.Zs), ...get(L.Y0), ...op.f64x2Mul(), ...op.f64x2Add(), ...set(L[`C${q}a`]));
      kBody.push(...get(L[`C${q}b`]), ...get(L.Zs), ...get(L.Y1), ...op.f64x2Mul(), ...op.f64x2Add(), ...set(L[`C${q}b`]));
    }
  }
  kBody.push(...get(L.pz), ...op.i32(64), ...op.i32Add(), ...set(L.pz), ...get(L.py), ...op.i32(64), ...op.i32Add(), ...set(L.py));
  // K is even (K = 2 kb), so the unrolled loop ends exactly at pzEnd.
  colLoop.push(...whileLoop([...get(L.pz), ...get(L.pzEnd), ...op.i32LtU()], kBody));
  // pa = a + (r0 + 4g) ld8 + 8 (r0 + 4h)
  colLoop.push(...get(L.a), ...get(L.r0), ...get(L.g), ...op.i32(2), ...op.i32Shl(), ...op.i32Add(), ...get(L.ld8), ...op.i32Mul(), ...op.i32Add());
  colLoop.push(...get(L.r0), ...get(L.h), ...op.i32(2), ...op.i32Shl(), ...op.i32Add(), ...op.i32(3), ...op.i32Shl(), ...op.i32Add(), ...set(L.pa));
  for (let q = 0; q < 4; q++) {
    for (const [half, o] of [["a", 0], ["b", 16]] as const) {
      colLoop.push(...get(L.pa), ...get(L.pa), ...op.v128Load(o), ...get(L[`C${q}${half}`]), ...op.f64x2Sub(), ...op.v128Store(o));
    }
    if (q < 3) colLoop.push(...get(L.pa), ...get(L.ld8), ...op.i32Add(), ...set(L.pa));
  }
  colLoop.push(...get(L.h), ...op.i32(1), ...op.i32Add(), ...set(L.h));
  // Row group g of the block: columns h = max(g, b0) .. b1-1.
  const rowLoop: number[] = [];
  rowLoop.push(...get(L.g), ...get(L.b0), ...get(L.g), ...get(L.b0), ...op.i32GtS(), ...op.select(), ...set(L.h));
  rowLoop.push(...whileLoop([...get(L.h), ...get(L.b1), ...op.i32LtS()], colLoop));
  rowLoop.push(...get(L.g), ...op.i32(1), ...op.i32Add(), ...set(L.g));
  // Column blocks [b0, b1) of hb groups: their packed Y (hb K 32 bytes) stays in cache while
  // every row group above the block's bottom passes over it.
  const blockLoop: number[] = [];
  blockLoop.push(...get(L.b0), ...get(L.hb), ...op.i32Add(), ...set(L.b1));
  blockLoop.push(...get(L.h1), ...get(L.b1), ...get(L.b1), ...get(L.h1), ...op.i32GtS(), ...op.select(), ...set(L.b1));
  blockLoop.push(...op.i32(0), ...set(L.g));
  blockLoop.push(...whileLoop([...get(L.g), ...get(L.b1), ...op.i32LtS()], rowLoop));
  blockLoop.push(...get(L.b1), ...set(L.b0));
  b.push(...get(L.h0), ...set(L.b0));
  b.push(...whileLoop([...get(L.b0), ...get(L.h1), ...op.i32LtS()], blockLoop));
  return { name: "syr2k", params, locals: loc, body: b };
}

function rowUpdate(): WasmFunction {
  const { L, params, locals } = frame(
    { arow: I, vt: I, wt: I, ld8: I, j: I, i: I, n: I },
    { l: I, pv: I, pw: I, off: I, end: I, Av: V, Bw: V },
  );
  const b: number[] = [];
  // end = 8 n, off runs from 8 i; pv, pw = rows l of vt, wt
  b.push(...get(L.n), ...op.i32(3), ...op.i32Shl(), ...set(L.end));
  b.push(...get(L.vt), ...set(L.pv), ...get(L.wt), ...set(L.pw), ...op.i32(0), ...set(L.l));
  const lBody: number[] = [];
  // Av = splat(V_il) = splat(vt[l][i]), Bw = splat(W_il)
  lBody.push(...get(L.pv), ...get(L.i), ...op.i32(3), ...op.i32Shl(), ...op.i32Add(), ...op.load64Splat(), ...set(L.Av));
  lBody.push(...get(L.pw), ...get(L.i), ...op.i32(3), ...op.i32Shl(), ...op.i32Add(), ...op.load64Splat(), ...set(L.Bw));
  lBody.push(...get(L.i), ...op.i32(3), ...op.i32Shl(), ...set(L.off));
  const cBody: number[] = [];
  // A[c] -= Av * W[c] + Bw * V[c]
  cBody.push(...get(L.arow), ...get(L.off), ...op.i32Add());
  cBody.push(...get(L.arow), ...get(L.off), ...op.i32Add(), ...op.v128Load());
  cBody.push(...get(L.Av), ...get(L.pw), ...get(L.off), ...op.i32Add(), ...op.v128Load(), ...op.f64x2Mul());
  cBody.push(...get(L.Bw), ...get(L.pv), ...get(L.off), ...op.i32Add(), ...op.v128Load(), ...op.f64x2Mul(), ...op.f64x2Add());
  cBody.push(...op.f64x2Sub(), ...op.v128Store());
  cBody.push(...get(L.off), ...op.i32(16), ...op.i32Add(), ...set(L.off));
  lBody.push(...whileLoop([...get(L.off), ...get(L.end), ...op.i32LtS()], cBody));
  lBody.push(...get(L.pv), ...get(L.ld8), ...op.i32Add(), ...set(L.pv), ...get(L.pw), ...get(L.ld8), ...op.i32Add(), ...set(L.pw));
  lBody.push(...get(L.l), ...op.i32(1), ...op.i32Add(), ...set(L.l));
  b.push(...whileLoop([...get(L.l), ...get(L.j), ...op.i32LtS()], lBody));
  return { name: "rowUpdate", params, locals, body: b };
}

function correct(): WasmFunction {
  const { L, params, locals } = frame(
    { vt: I, wt: I, ld8: I, j: I, u: I, y: I, c0: I, n: I },
    { l: I, pv: I, pw: I, off: I, start: I, end: I, Uv: V, SA: V, SB: V, Av: V, Bv: V },
  );
  const b: number[] = [];
  b.push(...get(L.n), ...op.i32(3), ...op.i32Shl(), ...set(L.end));
  b.push(...get(L.c0), ...op.i32(3), ...op.i32Shl(), ...set(L.start));
  b.push(...get(L.vt), ...set(L.pv), ...get(L.wt), ...set(L.pw), ...op.i32(0), ...set(L.l));
  const lBody: number[] = [];
  // SA = sum W_c u_c (alpha_l), SB = sum V_c u_c (beta_l)
  lBody.push(...op.v128Zero(), ...set(L.SA), ...op.v128Zero(), ...set(L.SB), ...get(L.start), ...set(L.off));
  const dots: number[] = [];
  dots.push(...get(L.u), ...get(L.off), ...op.i32Add(), ...op.v128Load(), ...set(L.Uv));
  dots.push(...get(L.SA), ...get(L.pw), ...get(L.off), ...op.i32Add(), ...op.v128Load(), ...get(L.Uv), ...op.f64x2Mul(), ...op.f64x2Add(), ...set(L.SA));
  dots.push(...get(L.SB), ...get(L.pv), ...get(L.off), ...op.i32Add(), ...op.v128Load(), ...get(L.Uv), ...op.f64x2Mul(), ...op.f64x2Add(), ...set(L.SB));
  dots.push(...get(L.off), ...op.i32(16), ...op.i32Add(), ...set(L.off));
  lBody.push(...whileLoop([...get(L.off), ...get(L.end), ...op.i32LtS()], dots));
  // Av = splat(alpha), Bv = splat(beta)
  lBody.push(...get(L.SA), ...op.f64x2Extract(0), ...get(L.SA), ...op.f64x2Extract(1), ...op.f64Add(), ...op.f64x2Splat(), ...set(L.Av));
  lBody.push(...get(L.SB), ...op.f64x2Extract(0), ...get(L.SB), ...op.f64x2Extract(1), ...op.f64Add(), ...op.f64x2Splat(), ...set(L.Bv));
  lBody.push(...get(L.start), ...set(L.off));
  const axpy: number[] = [];
  // y -= V alpha + W beta
  axpy.push(...get(L.y), ...get(L.off), ...op.i32Add());
  axpy.push(...get(L.y), ...get(L.off), ...op.i32Add(), ...op.v128Load());
  axpy.push(...get(L.pv), ...get(L.off), ...op.i32Add(), ...op.v128Load(), ...get(L.Av), ...op.f64x2Mul());
  axpy.push(...get(L.pw), ...get(L.off), ...op.i32Add(), ...op.v128Load(), ...get(L.Bv), ...op.f64x2Mul(), ...op.f64x2Add());
  axpy.push(...op.f64x2Sub(), ...op.v128Store());
  axpy.push(...get(L.off), ...op.i32(16), ...op.i32Add(), ...set(L.off));
  lBody.push(...whileLoop([...get(L.off), ...get(L.end), ...op.i32LtS()], axpy));
  lBody.push(...get(L.pv), ...get(L.ld8), ...op.i32Add(), ...set(L.pv), ...get(L.pw), ...get(L.ld8), ...op.i32Add(), ...set(L.pw));
  lBody.push(...get(L.l), ...op.i32(1), ...op.i32Add(), ...set(L.l));
  b.push(...whileLoop([...get(L.l), ...get(L.j), ...op.i32LtS()], lBody));
  return { name: "correct", params, locals, body: b };
}

/** Signatures of the exported kernels (byte addresses and counts, all i32). */
export interface TridiagonalKernels {
  symv(a: number, ld8: number, u: number, y: number, r0: number, r1: number, n: number): void;
  syr2k(a: number, ld8: number, zp: number, yp: number, K: number, r0: number, h0: number, h1: number, hb: number): void;
  rowUpdate(arow: number, vt: number, wt: number, ld8: number, j: number, i: number, n: number): void;
  correct(vt: number, wt: number, ld8: number, j: number, u: number, y: number, c0: number, n: number): void;
}

const modules = new Map<boolean, WebAssembly.Module | null>();

/**
 * The compiled kernel module, importing a shared or unshared memory, or null where this runtime
 * lacks WebAssembly or its SIMD (callers then use the plain JavaScript reduction).
 */
export function tridiagonalKernelModule(shared: boolean): WebAssembly.Module | null {
  let m = modules.get(shared);
  if (m === undefined) {
    m = null;
    try {
      if (typeof WebAssembly === "object" && (!shared || typeof SharedArrayBuffer === "function")) {
        const bytes = assembleModule([symv(), syr2k(), rowUpdate(), correct()], { minPages: 0, maxPages: 65536, shared });
        if (WebAssembly.validate(bytes)) m = new WebAssembly.Module(bytes);
      }
    } catch {
      m = null;
    }
    modules.set(shared, m);
  }
  return m;
}
