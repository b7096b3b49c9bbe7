/**
 * Householder reduction of a dense symmetric matrix to tridiagonal form, T = Q^T A Q
 * (Golub & Van Loan, "Matrix Computations", 4th ed., Alg. 8.3.1; LAPACK dsytd2 / dorgtr).
 *
 * Storage: the working matrix is the upper triangle packed row by row ("packed upper"), so the
 * trailing block of every step is one contiguous tail of the array. Element (i, j), j >= i, lives
 * at `rowBase(i, n) + j`.
 *
 * Method: step k takes the Householder vector u_k from row k of the trailing block and needs
 * p = tau A u_k and the symmetric rank-2 update A -= v w^T + w v^T. Instead of LAPACK's blocked
 * dsytrd (a panel of BLAS-2 symv plus a BLAS-3 syr2k), which pays off only with a fast matmul,
 * each step makes ONE fused pass over the trailing triangle: it applies the pending rank-2
 * update of step k-1 and, with the fresh values still in registers, accumulates A u_k (both
 * halves of the symmetric product from the one stored triangle). The pass streams the triangle
 * once per step, processing four rows at a time so that each loaded v_j, w_j, u_j, y_j serves
 * four matrix entries; in JavaScript every typed-array access costs a bounds check, so fewer
 * accesses per flop is what makes this fast. The pass can be split by rows across worker
 * threads (see row-team.ts); each thread then accumulates its own copy of y.
 *
 * Cost: 4/3 n^3 flops, like dsytrd. Backward stable: the computed T is exactly orthogonally
 * similar to A + E with ||E||_2 <= c n eps ||A||_2 (Wilkinson; GVL section 8.3).
 *
 * The kernel `fusedRows` is self-contained (no references outside its body, no inner
 * functions) because worker threads compile it from its source text.
 */

import { openSession, sharedFloat64 } from "./row-team.ts";

/** Offset such that element (i, j), j >= i, of a packed upper n x n matrix is at base + j. */
export function rowBase(i: number, n: number): number {
  return i * n - (i * (i + 1)) / 2;
}

/**
 * Rows [r0, r1) of the fused pass. P: packed upper matrix; X: for each index j,
 * X[4j] = v_j, X[4j+1] = w_j (the pending update A -= v w^T + w v^T), X[4j+2] = u_j (the new
 * Householder vector), X[4j+3] = y_j (accumulates A u over the updated rows, both triangles).
 * Reads and writes only P rows r0..r1-1 and y.
 */
export function fusedRows(P: Float64Array, X: Float64Array, n: number, r0: number, r1: number): void {
  let i = r0;
  for (; i + 4 <= r1; i += 4) {
    // Row bases of rows i..i+3: rowBase(i+1) = rowBase(i) + n - i - 1.
    const o0 = i * n - (i * (i + 1)) / 2;
    const o1 = o0 + n - i - 1;
    const o2 = o1 + n - i - 2;
    const o3 = o2 + n - i - 3;
    const q = 4 * i;
    const v0 = X[q], w0 = X[q + 1], u0 = X[q + 2];
    const v1 = X[q + 4], w1 = X[q + 5], u1 = X[q + 6];
    const v2 = X[q + 8], w2 = X[q + 9], u2 = X[q + 10];
    const v3 = X[q + 12], w3 = X[q + 13], u3 = X[q + 14];
    // The 4 x 4 upper corner (diagonal and the entries among the four rows).
    const d0 = P[o0 + i] - 2 * v0 * w0;
    const d1 = P[o1 + i + 1] - 2 * v1 * w1;
    const d2 = P[o2 + i + 2] - 2 * v2 * w2;
    const d3 = P[o3 + i + 3] - 2 * v3 * w3;
    const c01 = P[o0 + i + 1] - v0 * w1 - w0 * v1;
    const c02 = P[o0 + i + 2] - v0 * w2 - w0 * v2;
    const c03 = P[o0 + i + 3] - v0 * w3 - w0 * v3;
    const c12 = P[o1 + i + 2] - v1 * w2 - w1 * v2;
    const c13 = P[o1 + i + 3] - v1 * w3 - w1 * v3;
    const c23 = P[o2 + i + 3] - v2 * w3 - w2 * v3;
    P[o0 + i] = d0; P[o1 + i + 1] = d1; P[o2 + i + 2] = d2; P[o3 + i + 3] = d3;
    P[o0 + i + 1] = c01; P[o0 + i + 2] = c02; P[o0 + i + 3] = c03;
    P[o1 + i + 2] = c12; P[o1 + i + 3] = c13; P[o2 + i + 3] = c23;
    let s0 = d0 * u0 + c01 * u1 + c02 * u2 + c03 * u3;
    let s1 = c01 * u0 + d1 * u1 + c12 * u2 + c13 * u3;
    let s2 = c02 * u0 + c12 * u1 + d2 * u2 + c23 * u3;
    let s3 = c03 * u0 + c13 * u1 + c23 * u2 + d3 * u3;
    // Columns beyond the corner: all loads first, then the stores, so that V8 checks each
    // array once per iteration.
    for (let j = i + 4; j < n; j++) {
      const x = 4 * j;
      const vj = X[x], wj = X[x + 1], uj = X[x + 2], yj = X[x + 3];
      const b0 = P[o0 + j] - v0 * wj - w0 * vj;
      const b1 = P[o1 + j] - v1 * wj - w1 * vj;
      const b2 = P[o2 + j] - v2 * wj - w2 * vj;
      const b3 = P[o3 + j] - v3 * wj - w3 * vj;
      s0 += b0 * uj; s1 += b1 * uj; s2 += b2 * uj; s3 += b3 * uj;
      X[x + 3] = yj + ((b0 * u0 + b1 * u1) + (b2 * u2 + b3 * u3));
      P[o0 + j] = b0; P[o1 + j] = b1; P[o2 + j] = b2; P[o3 + j] = b3;
    }
    X[q + 3] += s0; X[q + 7] += s1; X[q + 11] += s2; X[q + 15] += s3;
  }
  for (; i < r1; i++) {
    const o = i * n - (i * (i + 1)) / 2;
    const q = 4 * i;
    const vi = X[q], wi = X[q + 1], ui = X[q + 2];
    const d = P[o + i] - 2 * vi * wi;
    P[o + i] = d;
    let s = d * ui;
    for (let j = i + 1; j < n; j++) {
      const x = 4 * j;
      const vj = X[x], wj = X[x + 1], uj = X[x + 2], yj = X[x + 3];
      const b = P[o + j] - vi * wj - wi * vj;
      s += b * uj;
      X[x + 3] = yj + b * ui;
      P[o + j] = b;
    }
    X[q + 3] += s;
  }
}

/** Result of the reduction: T = tridiag(e, d, e), and the reflectors when asked for. */
export interface Tridiagonal {
  /** Diagonal of T, length n. */
  readonly d: Float64Array;
  /** Off-diagonal of T, length max(n - 1, 0). */
  readonly e: Float64Array;
  /** Householder scalars tau_k, k = 0..n-3 (H_k = I - tau_k u_k u_k^T). */
  readonly tau: Float64Array;
}

/**
 * Splits the rows [r0, n) of the trailing block for `parts` threads into consecutive ranges with
 * about equal numbers of packed entries; returns the parts + 1 boundaries.
 */
export function splitRows(r0: number, n: number, parts: number): number[] {
  const bounds = [r0];
  const m = n - r0;
  let prev = r0;
  for (let t = 1; t < parts; t++) {
    // Rows [r0, r) hold m(m+1)/2 - (n-r)(n-r+1)/2 entries; solve for the fraction t/parts.
    const rest = (m * (m + 1) * (1 - t / parts)) / 2;
    const tail = Math.floor((-1 + Math.sqrt(1 + 8 * rest)) / 2);
    let r = n - tail;
    // Multiples of 4 rows keep the 4-row kernel busy; never go backwards.
    r = Math.max(prev, Math.min(n, r0 + Math.round((r - r0) / 4) * 4));
    bounds.push(r);
    prev = r;
  }
  bounds.push(n);
  return bounds;
}

/** How the fused pass of each step is executed (serially, or split across threads). */
export interface PassRunner {
  /** Vector blocks, one per thread (thread 0 is the calling thread); each 4n long. */
  readonly X: readonly Float64Array[];
  /** Runs the fused pass over rows [r0, n), thread t on X[t]; returns when all are done. */
  pass(r0: number): void;
}

/** The single-threaded runner. */
export function serialRunner(P: Float64Array, n: number): PassRunner {
  const X = [new Float64Array(4 * n)];
  return { X, pass: (r0) => fusedRows(P, X[0], n, r0, n) };
}

/** Below this many trailing rows a pass runs on the calling thread alone (waking helpers costs more). */
const MIN_ROWS_PER_TEAM_PASS = 160;

/**
 * A runner that splits every pass across `threads` threads (the caller and threads - 1 helpers).
 * P must live on a SharedArrayBuffer. Returns null where helper threads are unavailable. Call
 * `close` when done.
 */
export function teamRunner(P: Float64Array, n: number, threads: number): (PassRunner & { close(): void }) | null {
  if (threads < 2 || !(P.buffer instanceof SharedArrayBuffer)) return null;
  const X: Float64Array[] = [];
  for (let t = 0; t < threads; t++) X.push(sharedFloat64(4 * n));
  const session = openSession("householder-tridiagonal", [fusedRows], X.slice(1).map((x) => [P, x]));
  if (!session) return null;
  const X0 = X[0];
  return {
    X,
    pass(r0) {
      if (n - r0 < MIN_ROWS_PER_TEAM_PASS) {
        fusedRows(P, X0, n, r0, n);
        return;
      }
      const b = splitRows(r0, n, threads);
      const args: number[][] = [];
      for (let h = 1; h < threads; h++) args.push([n, b[h], b[h + 1]]);
      session.run(0, args, () => fusedRows(P, X0, n, b[0], b[1]));
    },
    close: () => session.close(),
  };
}

/**
 * Reduces the packed upper matrix P (overwritten) to tridiagonal form. Row k of P keeps the
 * tail u_k[k+2..n-1] of the k-th Householder vector (u_k[k+1] = 1) for formQ.
 * P must already be scaled into a safe range (see eigh.ts).
 */
export function tridiagonalize(P: Float64Array, n: number, runner: PassRunner = serialRunner(P, n)): Tridiagonal {
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(n - 1, 0));
  const tau = new Float64Array(Math.max(n - 2, 0));
  const Xs = runner.X;
  const X = Xs[0];
  const threads = Xs.length;
  for (let k = 0; k < n; k++) {
    const ok = rowBase(k, n);
    // The pending update of step k-1 reaches row k only now (the pass of step k-1 covered rows > k-1
    // and was itself applying step k-2's update).
    {
      const vk = X[4 * k], wk = X[4 * k + 1];
      for (let j = k; j < n; j++) P[ok + j] -= vk * X[4 * j + 1] + wk * X[4 * j];
    }
    d[k] = P[ok + k];
    if (k === n - 1) break;
    if (k === n - 2) {
      e[k] = P[ok + k + 1];
      continue; // row n-1 still gets the pending update at k = n-1
    }
    // Householder vector for x = P[k, k+1..n-1] (LAPACK dlarfg): H x = beta e_1.
    const alpha = P[ok + k + 1];
    let amax = 0;
    for (let j = k + 2; j < n; j++) {
      const a = Math.abs(P[ok + j]);
      if (a > amax) amax = a;
    }
    let t = 0;
    let beta = alpha;
    for (let c = 0; c < threads; c++) {
      const Xc = Xs[c];
      for (let j = k + 1; j < n; j++) Xc[4 * j + 3] = 0;
    }
    if (amax === 0) {
      // x is already a multiple of e_1: H = I, but the pass still applies the pending update.
      for (let j = k + 1; j < n; j++) X[4 * j + 2] = 0;
    } else {
      const inv = 1 / amax;
      let ss = 0;
      for (let j = k + 2; j < n; j++) {
        const a = P[ok + j] * inv;
        ss += a * a;
      }
      const a0 = alpha * inv;
      const norm = amax * Math.sqrt(a0 * a0 + ss); // |x|, scaled so the squares cannot overflow
      beta = alpha <= 0 ? norm : -norm;
      t = (beta - alpha) / beta;
      const sc = 1 / (alpha - beta);
      X[4 * (k + 1) + 2] = 1;
      for (let j = k + 2; j < n; j++) {
        const uj = P[ok + j] * sc;
        X[4 * j + 2] = uj;
        P[ok + j] = uj; // keep the reflector for formQ; row k is finished
      }
    }
    for (let c = 1; c < threads; c++) {
      const Xc = Xs[c];
      for (let j = k + 1; j < n; j++) Xc[4 * j + 2] = X[4 * j + 2];
    }
    e[k] = beta;
    tau[k] = t;
    runner.pass(k + 1);
    // p = tau (y_0 + y_1 + ...), w = p - (tau/2)(p . u) u  (dsytd2).
    let dot = 0;
    for (let j = k + 1; j < n; j++) {
      let y = X[4 * j + 3];
      for (let c = 1; c < threads; c++) y += Xs[c][4 * j + 3];
      const p = t * y;
      X[4 * j + 3] = p;
      dot += p * X[4 * j + 2];
    }
    const h = -0.5 * t * dot;
    for (let j = k + 1; j < n; j++) {
      const u = X[4 * j + 2];
      X[4 * j] = u;
      X[4 * j + 1] = X[4 * j + 3] + h * u;
    }
    for (let c = 1; c < threads; c++) {
      const Xc = Xs[c];
      for (let j = k + 1; j < n; j++) {
        Xc[4 * j] = X[4 * j];
        Xc[4 * j + 1] = X[4 * j + 1];
      }
    }
  }
  return { d, e, tau };
}
