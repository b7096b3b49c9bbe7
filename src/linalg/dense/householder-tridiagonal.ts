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
 * Where WebAssembly SIMD exists, eigh uses this reduction only for small n (below 96) and the
 * blocked one (blocked-tridiagonal.ts) otherwise; this file stays the portable path, and formQ
 * here serves both.
 *
 * Cost: 4/3 n^3 flops, like dsytrd. Backward stable: the computed T is exactly orthogonally
 * similar to A + E with ||E||_2 <= c n eps ||A||_2 (Wilkinson; GVL section 8.3).
 *
 * The kernel `fusedRows` is self-contained (no references outside its body, no inner
 * functions) because worker threads compile it from its source text.
 */

import { ModeChooser, type Session, type TeamArg } from "./row-team.ts";

/** Tails of Householder columns below this max |entry| count as zero (see tridiagonalize). */
const NEGLIGIBLE = 2 ** -900;

/** Offset such that element (i, j), j >= i, of a packed upper n x n matrix is at base + j. */
export function rowBase(i: number, n: number): number {
  return i * n - (i * (i + 1)) / 2;
}

/**
 * Rows [r0, r1) of the fused pass of the step whose trailing block starts at row z0 <= r0.
 * P: packed upper matrix; X: for each index j, X[4j] = v_j, X[4j+1] = w_j (the pending update
 * A -= v w^T + w v^T), X[4j+2] = u_j (the new Householder vector), X[4j+3] = y_j, which
 * accumulates A u over the updated rows (both triangles). With `first` = 1 (a thread's first
 * chunk of the pass), y_j is zeroed for j >= z0 first and, when Xsrc is another array (a helper
 * thread's copy), v, w, u are copied from it. Writes only P rows r0..r1-1 and X.
 */
export function fusedRows(P: Float64Array, X: Float64Array, Xsrc: Float64Array, n: number, z0: number, r0: number, r1: number, first: number): void {
  if (first && Xsrc !== X) {
    for (let j = z0; j < n; j++) {
      const x = 4 * j;
      X[x] = Xsrc[x]; X[x + 1] = Xsrc[x + 1]; X[x + 2] = Xsrc[x + 2]; X[x + 3] = 0;
    }
  } else if (first) {
    for (let j = z0; j < n; j++) X[4 * j + 3] = 0;
  }
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
 * Splits the rows [r0, n) of the trailing block into `parts` consecutive ranges with about equal
 * numbers of packed entries (row i holds n - i), in multiples of 4 rows where possible; returns
 * the parts + 1 boundaries.
 */
export function splitRows(r0: number, n: number, parts: number): number[] {
  const bounds = [r0];
  const m = n - r0;
  let prev = r0;
  for (let t = 1; t < parts; t++) {
    // Rows [r, n) hold (n-r)(n-r+1)/2 entries; choose r so that they are a fraction 1 - t/parts.
    const rest = (m * (m + 1) * (1 - t / parts)) / 2;
    const tail = Math.floor((-1 + Math.sqrt(1 + 8 * rest)) / 2);
    let r = n - tail;
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
  /**
   * Runs the fused pass over rows [r0, n), reading v, w, u from X[0]; returns, once all are
   * done, which X[t] hold a part of y (X[0] always does).
   */
  pass(r0: number): readonly boolean[];
}

/** The single-threaded runner. */
export function serialRunner(P: Float64Array, n: number): PassRunner {
  const X = [new Float64Array(4 * n)];
  const parts = [true];
  return {
    X,
    pass(r0) {
      fusedRows(P, X[0], X[0], n, r0, r0, n, 1);
      return parts;
    },
  };
}

/** Below this many trailing rows a pass runs on the calling thread alone (waking helpers costs more). */
const MIN_ROWS_PER_TEAM_PASS = 192;
/** Chunks per thread and pass (dynamic scheduling: more chunks, better balance, more claims). */
const CHUNKS_PER_THREAD = 4;

/**
 * A runner that splits every pass across the caller and the helpers of `session`, whose helper h
 * holds the arrays [P, X[h + 1], X[0]] (all on SharedArrayBuffers) and runs `fusedRows` as kernel
 * number `kernel`. Small passes, and all passes when the team measures slower than the caller
 * alone (see ModeChooser), run on the calling thread.
 */
export function teamPassRunner(P: Float64Array, n: number, X: readonly Float64Array[], session: Session, kernel: number): PassRunner {
  const threads = X.length;
  const X0 = X[0];
  const args: TeamArg[][] = [];
  for (let h = 1; h < threads; h++) args.push([{ array: 0 }, { array: 1 }, { array: 2 }, n, 0]);
  const alone = [true, ...new Array<boolean>(threads - 1).fill(false)];
  const chooser = new ModeChooser();
  return {
    X,
    pass(r0) {
      const m = n - r0;
      const team = m >= MIN_ROWS_PER_TEAM_PASS && chooser.useTeam();
      const t0 = performance.now();
      if (!team) {
        fusedRows(P, X0, X0, n, r0, r0, n, 1);
        if (m >= MIN_ROWS_PER_TEAM_PASS) chooser.record(false, performance.now() - t0, (m * (m + 1)) / 2);
        return alone;
      }
      for (let j = r0; j < n; j++) X0[4 * j + 3] = 0;
      for (const a of args) a[4] = r0;
      const chunks = Math.min(threads * CHUNKS_PER_THREAD, Math.floor(m / 8));
      const b = splitRows(r0, n, chunks);
      const took = session.run(kernel, args, b, chunks, (c0, c1) => fusedRows(P, X0, X0, n, r0, c0, c1, 0));
      chooser.record(true, performance.now() - t0, (m * (m + 1)) / 2);
      return [true, ...took];
    },
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
    if (amax < NEGLIGIBLE) {
      // x is (numerically) a multiple of e_1: H = I, but the pass still applies the pending
      // update. Entries below 2^-900 are dropped: eigh scales A so that max |a_ij| >= 2^-484, so
      // this perturbs A by far less than the backward error, and it keeps 1 / (alpha - beta) finite.
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
    e[k] = beta;
    tau[k] = t;
    const parts = runner.pass(k + 1);
    // p = tau (y_0 + y_1 + ...), w = p - (tau/2)(p . u) u  (dsytd2).
    for (let c = 1; c < parts.length; c++) {
      if (!parts[c]) continue;
      const Xc = Xs[c];
      for (let j = k + 1; j < n; j++) X[4 * j + 3] += Xc[4 * j + 3];
    }
    let dot = 0;
    for (let j = k + 1; j < n; j++) {
      const y = X[4 * j + 3];
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
  }
  return { d, e, tau };
}

/**
 * z[j] = sum over rows r in [r0, r1) of u_r Q[r][j], for j in (c, n), where u_r = P[ok + r] is the
 * reflector stored in packed row k = c - 1 (with `first` = 1, z is zeroed there first). Four rows
 * per sweep of z.
 * Self-contained (worker threads compile it from its source text).
 */
export function formQAccumulate(P: Float64Array, Q: Float64Array, z: Float64Array, n: number, ok: number, c: number, r0: number, r1: number, first: number): void {
  if (first) for (let j = c + 1; j < n; j++) z[j] = 0;
  let r = r0;
  for (; r + 4 <= r1; r += 4) {
    const u0 = P[ok + r], u1 = P[ok + r + 1], u2 = P[ok + r + 2], u3 = P[ok + r + 3];
    const o0 = r * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
    for (let j = c + 1; j < n; j++) z[j] += (u0 * Q[o0 + j] + u1 * Q[o1 + j]) + (u2 * Q[o2 + j] + u3 * Q[o3 + j]);
  }
  for (; r < r1; r++) {
    const u = P[ok + r];
    const o = r * n;
    for (let j = c + 1; j < n; j++) z[j] += u * Q[o + j];
  }
}

/**
 * Rows [r0, r1) of Q_b -= tau u z^T for the reflector in packed row k = c - 1: Q[r][c] = -tau u_r
 * (column c was e_c) and Q[r][j] -= tau u_r z_j for j > c. Self-contained.
 */
export function formQUpdate(P: Float64Array, Q: Float64Array, z: Float64Array, n: number, ok: number, c: number, t: number, r0: number, r1: number, _first?: number): void {
  let r = r0;
  for (; r + 4 <= r1; r += 4) {
    const a0 = t * P[ok + r], a1 = t * P[ok + r + 1], a2 = t * P[ok + r + 2], a3 = t * P[ok + r + 3];
    const o0 = r * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
    Q[o0 + c] = -a0; Q[o1 + c] = -a1; Q[o2 + c] = -a2; Q[o3 + c] = -a3;
    for (let j = c + 1; j < n; j++) {
      const zj = z[j];
      const q0 = Q[o0 + j], q1 = Q[o1 + j], q2 = Q[o2 + j], q3 = Q[o3 + j];
      Q[o0 + j] = q0 - a0 * zj; Q[o1 + j] = q1 - a1 * zj; Q[o2 + j] = q2 - a2 * zj; Q[o3 + j] = q3 - a3 * zj;
    }
  }
  for (; r < r1; r++) {
    const a = t * P[ok + r];
    const o = r * n;
    Q[o + c] = -a;
    for (let j = c + 1; j < n; j++) Q[o + j] -= a * z[j];
  }
}

/**
 * Helpers for formQ: `session` helper h holds [P, Q, z[h + 1], z[0]] and runs formQAccumulate
 * and formQUpdate as kernels number `accumulate` and `update`.
 */
export interface FormQTeam {
  readonly session: Session;
  /** One z per thread (z[0] for the caller), each n long, on SharedArrayBuffers. */
  readonly z: readonly Float64Array[];
  readonly accumulate: number;
  readonly update: number;
}

/**
 * Forms Q = H_0 H_1 ... H_{n-3} (LAPACK dorgtr, backward accumulation) from the reflectors that
 * `tridiagonalize` left in P, into Q (row-major n x n, overwritten), so that A = Q T Q^T.
 * Each reflector costs two passes over the trailing block of Q: z = u^T Q_b, then
 * Q_b -= tau u z^T; with a team both are split by rows (when that measures faster). 4/3 n^3 flops.
 */
export function formQ(P: Float64Array, tau: Float64Array, n: number, Q: Float64Array, team?: FormQTeam): Float64Array {
  Q.fill(0, 0, n * n);
  for (let i = 0; i < n; i++) Q[i * n + i] = 1;
  const threads = team ? team.z.length : 1;
  const z = team ? team.z[0] : new Float64Array(n);
  const chooser = new ModeChooser();
  const accArgs: TeamArg[][] = [];
  const updArgs: TeamArg[][] = [];
  for (let h = 1; h < threads; h++) {
    accArgs.push([{ array: 0 }, { array: 1 }, { array: 2 }, n, 0, 0]);
    updArgs.push([{ array: 0 }, { array: 1 }, { array: 3 }, n, 0, 0, 0]);
  }
  for (let k = n - 3; k >= 0; k--) {
    const t = tau[k];
    if (t === 0) continue; // H_k = I; row and column k+1 of Q are still e_{k+1}
    const ok = rowBase(k, n);
    const c = k + 1; // first row/column of the block; Q[c][.] = e_c and Q[.][c] = e_c before H_k
    const rows = n - c - 1; // rows c+1..n-1 carry u_r (u_c = 1 is handled through row c below)
    const big = team !== undefined && rows >= MIN_ROWS_PER_TEAM_PASS;
    const useTeam = big && chooser.useTeam();
    const t0 = performance.now();
    if (team && useTeam) {
      const chunks = Math.min(threads * CHUNKS_PER_THREAD, Math.floor(rows / 8));
      const b: number[] = [];
      for (let h = 0; h <= chunks; h++) b.push(c + 1 + Math.round((rows * h) / chunks));
      for (const a of accArgs) { a[4] = ok; a[5] = c; }
      for (const a of updArgs) { a[4] = ok; a[5] = c; a[6] = t; }
      for (let j = c + 1; j < n; j++) z[j] = 0;
      const took = team.session.run(team.accumulate, accArgs, b, chunks, (r0, r1) => formQAccumulate(P, Q, z, n, ok, c, r0, r1, 0));
      for (let h = 1; h < threads; h++) {
        if (!took[h - 1]) continue;
        const zh = team.z[h];
        for (let j = c + 1; j < n; j++) z[j] += zh[j];
      }
      setRowC(Q, z, n, c, t);
      team.session.run(team.update, updArgs, b, chunks, (r0, r1) => formQUpdate(P, Q, z, n, ok, c, t, r0, r1));
    } else {
      formQAccumulate(P, Q, z, n, ok, c, c + 1, n, 1);
      setRowC(Q, z, n, c, t);
      formQUpdate(P, Q, z, n, ok, c, t, c + 1, n);
    }
    if (big) chooser.record(useTeam, performance.now() - t0, rows * (n - c));
  }
  return Q;
}

/** Row c of H_k Q_b: Q[c][c] = 1 - tau, Q[c][j] = -tau z_j (u_c = 1, and Q_b's row c was e_c). */
function setRowC(Q: Float64Array, z: Float64Array, n: number, c: number, t: number): void {
  const oc = c * n;
  Q[oc + c] = 1 - t;
  for (let j = c + 1; j < n; j++) Q[oc + j] = -t * z[j];
}
