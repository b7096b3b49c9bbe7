/**
 * Scratch study: formulations of conv2d from slices + one matmul, against lax.conv, at LeNet's
 * and ResNet-20's shapes: forward, and the vjp (dx, dw), jit and eager.
 *
 *   CURVLAB_THREADS=2 node --import tsx bench/scratch/conv-variants.ts [reps] [case-filter] [variant-filter]
 */
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np, lax, jit, vjp, type Array } from "../../src/engine/jax.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { median, timeDevice, sig, maxRelDiff } from "../lib/stats.ts";

const reps = Number(process.argv[2] ?? 3);
const caseFilter = process.argv[3] ?? "";
const varFilter = process.argv[4] ?? "";
await startEngine();
const rng = hostRng(1);
export const randn = (shape: number[]) => np.array(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal())).reshape(shape);

/** x[..., start + s*i, ...] for i < count along `axis` (a strided slice from reshape + slice). */
function strided(x: Array, axis: number, start: number, count: number, s: number): Array {
  if (s === 1) {
    const idx: ([number, number] | [])[] = x.shape.map(() => []);
    idx[axis] = [start, start + count];
    return x.slice(...idx);
  }
  // take [start, start + s*count), padding the end if needed, then reshape [count, s], take 0
  const n = x.shape[axis]!;
  const end = start + s * count;
  let y = x;
  if (end > n) {
    const pad = x.shape.map(() => [0, 0] as [number, number]);
    pad[axis] = [0, end - n];
    y = np.pad(y, pad);
  }
  const idx: ([number, number] | [])[] = y.shape.map(() => []);
  idx[axis] = [start, end];
  y = y.slice(...idx);
  const shape = [...y.shape];
  shape.splice(axis, 1, count, s);
  y = y.reshape(shape);
  const idx2: (number | [])[] = shape.map(() => []);
  idx2[axis + 1] = 0;
  return y.slice(...idx2);
}

function padHW(x: Array, p: number, hAxis: number): Array {
  if (p === 0) return x;
  const pad = x.shape.map(() => [0, 0] as [number, number]);
  pad[hAxis] = [p, p];
  pad[hAxis + 1] = [p, p];
  return np.pad(x, pad);
}

type Conv = (x: Array, w: Array, s: number, p: number) => Array;

/** Patches of x (spatial axes hAxis, hAxis+1), stacked at `at` -> [..., k*k (at), ...]. */
function patches(x: Array, k: number, s: number, p: number, hAxis: number, stackAxis: number): { P: Array; Ho: number; Wo: number } {
  const H = x.shape[hAxis]!, W = x.shape[hAxis + 1]!;
  const Ho = Math.floor((H + 2 * p - k) / s) + 1, Wo = Math.floor((W + 2 * p - k) / s) + 1;
  const xp = padHW(x, p, hAxis);
  const cols: Array[] = [];
  for (let i = 0; i < k; i++) {
    const rows = strided(xp.ref, hAxis, i, Ho, s);
    for (let j = 0; j < k; j++) cols.push(strided(rows.ref, hAxis + 1, j, Wo, s));
    rows.dispose();
  }
  xp.dispose();
  return { P: cols.length === 1 ? cols[0]!.reshape([...cols[0]!.shape.slice(0, stackAxis), 1, ...cols[0]!.shape.slice(stackAxis)]) : np.stack(cols, stackAxis), Ho, Wo };
}

/** Windows of x [A, B, H, W] (padded by p): [A, B, Ho, Wo, k, k], a view (lax.reduceWindow). */
function windows(x: Array, k: number, s: number, p: number): Array {
  return lax.reduceWindow(padHW(x, p, 2), (w: Array) => w, [k, k], [s, s]);
}
const copy = (x: Array) => x.mul(1);

export const variants: Record<string, Conv> = {
  // NHWC full grid, rows = positions: y[L, O] = sum_ij x_flat[off_ij : off_ij + L, :] @ W_ij^T (stride 1)
  shift: (x, w, s, p) => {
    if (s !== 1) throw new Error("stride 1 only");
    const [n, C] = x.shape as [number, number];
    const [O, , k] = w.shape as [number, number, number];
    const xp = padHW(x.transpose([0, 2, 3, 1]), p, 1);
    const [, H, W] = xp.shape as [number, number, number, number];
    const Ho = H - k + 1, Wo = W - k + 1;
    const T = n * H * W;
    const ROWS = Number(process.env.ROWS ?? 64);
    const L = Math.ceil(T / ROWS) * ROWS;
    const offMax = (k - 1) * W + (k - 1);
    const xf = np.pad(xp.reshape([T, C]), [[0, L + offMax - T], [0, 0]]).mul(1);
    const wt = w.transpose([2, 3, 0, 1]).mul(1); // [k, k, O, C] contiguous
    let y: Array | null = null;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
      const t = np.matmul(xf.ref.slice([i * W + j, i * W + j + L]), wt.ref.slice(i, j).transpose());
      y = y === null ? t : y.add(t);
    }
    xf.dispose(), wt.dispose();
    return y!.slice([0, T]).reshape([n, H, W, O]).slice([], [0, Ho], [0, Wo]).transpose([0, 3, 1, 2]);
  },
  // CNHW; Q = stack_j x[..., j:j+Wo] -> [C*k, n*H*Wo]; y = sum_i W_i @ Q[:, i*Wo : i*Wo + L] (stride 1)
  jstack: (x, w, s, p) => {
    if (s !== 1) throw new Error("stride 1 only");
    const [n, C] = x.shape as [number, number];
    const [O, , k] = w.shape as [number, number, number];
    const xp = padHW(x.transpose([1, 0, 2, 3]), p, 2);
    const [, , H, W] = xp.shape as [number, number, number, number];
    const Ho = H - k + 1, Wo = W - k + 1;
    const cols: Array[] = [];
    for (let j = 0; j < k; j++) cols.push(xp.ref.slice([], [], [], [j, j + Wo]));
    xp.dispose();
    const Q = (k === 1 ? cols[0]!.reshape([C, 1, n, H, Wo]) : np.stack(cols, 1)).reshape([C * k, n * H * Wo]);
    const L = n * H * Wo - (k - 1) * Wo;
    let y: Array | null = null;
    for (let i = 0; i < k; i++) {
      const Wi = w.ref.slice([], [], i).reshape([O, C * k]);
      const t = np.matmul(Wi, Q.ref.slice([], [i * Wo, i * Wo + L]));
      y = y === null ? t : y.add(t);
    }
    Q.dispose(), w.dispose();
    return np.pad(y!, [[0, 0], [0, (k - 1) * Wo]]).reshape([O, n, H, Wo]).slice([], [], [0, Ho]).transpose([1, 0, 2, 3]);
  },
  // CNHW full grid; y = sum_ij W_ij @ x_flat[:, iW+j : iW+j+L] (stride 1)
  k2mm: (x, w, s, p) => {
    if (s !== 1) throw new Error("stride 1 only");
    const [n, C] = x.shape as [number, number];
    const [O, , k] = w.shape as [number, number, number];
    const xp = padHW(x.transpose([1, 0, 2, 3]), p, 2);
    const [, , H, W] = xp.shape as [number, number, number, number];
    const Ho = H - k + 1, Wo = W - k + 1;
    const T = n * H * W;
    const L = T - (k - 1) * W - (k - 1);
    const xf = xp.reshape([C, T]);
    let y: Array | null = null;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
      const Wij = w.ref.slice([], [], i, j);
      const t = np.matmul(Wij, xf.ref.slice([], [i * W + j, i * W + j + L]));
      y = y === null ? t : y.add(t);
    }
    xf.dispose(), w.dispose();
    return np.pad(y!, [[0, 0], [0, T - L]]).reshape([O, n, H, W]).slice([], [], [0, Ho], [0, Wo]).transpose([1, 0, 2, 3]);
  },
  // [C, n, Ho, Wo, k, k] -> [C, k, k, n, Ho, Wo] copied -> [CKK, M]; W2 @ P -> [O, M] -> NCHW
  wincn: (x, w, s, p) => {
    const [n, C] = x.shape as [number, number];
    const [O, , k] = w.shape as [number, number, number];
    const win = windows(x.transpose([1, 0, 2, 3]), k, s, p);
    const [, , Ho, Wo] = win.shape as [number, number, number, number];
    const P = copy(win.transpose([0, 4, 5, 1, 2, 3])).reshape([C * k * k, n * Ho * Wo]);
    const y = np.matmul(w.reshape([O, C * k * k]), P);
    return y.reshape([O, n, Ho, Wo]).transpose([1, 0, 2, 3]);
  },
  // same, no explicit copy
  wincn0: (x, w, s, p) => {
    const [n, C] = x.shape as [number, number];
    const [O, , k] = w.shape as [number, number, number];
    const win = windows(x.transpose([1, 0, 2, 3]), k, s, p);
    const [, , Ho, Wo] = win.shape as [number, number, number, number];
    const P = win.transpose([0, 4, 5, 1, 2, 3]).reshape([C * k * k, n * Ho * Wo]);
    const y = np.matmul(w.reshape([O, C * k * k]), P);
    return y.reshape([O, n, Ho, Wo]).transpose([1, 0, 2, 3]);
  },
  // [n, C, Ho, Wo, k, k] -> [n, Ho, Wo, C, k, k] copied -> [M, CKK]; P @ W2^T -> [M, O] -> NCHW
  winhw: (x, w, s, p) => {
    const [n, C] = x.shape as [number, number];
    const [O, , k] = w.shape as [number, number, number];
    const win = windows(x, k, s, p);
    const [, , Ho, Wo] = win.shape as [number, number, number, number];
    const P = copy(win.transpose([0, 2, 3, 1, 4, 5])).reshape([n * Ho * Wo, C * k * k]);
    const y = np.matmul(P, w.reshape([O, C * k * k]).transpose());
    return y.reshape([n, Ho, Wo, O]).transpose([0, 3, 1, 2]);
  },
  lax: (x, w, s, p) => lax.conv(x, w, [s, s], p === 0 ? "VALID" : [[p, p], [p, p]]),
  // [n, C, kk, Ho, Wo] -> [n, CKK, HoWo]; W [O, CKK] @ P -> [n, O, HoWo]
  bmm: (x, w, s, p) => {
    const [n, C] = x.shape as [number, number];
    const [O, , k] = w.shape as [number, number, number];
    const { P, Ho, Wo } = patches(x, k, s, p, 2, 2);
    const y = np.matmul(w.reshape([O, C * k * k]), P.reshape([n, C * k * k, Ho * Wo]));
    return y.reshape([n, O, Ho, Wo]);
  },
  // CNHW: [C, kk, n, Ho, Wo] -> [CKK, nHoWo]; W @ P -> [O, n HoWo] -> NCHW
  cnhw: (x, w, s, p) => {
    const [n, C] = x.shape as [number, number];
    const [O, , k] = w.shape as [number, number, number];
    const { P, Ho, Wo } = patches(x.transpose([1, 0, 2, 3]), k, s, p, 2, 1);
    const y = np.matmul(w.reshape([O, C * k * k]), P.reshape([C * k * k, n * Ho * Wo]));
    return y.reshape([O, n, Ho, Wo]).transpose([1, 0, 2, 3]);
  },
  // NHWC: [n, Ho, Wo, kk, C] -> [nHoWo, kkC] @ W[kkC, O] -> [n, Ho, Wo, O] -> NCHW
  nhwc: (x, w, s, p) => {
    const [n, C] = x.shape as [number, number];
    const [O, , k] = w.shape as [number, number, number];
    const { P, Ho, Wo } = patches(x.transpose([0, 2, 3, 1]), k, s, p, 1, 3);
    const W2 = w.transpose([2, 3, 1, 0]).reshape([k * k * C, O]);
    const y = np.matmul(P.reshape([n * Ho * Wo, k * k * C]), W2);
    return y.reshape([n, Ho, Wo, O]).transpose([0, 3, 1, 2]);
  },
  // NHWC, W as [O, kkC] (y = P @ W^T, the Linear-layer orientation)
  nhwcT: (x, w, s, p) => {
    const [n, C] = x.shape as [number, number];
    const [O, , k] = w.shape as [number, number, number];
    const { P, Ho, Wo } = patches(x.transpose([0, 2, 3, 1]), k, s, p, 1, 3);
    const W2 = w.transpose([0, 2, 3, 1]).reshape([O, k * k * C]);
    const y = np.matmul(P.reshape([n * Ho * Wo, k * k * C]), W2.transpose());
    return y.reshape([n, Ho, Wo, O]).transpose([0, 3, 1, 2]);
  },
};

export const cases: [string, number[], number[], number, number][] = [
  ["lenet1", [1000, 1, 28, 28], [6, 1, 5, 5], 1, 0],
  ["lenet2", [1000, 6, 12, 12], [16, 6, 5, 5], 1, 0],
  ["rn16", [256, 16, 32, 32], [16, 16, 3, 3], 1, 1],
  ["rn32", [256, 32, 16, 16], [32, 32, 3, 3], 1, 1],
  ["rn64", [256, 64, 8, 8], [64, 64, 3, 3], 1, 1],
  ["rn16s2", [256, 16, 32, 32], [32, 16, 3, 3], 2, 1],
  ["rn3", [256, 3, 32, 32], [16, 3, 3, 3], 1, 1],
];

async function time(f: () => Array): Promise<number> {
  await timeDevice(f);
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) ts.push(await timeDevice(f));
  return median(ts);
}

for (const [name, xs, ws, s, p] of caseFilter === "__none__" ? [] : cases) {
  if (caseFilter && !name.startsWith(caseFilter)) continue;
  const x = randn(xs), w = randn(ws);
  const ref = await variants.lax!(x.ref, w.ref, s, p).data() as Float32Array;
  const k = ws[2]!;
  const Ho = Math.floor((xs[2]! + 2 * p - k) / s) + 1;
  const ct = randn([xs[0]!, ws[0]!, Ho, Ho]);
  const flops = 2 * xs[0]! * ws[0]! * Ho * Ho * ws[1]! * k * k;
  console.log(`== ${name} x[${xs}] w[${ws}] s${s} p${p}: ${sig(flops / 1e9)} GFLOP per pass`);
  for (const [vn, conv] of Object.entries(variants)) {
    if (varFilter && !varFilter.split(",").includes(vn)) continue;
    const got = await conv(x.ref, w.ref, s, p).data() as Float32Array;
    const fwd = jit((a: Array, b: Array) => conv(a, b, s, p));
    const bwd = jit((a: Array, b: Array, c: Array) => {
      const [y, back] = vjp((q: Array, r: Array) => conv(q, r, s, p), [a, b]);
      y.dispose();
      const [gx, gw] = back(c);
      back.dispose();
      return gx.sum().add(gw.sum());
    });
    const tf = await time(() => fwd(x.ref, w.ref));
    const te = await time(() => conv(x.ref, w.ref, s, p));
    const tb = vn === "lax" && name.startsWith("lenet2") ? NaN : await time(() => bwd(x.ref, w.ref, ct.ref));
    console.log(`${vn.padEnd(6)} fwd jit ${String(sig(tf)).padStart(7)} ms (${sig(flops / tf / 1e6)} GF/s)  eager ${String(sig(te)).padStart(7)} ms  vjp jit ${String(sig(tb)).padStart(7)} ms (${sig(2 * flops / tb / 1e6)} GF/s)  err ${sig(maxRelDiff(got, ref), 2)}`);
    fwd.dispose(), bwd.dispose();
  }
  x.dispose(), w.dispose(), ct.dispose();
}
if (caseFilter !== "__none__") process.exit(0);
