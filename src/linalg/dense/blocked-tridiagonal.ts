/**
 * Blocked Householder reduction of a dense symmetric matrix to tridiagonal form, T = Q^T A Q, on
 * WebAssembly SIMD kernels (LAPACK dsytrd with dlatrd; Dongarra, Hammarling & Sorensen, "Block
 * reduction of matrices to condensed forms for eigenvalue computations", J. Comput. Appl. Math.
 * 27, 1989; Golub & Van Loan, "Matrix Computations", 4th ed., section 8.3).
 *
 * Method: the reduction runs in panels of `nb` steps. Within a panel, step i builds its Householder
 * vector u_i from row i (first brought up to date with the panel's earlier vectors), and needs
 * p = tau A_i u_i with A_i the current trailing matrix. A_i is never formed: it is the stale matrix
 * (as it stood at the start of the panel) minus V W^T + W V^T for the panel's vectors so far, so
 * p = tau (A_stale u - V (W^T u) - W (V^T u)), one read-only symmetric product (symv) plus thin
 * corrections. After the panel, one rank-2nb update A -= V W^T + W V^T brings the trailing matrix
 * up to date in 4 x 4 register tiles (syr2k), which reuses every loaded value many times. Compared
 * with the unblocked reduction (householder-tridiagonal.ts, which reads AND writes the trailing
 * triangle at every step), the per-step traffic is halved and half of the flops run from
 * registers. Both products can be split by rows across worker threads (see row-team.ts): each
 * helper instantiates the same kernels on the same shared WebAssembly.Memory.
 *
 * Storage (see tridiagonal-wasm-kernels.ts): the upper triangle row-major with row stride ld,
 * row k holding column k of the input's lower triangle; after the reduction row k keeps the tail
 * u_k[k+2..n-1] of the k-th Householder vector (u_k[k+1] = 1), as in the unblocked code, so that
 * `packedReflectors` can hand them to formQ.
 *
 * Accuracy: the same backward stability as the unblocked reduction (GVL 8.3; the blocked form
 * only reorders the same exact-arithmetic computation); results differ from it by rounding.
 * Cost: 4/3 n^3 flops (half in symv, half in syr2k) plus O(n^2 nb); memory about n^2 doubles.
 * Default nb = 32, LAPACK's choice for dsytrd.
 */
import { rowBase, splitRows, type Tridiagonal } from "./householder-tridiagonal.ts";
import { ModeChooser, type Session, type TeamArg } from "./row-team.ts";
import { tridiagonalKernelModule, type TridiagonalKernels } from "./tridiagonal-wasm-kernels.ts";
import { copyLowerByColumns } from "./dense-matrix.ts";

/** Panel width (LAPACK's ilaenv default for dsytrd). */
export const DEFAULT_PANEL = 32;
/** Tails of Householder rows below this max |entry| count as zero (as in householder-tridiagonal.ts). */
const NEGLIGIBLE = 2 ** -900;
const PAGE = 65536;

/** The reduction's working memory and kernels. Offsets are in doubles from the start of F. */
export interface BlockedWorkspace {
  readonly n: number;
  readonly nb: number;
  /** Row stride of the matrix storage (>= n + 3, even). */
  readonly ld: number;
  readonly memory: WebAssembly.Memory;
  readonly module: WebAssembly.Module;
  readonly kernels: TridiagonalKernels;
  /** View of the whole memory. */
  readonly F: Float64Array;
  /** The matrix storage (ld * (n + 4) doubles). */
  readonly a: number;
  /** One symv accumulator per thread (ld doubles each); y[0] is the caller's. */
  readonly y: readonly number[];
  /** V^T and W^T of the current panel (nb rows of ld doubles each). */
  readonly vt: number;
  readonly wt: number;
  /** [V W] and [W V] packed by groups of four rows for syr2k. */
  readonly zp: number;
  readonly yp: number;
}

/**
 * Allocates the workspace for an n x n matrix, on shared memory when `shared` (for a team of
 * `threads`), or returns null where WebAssembly SIMD (or shared memory, when asked) is missing.
 */
export function createWorkspace(n: number, options: { nb?: number; threads?: number; shared?: boolean } = {}): BlockedWorkspace | null {
  const nb = Math.max(1, options.nb ?? DEFAULT_PANEL);
  const threads = Math.max(1, options.threads ?? 1);
  const shared = options.shared ?? false;
  const module = tridiagonalKernelModule(shared);
  if (!module) return null;
  const ld = n + (n % 2) + 4;
  const groups = Math.ceil(n / 4) + 1;
  let at = 0;
  const take = (count: number) => {
    const o = at;
    at += count + (count % 2); // keep every block 16-byte aligned
    return o;
  };
  const y = Array.from({ length: threads }, () => take(ld));
  const vt = take(nb * ld);
  const wt = take(nb * ld);
  const zp = take(groups * 8 * nb);
  const yp = take(groups * 8 * nb);
  const a = take(ld * (n + 4));
  const pages = Math.max(1, Math.ceil((at * 8) / PAGE));
  if (pages > 65536) return null; // beyond 4 GiB: not addressable by 32-bit Wasm
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory(shared ? { initial: pages, maximum: pages, shared: true } : { initial: pages, maximum: pages });
  } catch {
    return null;
  }
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const kernels = instance.exports as unknown as TridiagonalKernels;
  return { n, nb, ld, memory, module, kernels, F: new Float64Array(memory.buffer), a, y, vt, wt, zp, yp };
}

/**
 * Copies the lower triangle of the row-major n x n `data` into the workspace (row k of the
 * storage = column k of A below the diagonal); returns max |entry|. Tiled so that both sides
 * stay in cache.
 */
export function loadLower(ws: BlockedWorkspace, data: Float64Array): number {
  const { n, ld, F, a } = ws;
  return copyLowerByColumns(data, n, F, (j) => a + j * ld);
}

/** Multiplies the stored triangle by s. */
export function scaleStored(ws: BlockedWorkspace, s: number): void {
  const { n, ld, F, a } = ws;
  for (let r = 0; r < n; r++) for (let c = a + r * ld + r, end = a + r * ld + n; c < end; c++) F[c] *= s;
}

/**
 * How the two products of each panel run: on the calling thread, or split across a team. Both
 * take row ranges of the trailing matrix; `symv` leaves y = sum of the threads' accumulators in
 * the caller's y[0].
 */
export interface BlockedRunner {
  /** y = A u over rows and columns [r0, n), u at offset `u`. */
  symv(r0: number, n: number, u: number): void;
  syr2k(k1: number, K: number, groups: number): void;
}

/** Bytes of packed Y that syr2k keeps in cache while the row groups pass over them (half of L2). */
const SYR2K_BLOCK_BYTES = 1 << 17;

/** Column groups per syr2k block for a panel of K = 2 nb columns of Z and Y. */
function columnBlock(K: number): number {
  return Math.max(1, Math.floor(SYR2K_BLOCK_BYTES / (32 * K)));
}

/** Runs both products on the calling thread. */
export function serialBlockedRunner(ws: BlockedWorkspace): BlockedRunner {
  const { kernels: k, ld, F } = ws;
  const a8 = 8 * ws.a, ld8 = 8 * ld, y0 = ws.y[0];
  return {
    symv(r0, n, u) {
      F.fill(0, y0 + r0, y0 + ld);
      k.symv(a8, ld8, 8 * u, 8 * y0, r0, n, n);
    },
    syr2k(k1, K, groups) {
      k.syr2k(a8, ld8, 8 * ws.zp, 8 * ws.yp, K, k1, 0, groups, columnBlock(K));
    },
  };
}

/**
 * The helpers' side of teamBlockedRunner, run by worker threads (self-contained: they compile it
 * from its source text). It instantiates the kernel module on the shared memory once per session
 * and runs, on rows [r0, r1):
 * - which = 0: symv into the helper's own accumulator at byte address p2 (u at p1, size p3),
 *   zeroing that accumulator over [p4, p3) on the helper's first chunk of the pass;
 * - which = 1: syr2k on column groups [r0, r1) (packed Z at p1, Y at p2, K = p3, first row p4,
 *   p5 column groups per block).
 */
export function wasmTeamKernel(memory: WebAssembly.Memory, module: WebAssembly.Module, which: number, a8: number, ld8: number, p1: number, p2: number, p3: number, p4: number, p5: number, r0: number, r1: number, first: number): void {
  const g = globalThis as unknown as { __curvlabTridiagonal?: { memory: WebAssembly.Memory; k: TridiagonalKernels } };
  let c = g.__curvlabTridiagonal;
  if (!c || c.memory !== memory) {
    c = { memory, k: new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as TridiagonalKernels };
    g.__curvlabTridiagonal = c;
  }
  if (which === 0) {
    if (first) new Float64Array(memory.buffer, p2 + 8 * p4, p3 - p4).fill(0);
    c.k.symv(a8, ld8, p1, p2, r0, r1, p3);
  } else {
    c.k.syr2k(a8, ld8, p1, p2, p3, p4, r0, r1, p5);
  }
}

/**
 * Below these many trailing rows a product runs on the calling thread alone: waking a sleeping
 * helper costs tens of microseconds, about a symv over 400 rows or a rank-64 update over 100.
 */
const MIN_TEAM_ROWS_SYMV = 400;
const MIN_TEAM_ROWS_SYR2K = 128;
/** Chunks per thread and product (dynamic scheduling, see row-team.ts). */
const CHUNKS_PER_THREAD = 4;

/**
 * A runner that splits both products across the caller and the helpers of `session` (helper h
 * holds [ws.memory, ws.module] and runs wasmTeamKernel as kernel number `kernel`; its symv
 * accumulator is ws.y[h + 1]). Small products, and all products of a kind while the team
 * measures slower than the caller alone (ModeChooser), run on the calling thread.
 */
export function teamBlockedRunner(ws: BlockedWorkspace, session: Session, kernel: number): BlockedRunner {
  const serial = serialBlockedRunner(ws);
  const { F, kernels: k, ld } = ws;
  const threads = session.helpers + 1;
  const a8 = 8 * ws.a, ld8 = 8 * ld, y0 = ws.y[0];
  const symvArgs: TeamArg[][] = [];
  const syr2kArgs: TeamArg[][] = [];
  for (let h = 1; h < threads; h++) {
    symvArgs.push([{ array: 0 }, { array: 1 }, 0, a8, ld8, 0, 8 * ws.y[h], 0, 0, 0]);
    syr2kArgs.push([{ array: 0 }, { array: 1 }, 1, a8, ld8, 8 * ws.zp, 8 * ws.yp, 0, 0, 0]);
  }
  const symvChooser = new ModeChooser();
  const syr2kChooser = new ModeChooser();
  return {
    symv(r0, n, u) {
      const m = n - r0;
      if (m < MIN_TEAM_ROWS_SYMV) return serial.symv(r0, n, u);
      const work = (m * (m + 1)) / 2;
      const t0 = performance.now();
      if (!symvChooser.useTeam()) {
        serial.symv(r0, n, u);
        symvChooser.record(false, performance.now() - t0, work);
        return;
      }
      F.fill(0, y0 + r0, y0 + ld);
      for (const a of symvArgs) {
        a[5] = 8 * u; a[7] = n; a[8] = r0;
      }
      const chunks = Math.min(threads * CHUNKS_PER_THREAD, Math.floor(m / 8));
      const b = splitRows(r0, n, chunks);
      const took = session.run(kernel, symvArgs, b, chunks, (c0, c1) => k.symv(a8, ld8, 8 * u, 8 * y0, c0, c1, n));
      for (let h = 1; h < threads; h++) {
        if (!took[h - 1]) continue;
        const yh = ws.y[h];
        for (let c = r0; c < n; c++) F[y0 + c] += F[yh + c];
      }
      symvChooser.record(true, performance.now() - t0, work);
    },
    syr2k(k1, K, groups) {
      if (4 * groups < MIN_TEAM_ROWS_SYR2K) return serial.syr2k(k1, K, groups);
      const work = (groups * (groups + 1)) / 2;
      const t0 = performance.now();
      const team = syr2kChooser.useTeam();
      if (team) {
        const hb = columnBlock(K);
        for (const a of syr2kArgs) {
          a[7] = K; a[8] = k1; a[9] = hb;
        }
        // Chunks of column groups; column group h has h + 1 tiles, so equal work means bounds
        // at groups * sqrt(t / chunks).
        const chunks = Math.min(threads * CHUNKS_PER_THREAD, Math.floor(groups / 4));
        const b = [0];
        for (let t = 1; t < chunks; t++) b.push(Math.max(b[t - 1], Math.round(groups * Math.sqrt(t / chunks))));
        b.push(groups);
        session.run(kernel, syr2kArgs, b, chunks, (h0, h1) => k.syr2k(a8, ld8, 8 * ws.zp, 8 * ws.yp, K, k1, h0, h1, hb));
      } else {
        serial.syr2k(k1, K, groups);
      }
      syr2kChooser.record(team, performance.now() - t0, work);
    },
  };
}

/**
 * Reduces the matrix in `ws` (loaded with loadLower) to tridiagonal form; the storage is
 * overwritten with the reflectors.
 */
export function blockedTridiagonalize(ws: BlockedWorkspace, runner: BlockedRunner = serialBlockedRunner(ws)): Tridiagonal {
  const { n, nb, ld, F, kernels: k, a, vt, wt } = ws;
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(n - 1, 0));
  const tau = new Float64Array(Math.max(n - 2, 0));
  const y = ws.y[0];
  const ld8 = 8 * ld;
  for (let k0 = 0; k0 < n; k0 += nb) {
    const kb = Math.min(nb, n - k0);
    for (let j = 0; j < kb; j++) {
      const i = k0 + j;
      const ri = a + i * ld; // row i of the storage
      const vrow = vt + j * ld;
      const wrow = wt + j * ld;
      // Row i with the panel's updates so far (the stored matrix is as of the panel's start).
      if (j > 0) k.rowUpdate(8 * ri, 8 * vt, 8 * wt, ld8, j, i, n);
      d[i] = F[ri + i];
      if (i >= n - 2) {
        if (i === n - 2) e[i] = F[ri + i + 1];
        F.fill(0, vrow, vrow + ld);
        F.fill(0, wrow, wrow + ld);
        continue;
      }
      // Householder vector for x = A[i, i+1..n-1] (LAPACK dlarfg): H x = beta e_1.
      const alpha = F[ri + i + 1];
      let amax = 0;
      for (let c = ri + i + 2, end = ri + n; c < end; c++) {
        const m = Math.abs(F[c]);
        if (m > amax) amax = m;
      }
      if (amax < NEGLIGIBLE) {
        // x is (numerically) a multiple of e_1: H = I (see householder-tridiagonal.ts for why
        // dropping entries below 2^-900 is harmless after eigh's scaling).
        e[i] = alpha;
        F.fill(0, vrow, vrow + ld);
        F.fill(0, wrow, wrow + ld);
        continue;
      }
      const inv = 1 / amax;
      let ss = 0;
      for (let c = ri + i + 2, end = ri + n; c < end; c++) {
        const x = F[c] * inv;
        ss += x * x;
      }
      const a0 = alpha * inv;
      const norm = amax * Math.sqrt(a0 * a0 + ss);
      const beta = alpha <= 0 ? norm : -norm;
      const t = (beta - alpha) / beta;
      const sc = 1 / (alpha - beta);
      e[i] = beta;
      tau[i] = t;
      F.fill(0, vrow, vrow + i + 1);
      F[vrow + i + 1] = 1;
      for (let c = i + 2; c < n; c++) {
        const uc = F[ri + c] * sc;
        F[vrow + c] = uc;
        F[ri + c] = uc; // keep the reflector for formQ; row i is finished
      }
      // y = A_stale u (rows and columns i+1..n-1), then the panel's corrections.
      runner.symv(i + 1, n, vrow);
      if (j > 0) k.correct(8 * vt, 8 * wt, ld8, j, 8 * vrow, 8 * y, i + 1, n);
      // p = tau y, w = p - (tau/2)(p . u) u  (dsytd2 / dlatrd).
      let dot = 0;
      for (let c = i + 1; c < n; c++) {
        const p = t * F[y + c];
        F[y + c] = p;
        dot += p * F[vrow + c];
      }
      const h = -0.5 * t * dot;
      F.fill(0, wrow, wrow + i + 1);
      for (let c = i + 1; c < n; c++) F[wrow + c] = F[y + c] + h * F[vrow + c];
    }
    const k1 = k0 + kb;
    if (k1 < n) {
      const groups = packPanel(ws, k1, kb);
      runner.syr2k(k1, 2 * kb, groups);
    }
  }
  return { d, e, tau };
}

/** Packs Z = [V W] and Y = [W V] (rows k1..) by groups of four rows; returns the group count. */
function packPanel(ws: BlockedWorkspace, k1: number, kb: number): number {
  const { n, ld, F, vt, wt, zp, yp } = ws;
  const K = 2 * kb;
  const groups = Math.ceil((n - k1) / 4);
  for (let l = 0; l < kb; l++) {
    const v = vt + l * ld + k1; // V^T and W^T are zero past column n - 1 (ld >= n + 3)
    const w = wt + l * ld + k1;
    for (let g = 0; g < groups; g++) {
      const zo = zp + g * 4 * K + 4 * l;
      const yo = yp + g * 4 * K + 4 * l;
      const zo2 = zo + 4 * kb;
      const yo2 = yo + 4 * kb;
      for (let q = 0; q < 4; q++) {
        const vc = F[v + 4 * g + q];
        const wc = F[w + 4 * g + q];
        F[zo + q] = vc;
        F[yo + q] = wc;
        F[zo2 + q] = wc;
        F[yo2 + q] = vc;
      }
    }
  }
  return groups;
}

/** The reflectors left in the storage, as the packed upper array that formQ reads. */
export function packedReflectors(ws: BlockedWorkspace, P: Float64Array): Float64Array {
  const { n, ld, F, a } = ws;
  for (let k = 0; k < n; k++) {
    const src = a + k * ld;
    const dst = rowBase(k, n);
    for (let c = k; c < n; c++) P[dst + c] = F[src + c];
  }
  return P;
}
