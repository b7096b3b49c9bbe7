/**
 * 2-D convolution and pooling as PyTorch defines them (cross-correlation; NCHW activations,
 * OIHW kernels), the one place every convolutional model calls, so that how a convolution is
 * computed on this engine is decided here and nowhere else.
 *
 * How (measured with jax-js 0.1.25's kernel traces, Wasm; bench/scratch/conv-*.ts): `lax.conv`
 * reads its input through a window view whose index needs a division and a remainder per
 * dimension, so its kernels never vectorize (0.1-2 GFLOP/s), and the transposes autodiff makes of
 * it are worse (the weight gradient of LeNet's second convolution: 2,400 outputs, each a scalar
 * reduction over 64,000 positions). Matmuls on contiguous row-major operands run at 10-40
 * GFLOP/s. So a convolution here is a sum of matmuls over contiguous row slices:
 *
 * - channels last, positions as rows: the padded input is laid out as a matrix X [n*Hp*Wp, C];
 * - output position (b, h, w) of the full grid is row r = (b*Hp + h)*Wp + w, and kernel tap (i, j)
 *   reads row r + i*Wp + j: the rows r + off for all r are one contiguous slice of X, so
 *   y = sum over taps of X[off : off + R] @ W_ij with W_ij [C, O] (the orientation of a Linear
 *   layer, whose transposes jax-js also runs fast: dX = dY @ W_ij^T, dW_ij = X_slice^T @ dY);
 * - the rows of grid positions outside the valid output (the last k-1 rows and columns of each
 *   image) are computed and dropped: (Hp*Wp)/(Ho*Wo) times the useful work (1.13 at 32x32 with
 *   padding 1, 2.25 for LeNet's 12x12 -> 8x8);
 * - few input channels (C < 8: the first layer of a network, LeNet's second) make poor matmuls,
 *   so the k taps of a row are first stacked into the channels (k slices concatenated: X [.., k*C]),
 *   leaving k row offsets;
 * - stride s > 1: the padded input splits into s*s phases (rows and columns = a mod s), each a
 *   contiguous matrix; tap (i, j) reads phase (i mod s, j mod s) at offset (i div s, j div s).
 * Operands are copied into contiguous arrays (`dense`) where a matmul reads them, and the output
 * of the sum is copied too, so that in the backward pass the cotangent reaching the matmuls is
 * contiguous as well: jax-js falls back to scalar, index-computing kernels on padded or
 * transposed views (measured 100x slower on the same matmul).
 * Everything is made of jax-js's differentiable ops (pad, slice, reshape, transpose, concatenate,
 * matmul), so gradients, JVPs and linearizations of any order come from autodiff; test/nn/conv.test.ts
 * checks values and derivatives against lax.conv in float64.
 */
import { numpy as np, type Array } from "../engine/jax.ts";

export interface Conv2dOptions {
  /** Stride in both spatial dimensions (default 1). */
  readonly stride?: number;
  /** Zero padding on each side of both spatial dimensions (default 0), as Conv2d(padding=p). */
  readonly padding?: number;
}

/** Below this many input channels, the taps of a kernel row are stacked into the channels. */
const STACK_BELOW_CHANNELS = 8;
/** Row counts of the matmuls are rounded up to this (jax-js vectorizes whole tiles only). */
const ROW_ALIGN = 64;
/**
 * Channel counts (the matmuls' reduction and lane dimensions) are padded with zeros to multiples
 * of this: jax-js's SIMD kernels take 4 float32 lanes, and without them a matmul with 5, 6 or 30
 * columns ran 20-50x slower (LeNet's weight gradients: 1-2 s each on 1,000 digits).
 */
const LANES = 4;

/** A contiguous copy of x (a kernel of its own in eager mode and a materialized value under jit). */
function dense(x: Array): Array {
  return x.mul(1);
}

const roundUp = (a: number, b: number) => Math.ceil(a / b) * b;

/**
 * y = conv2d(x, w): x [n, C, H, W], w [O, C, k, k] -> [n, O, H', W'] with
 * H' = floor((H + 2p - k) / s) + 1. Consumes x and w.
 */
export function conv2d(x: Array, w: Array, opts: Conv2dOptions = {}): Array {
  return conv2dNhwc(x.transpose([0, 2, 3, 1]), w, opts).transpose([0, 3, 1, 2]);
}

/**
 * conv2d on channels-last activations: x [n, H, W, C], w [O, C, k, k] (PyTorch's layout) ->
 * [n, H', W', O]; the same numbers as conv2d, without its two transposes. Consumes x and w.
 */
export function conv2dNhwc(x: Array, w: Array, opts: Conv2dOptions = {}): Array {
  const s = opts.stride ?? 1;
  const p = opts.padding ?? 0;
  const [n, H, W, C] = x.shape as [number, number, number, number];
  const [O, Cw, k, kw] = w.shape as [number, number, number, number];
  if (Cw !== C || kw !== k) {
    x.dispose(), w.dispose();
    throw new Error(`conv2d: input [n, H, W, C=${C}] and kernel [${w.shape}] do not fit (expected [O, ${C}, k, k])`);
  }
  const Ho = Math.floor((H + 2 * p - k) / s) + 1;
  const Wo = Math.floor((W + 2 * p - k) / s) + 1;
  if (Ho < 1 || Wo < 1) {
    x.dispose(), w.dispose();
    throw new Error(`conv2d: kernel ${k} with padding ${p} does not fit an input of ${H}x${W}`);
  }
  if (s === 1 && C < STACK_BELOW_CHANNELS && k > 1) return stackedRows(x, w, p, Ho, Wo);
  return phases(x, w, s, p, Ho, Wo);
}

/** Sum over taps of (contiguous row slice of a matrix [rows, K]) @ (weights [K, O]), as [R, O]. */
function tapSum(mats: readonly Array[], taps: readonly { mat: number; off: number; w: Array }[], R: number): Array {
  let y: Array | null = null;
  for (const t of taps) {
    const term = np.matmul(mats[t.mat]!.ref.slice([t.off, t.off + R]), t.w);
    y = y === null ? term : y.add(term);
  }
  for (const m of mats) m.dispose();
  return dense(y!);
}

/** x as a matrix [rows, K] padded with zeros to [rows, roundUp(K, 4)], copied contiguous. */
function rowsOf(x: Array, K: number, rows: number): Array {
  const m = x.reshape([-1, K]);
  const have = m.shape[0]!;
  const extra = roundUp(K, LANES) - K;
  return dense(rows > have || extra > 0 ? np.pad(m, [[0, rows - have], [0, extra]]) : m);
}

/**
 * Weights [k, k, C, O] (or [k, k*C, O]) padded with zeros to multiples of 4 in the last two
 * dimensions (the matmuls' reduction and lane dimensions), copied contiguous.
 */
function weightsOf(wt: Array): Array {
  const shape = wt.shape;
  const K = shape[shape.length - 2]!, O = shape[shape.length - 1]!;
  const pad = shape.map(() => [0, 0] as [number, number]);
  pad[shape.length - 2] = [0, roundUp(K, LANES) - K];
  pad[shape.length - 1] = [0, roundUp(O, LANES) - O];
  return dense(np.pad(wt, pad));
}

/** General case: s*s phases of the padded input, one matmul per tap (k*k, or 1 for 1x1). */
function phases(x: Array, w: Array, s: number, p: number, Ho: number, Wo: number): Array {
  const [n, H, W, C] = x.shape as [number, number, number, number];
  const [O, , k] = w.shape as [number, number, number];
  // Phase grid: Hg x Wg positions per image, enough for every output and tap.
  const q = Math.floor((k - 1) / s); // largest tap offset inside a phase
  const Hg = Math.max(Ho + q, Math.ceil((H + 2 * p) / s));
  const Wg = Math.max(Wo + q, Math.ceil((W + 2 * p) / s));
  // Zero padding: p before, and after up to s*Hg (extra zeros only feed dropped grid positions).
  const xp = np.pad(x, [[0, 0], [p, s * Hg - H - p], [p, s * Wg - W - p], [0, 0]]);
  const G = n * Hg * Wg; // grid positions
  const R = roundUp(G, ROW_ALIGN);
  const rows = R + q * Wg + q;
  const mats: Array[] = [];
  const phaseIndex = new Map<string, number>();
  if (s === 1) mats.push(rowsOf(xp, C, rows)), phaseIndex.set("0,0", 0);
  else {
    const x6 = xp.reshape([n, Hg, s, Wg, s, C]);
    for (let a = 0; a < s; a++) {
      for (let b = 0; b < s; b++) {
        if (a >= k || b >= k) continue; // no tap reads this phase (k < s)
        phaseIndex.set(`${a},${b}`, mats.length);
        mats.push(rowsOf(x6.ref.slice([], [], a, [], b), C, rows));
      }
    }
    x6.dispose();
  }
  // Weights as [k, k, C, O]: tap (i, j) is a contiguous [C, O] block.
  const wt = weightsOf(w.transpose([2, 3, 1, 0]));
  const taps: { mat: number; off: number; w: Array }[] = [];
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const mat = phaseIndex.get(`${i % s},${j % s}`)!;
      taps.push({ mat, off: Math.floor(i / s) * Wg + Math.floor(j / s), w: wt.ref.slice(i, j) });
    }
  }
  wt.dispose();
  const y = tapSum(mats, taps, R);
  return y.slice([0, G], [0, O]).reshape([n, Hg, Wg, O]).slice([], [0, Ho], [0, Wo]);
}

/**
 * Stride 1 with few channels: the k taps of each kernel row stacked into the channels
 * (X[b, h, w, (j, c)] = x[b, h, w + j, c]), then one matmul per kernel row i at offset i*Wo.
 */
function stackedRows(x: Array, w: Array, p: number, Ho: number, Wo: number): Array {
  const [n, H, , C] = x.shape as [number, number, number, number];
  const [O, , k] = w.shape as [number, number, number];
  const Hp = H + 2 * p;
  const xp = p > 0 ? np.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]) : x;
  const cols: Array[] = [];
  for (let j = 0; j < k; j++) cols.push(xp.ref.slice([], [], [j, j + Wo]));
  xp.dispose();
  const stacked = np.concatenate(cols, 3); // [n, Hp, Wo, k*C]
  const G = n * Hp * Wo;
  const R = roundUp(G, ROW_ALIGN);
  const X = rowsOf(stacked, k * C, R + (k - 1) * Wo);
  // Weights as [k (i), k (j), C, O] -> [k, k*C, O]: row i is a contiguous [k*C, O] block.
  const wt = weightsOf(w.transpose([2, 3, 1, 0]).reshape([k, k * C, O]));
  const taps: { mat: number; off: number; w: Array }[] = [];
  for (let i = 0; i < k; i++) taps.push({ mat: 0, off: i * Wo, w: wt.ref.slice(i) });
  wt.dispose();
  const y = tapSum([X], taps, R);
  return y.slice([0, G], [0, O]).reshape([n, Hp, Wo, O]).slice([], [0, Ho]);
}

/**
 * MaxPool2d(2): 2x2 windows, stride 2, a trailing odd row/column dropped. Consumes x. The max of
 * the four strided slices, taken pairwise in PyTorch's window order, so that a tie sends the
 * gradient to the first maximum, as PyTorch does.
 */
export function maxPool2(x: Array): Array {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const h2 = Math.floor(h / 2), w2 = Math.floor(w / 2);
  if (h2 * 2 !== h || w2 * 2 !== w) x = x.slice([], [], [0, h2 * 2], [0, w2 * 2]);
  const x6 = x.reshape([n, c, h2, 2, w2, 2]);
  const at = (a: number, b: number) => x6.ref.slice([], [], [], a, [], b);
  const top = np.maximum(at(0, 0), at(0, 1));
  const bottom = np.maximum(at(1, 0), at(1, 1));
  x6.dispose();
  return np.maximum(top, bottom);
}

/** Global average pooling (AdaptiveAvgPool2d(1) then flatten): [n, C, H, W] -> [n, C]. Consumes x. */
export function globalAvgPool(x: Array): Array {
  const [, , h, w] = x.shape as [number, number, number, number];
  return x.sum([2, 3]).div(h * w);
}
