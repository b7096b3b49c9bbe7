/**
 * Eigenvalues (and eigenvectors) of a symmetric tridiagonal matrix T = tridiag(e, d, e) by the
 * implicit QL / QR algorithm with Wilkinson-type shifts, ported from LAPACK:
 *
 * - `tridiagonalEigenvalues`: dsterf, the square-root-free variant of Pal, Walker and Kahan
 *   (B. N. Parlett, "The Symmetric Eigenvalue Problem", section 8.15). It works on e_i^2 and
 *   needs no square roots in the inner loop; O(n^2) flops, about 30 n^2 in practice.
 * - `tridiagonalEigen`: dsteqr, implicit QL/QR with Givens rotations that are also applied to
 *   the columns of a given orthogonal matrix Z (so Z -> Z Q_T). With Z = the Householder Q of the
 *   reduction, its columns end up as the eigenvectors of the original matrix. About 3 n^2
 *   rotations, each applied to n rows: 6 n^3 flops on top of the reduction.
 *
 * Both split the matrix where an off-diagonal is negligible (|e_i| <= eps sqrt|d_i| sqrt|d_i+1|),
 * choose QL or QR per block by which end has the larger diagonal entry (so the iteration chases
 * the bulge towards the small end, as LAPACK does, which keeps graded matrices accurate), and
 * scale each block into a safe range. Eigenvalues are accurate to O(eps ||T||) absolutely.
 * Both throw after 30 n iterations without convergence (LAPACK's limit; never seen in practice).
 *
 * Indices are 0-based here; comments cite the LAPACK labels where it helps to compare.
 */

const EPS = 2 ** -53; // LAPACK dlamch('E'): relative rounding unit
const EPS2 = EPS * EPS;
const SAFMIN = 2 ** -1022; // dlamch('S')
const SAFMAX = 1 / SAFMIN;
const SSFMAX = Math.sqrt(SAFMAX) / 3;
const SSFMIN = Math.sqrt(SAFMIN) / EPS2;
const RTMIN = Math.sqrt(SAFMIN);
const RTMAX = Math.sqrt(SAFMAX / 2);
const MAXIT = 30;

/** Max |entry| of the block d[l..lend], e[l..lend-1] (dlanst 'M'). */
function blockNorm(d: Float64Array, e: Float64Array, l: number, lend: number): number {
  let a = 0;
  for (let i = l; i <= lend; i++) a = Math.max(a, Math.abs(d[i]));
  for (let i = l; i < lend; i++) a = Math.max(a, Math.abs(e[i]));
  return a;
}

function scale(x: Float64Array, from: number, to: number, f: number): void {
  for (let i = from; i < to; i++) x[i] *= f;
}

/**
 * The end m of the unreduced block that starts at l1 (label 10 of dsterf and dsteqr): the first
 * m with |e_m| <= eps sqrt|d_m| sqrt|d_m+1| (set to 0 there), or n - 1. Also zeroes e[l1 - 1],
 * the split that ended the previous block.
 */
function blockEnd(d: Float64Array, e: Float64Array, l1: number): number {
  const n = d.length;
  if (l1 > 0) e[l1 - 1] = 0;
  let m = l1;
  for (; m < n - 1; m++) {
    const tst = Math.abs(e[m]);
    if (tst === 0) break;
    if (tst <= Math.sqrt(Math.abs(d[m])) * Math.sqrt(Math.abs(d[m + 1])) * EPS) {
      e[m] = 0;
      break;
    }
  }
  return m;
}

/**
 * Scales the block d[l..lend], e[l..lend-1] into [SSFMIN, SSFMAX] when its largest entry anorm
 * is outside (iscale 1: scaled down, 2: scaled up, 0: not scaled); anorm 0: nothing to do.
 */
function scaleBlock(d: Float64Array, e: Float64Array, l: number, lend: number): { anorm: number; iscale: number } {
  const anorm = blockNorm(d, e, l, lend);
  if (anorm === 0) return { anorm, iscale: 0 };
  if (anorm > SSFMAX) {
    scale(d, l, lend + 1, SSFMAX / anorm);
    scale(e, l, lend, SSFMAX / anorm);
    return { anorm, iscale: 1 };
  }
  if (anorm < SSFMIN) {
    scale(d, l, lend + 1, SSFMIN / anorm);
    scale(e, l, lend, SSFMIN / anorm);
    return { anorm, iscale: 2 };
  }
  return { anorm, iscale: 0 };
}

/** Undoes scaleBlock on x[from..to). */
function unscale(x: Float64Array, from: number, to: number, anorm: number, iscale: number): void {
  if (iscale === 1) scale(x, from, to, anorm / SSFMAX);
  else if (iscale === 2) scale(x, from, to, anorm / SSFMIN);
}

/** Eigenvalues of [[a, b], [b, c]]: rt1 has the larger absolute value (dlae2). */
function lae2(a: number, b: number, c: number): [number, number] {
  const sm = a + c;
  const adf = Math.abs(a - c);
  const ab = Math.abs(b + b);
  const [acmx, acmn] = Math.abs(a) > Math.abs(c) ? [a, c] : [c, a];
  const rt = adf > ab ? adf * Math.sqrt(1 + (ab / adf) ** 2) : adf < ab ? ab * Math.sqrt(1 + (adf / ab) ** 2) : ab * Math.SQRT2;
  if (sm < 0) {
    const rt1 = 0.5 * (sm - rt);
    return [rt1, (acmx / rt1) * acmn - (b / rt1) * b];
  }
  if (sm > 0) {
    const rt1 = 0.5 * (sm + rt);
    return [rt1, (acmx / rt1) * acmn - (b / rt1) * b];
  }
  return [0.5 * rt, -0.5 * rt];
}

/**
 * Eigen-decomposition of [[a, b], [b, c]] (dlaev2): rt1 (larger |.|), rt2, and (cs, sn), the unit
 * eigenvector of rt1, so that [cs sn; -sn cs] [[a, b], [b, c]] [cs -sn; sn cs] = diag(rt1, rt2).
 */
function laev2(a: number, b: number, c: number): [number, number, number, number] {
  const sm = a + c;
  const df = a - c;
  const adf = Math.abs(df);
  const tb = b + b;
  const ab = Math.abs(tb);
  const [acmx, acmn] = Math.abs(a) > Math.abs(c) ? [a, c] : [c, a];
  const rt = adf > ab ? adf * Math.sqrt(1 + (ab / adf) ** 2) : adf < ab ? ab * Math.sqrt(1 + (adf / ab) ** 2) : ab * Math.SQRT2;
  let rt1: number, rt2: number, sgn1: number;
  if (sm < 0) {
    rt1 = 0.5 * (sm - rt);
    sgn1 = -1;
    rt2 = (acmx / rt1) * acmn - (b / rt1) * b;
  } else if (sm > 0) {
    rt1 = 0.5 * (sm + rt);
    sgn1 = 1;
    rt2 = (acmx / rt1) * acmn - (b / rt1) * b;
  } else {
    rt1 = 0.5 * rt;
    rt2 = -0.5 * rt;
    sgn1 = 1;
  }
  let cs: number, sgn2: number;
  if (df >= 0) {
    cs = df + rt;
    sgn2 = 1;
  } else {
    cs = df - rt;
    sgn2 = -1;
  }
  let cs1: number, sn1: number;
  if (Math.abs(cs) > ab) {
    const ct = -tb / cs;
    sn1 = 1 / Math.sqrt(1 + ct * ct);
    cs1 = ct * sn1;
  } else if (ab === 0) {
    cs1 = 1;
    sn1 = 0;
  } else {
    const tn = -cs / tb;
    cs1 = 1 / Math.sqrt(1 + tn * tn);
    sn1 = tn * cs1;
  }
  if (sgn1 === sgn2) {
    const tn = cs1;
    cs1 = -sn1;
    sn1 = tn;
  }
  return [rt1, rt2, cs1, sn1];
}

/** (c, s, r) of the last `givens` call: one buffer, so the QL/QR inner loops allocate nothing. */
const GIVENS = new Float64Array(3);

/**
 * The plane rotation that zeroes f against g (LAPACK dlartg, 3.10): c g + s f = r and
 * -s g + c f = 0 with c >= 0 and r carrying the sign of g; scaled where g or f is outside
 * [sqrt(safmin), sqrt(safmax / 2)] so that nothing overflows or underflows. Writes (c, s, r)
 * into GIVENS.
 */
function givens(g: number, f: number): void {
  if (f === 0) {
    GIVENS[0] = 1;
    GIVENS[1] = 0;
    GIVENS[2] = g;
  } else if (g === 0) {
    GIVENS[0] = 0;
    GIVENS[1] = f > 0 ? 1 : -1;
    GIVENS[2] = Math.abs(f);
  } else {
    const g1 = Math.abs(g), f1 = Math.abs(f);
    if (g1 > RTMIN && g1 < RTMAX && f1 > RTMIN && f1 < RTMAX) {
      const dd = Math.sqrt(g * g + f * f);
      const r = g > 0 ? dd : -dd;
      GIVENS[0] = g1 / dd;
      GIVENS[1] = f / r;
      GIVENS[2] = r;
    } else {
      const u = Math.min(SAFMAX, Math.max(SAFMIN, g1, f1));
      const gs = g / u, fs = f / u;
      const dd = Math.sqrt(gs * gs + fs * fs);
      const r = gs > 0 ? dd : -dd;
      GIVENS[0] = Math.abs(gs) / dd;
      GIVENS[1] = fs / r;
      GIVENS[2] = r * u;
    }
  }
}

/** |r| with the sign of x (Fortran SIGN(r, x); -0 counts as positive). */
function withSign(r: number, x: number): number {
  return x >= 0 ? Math.abs(r) : -Math.abs(r);
}

function sortAscending(d: Float64Array): void {
  d.sort(); // typed-array sort is numeric
}

function convergenceError(e: Float64Array): Error {
  let left = 0;
  for (let i = 0; i < e.length; i++) if (e[i] !== 0) left++;
  return new Error(`tridiagonal eigensolver: no convergence after ${MAXIT} n iterations (${left} off-diagonal entries left)`);
}

/**
 * All eigenvalues of tridiag(e, d, e), ascending, by the root-free QL/QR of Pal-Walker-Kahan
 * (dsterf). Overwrites d with the eigenvalues and destroys e.
 */
export function tridiagonalEigenvalues(d: Float64Array, e: Float64Array): Float64Array {
  const n = d.length;
  if (n <= 1) return d;
  const nmaxit = n * MAXIT;
  let jtot = 0;
  let l1 = 0;
  while (l1 < n) {
    // Split off the next unreduced block [l1, m] (label 10).
    const m = blockEnd(d, e, l1);
    let l = l1;
    const lsv = l;
    let lend = m;
    const lendsv = lend;
    l1 = m + 1;
    if (lend === l) continue;
    const { anorm, iscale } = scaleBlock(d, e, l, lend);
    if (anorm === 0) continue;
    for (let i = l; i < lend; i++) e[i] *= e[i];
    if (Math.abs(d[lend]) < Math.abs(d[l])) {
      lend = lsv;
      l = lendsv;
    }
    if (lend >= l) {
      // QL iteration (label 50): deflate from the top.
      for (;;) {
        let mm = l;
        for (; mm < lend; mm++) if (Math.abs(e[mm]) <= EPS2 * Math.abs(d[mm] * d[mm + 1])) break;
        if (mm < lend) e[mm] = 0;
        let p = d[l];
        if (mm === l) {
          d[l] = p;
          l++;
          if (l <= lend) continue;
          break;
        }
        if (mm === l + 1) {
          const [rt1, rt2] = lae2(d[l], Math.sqrt(e[l]), d[l + 1]);
          d[l] = rt1;
          d[l + 1] = rt2;
          e[l] = 0;
          l += 2;
          if (l <= lend) continue;
          break;
        }
        if (jtot === nmaxit) break;
        jtot++;
        const rte = Math.sqrt(e[l]);
        let sigma = (d[l + 1] - p) / (2 * rte);
        const r0 = Math.hypot(sigma, 1);
        sigma = p - rte / (sigma + withSign(r0, sigma));
        let c = 1;
        let s = 0;
        let gamma = d[mm] - sigma;
        p = gamma * gamma;
        for (let i = mm - 1; i >= l; i--) {
          const bb = e[i];
          const r = p + bb;
          if (i !== mm - 1) e[i + 1] = s * r;
          const oldc = c;
          c = p / r;
          s = bb / r;
          const oldgam = gamma;
          const alpha = d[i];
          gamma = c * (alpha - sigma) - s * oldgam;
          d[i + 1] = oldgam + (alpha - gamma);
          p = c !== 0 ? (gamma * gamma) / c : oldc * bb;
        }
        e[l] = s * p;
        d[l] = sigma + gamma;
      }
    } else {
      // QR iteration (label 100): deflate from the bottom.
      for (;;) {
        let mm = l;
        for (; mm > lend; mm--) if (Math.abs(e[mm - 1]) <= EPS2 * Math.abs(d[mm] * d[mm - 1])) break;
        if (mm > lend) e[mm - 1] = 0;
        let p = d[l];
        if (mm === l) {
          d[l] = p;
          l--;
          if (l >= lend) continue;
          break;
        }
        if (mm === l - 1) {
          const [rt1, rt2] = lae2(d[l], Math.sqrt(e[l - 1]), d[l - 1]);
          d[l] = rt1;
          d[l - 1] = rt2;
          e[l - 1] = 0;
          l -= 2;
          if (l >= lend) continue;
          break;
        }
        if (jtot === nmaxit) break;
        jtot++;
        const rte = Math.sqrt(e[l - 1]);
        let sigma = (d[l - 1] - p) / (2 * rte);
        const r0 = Math.hypot(sigma, 1);
        sigma = p - rte / (sigma + withSign(r0, sigma));
        let c = 1;
        let s = 0;
        let gamma = d[mm] - sigma;
        p = gamma * gamma;
        for (let i = mm; i <= l - 1; i++) {
          const bb = e[i];
          const r = p + bb;
          if (i !== mm) e[i - 1] = s * r;
          const oldc = c;
          c = p / r;
          s = bb / r;
          const oldgam = gamma;
          const alpha = d[i + 1];
          gamma = c * (alpha - sigma) - s * oldgam;
          d[i] = oldgam + (alpha - gamma);
          p = c !== 0 ? (gamma * gamma) / c : oldc * bb;
        }
        e[l - 1] = s * p;
        d[l] = sigma + gamma;
      }
    }
    // Undo the scaling (label 150).
    unscale(d, lsv, lendsv + 1, anorm, iscale);
    if (jtot >= nmaxit) {
      for (let i = 0; i < n - 1; i++) if (e[i] !== 0) throw convergenceError(e);
    }
  }
  sortAscending(d);
  return d;
}

/**
 * Applies the plane rotations of one QL/QR sweep to columns [lo, hi] of rows [rows0, rows1) of
 * the row-major n x n matrix Z (dlasr 'R', 'V'): rotation i acts on columns (i, i+1) as
 * [z_i, z_i+1] <- [c z_i + s z_i+1, c z_i+1 - s z_i], with (c, s) = (cs[2i], cs[2i+1]).
 * `backward` applies i = hi-1 down to lo (QL), else lo up to hi-1 (QR). Each row is swept once,
 * carrying the running column in a register; four rows share each load of (c, s).
 * Self-contained (worker threads compile it from its source text).
 */
export function applyRotations(Z: Float64Array, cs: Float64Array, n: number, lo: number, hi: number, backward: boolean | number, rows0: number, rows1: number): void {
  let r = rows0;
  if (backward) {
    for (; r + 4 <= rows1; r += 4) {
      const o0 = r * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
      let t0 = Z[o0 + hi], t1 = Z[o1 + hi], t2 = Z[o2 + hi], t3 = Z[o3 + hi];
      for (let i = hi - 1; i >= lo; i--) {
        const c = cs[2 * i], s = cs[2 * i + 1];
        const a0 = Z[o0 + i], a1 = Z[o1 + i], a2 = Z[o2 + i], a3 = Z[o3 + i];
        Z[o0 + i + 1] = c * t0 - s * a0;
        Z[o1 + i + 1] = c * t1 - s * a1;
        Z[o2 + i + 1] = c * t2 - s * a2;
        Z[o3 + i + 1] = c * t3 - s * a3;
        t0 = s * t0 + c * a0;
        t1 = s * t1 + c * a1;
        t2 = s * t2 + c * a2;
        t3 = s * t3 + c * a3;
      }
      Z[o0 + lo] = t0; Z[o1 + lo] = t1; Z[o2 + lo] = t2; Z[o3 + lo] = t3;
    }
    for (; r < rows1; r++) {
      const o = r * n;
      let t = Z[o + hi];
      for (let i = hi - 1; i >= lo; i--) {
        const c = cs[2 * i], s = cs[2 * i + 1];
        const a = Z[o + i];
        Z[o + i + 1] = c * t - s * a;
        t = s * t + c * a;
      }
      Z[o + lo] = t;
    }
  } else {
    for (; r + 4 <= rows1; r += 4) {
      const o0 = r * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
      let t0 = Z[o0 + lo], t1 = Z[o1 + lo], t2 = Z[o2 + lo], t3 = Z[o3 + lo];
      for (let i = lo; i < hi; i++) {
        const c = cs[2 * i], s = cs[2 * i + 1];
        const b0 = Z[o0 + i + 1], b1 = Z[o1 + i + 1], b2 = Z[o2 + i + 1], b3 = Z[o3 + i + 1];
        Z[o0 + i] = s * b0 + c * t0;
        Z[o1 + i] = s * b1 + c * t1;
        Z[o2 + i] = s * b2 + c * t2;
        Z[o3 + i] = s * b3 + c * t3;
        t0 = c * b0 - s * t0;
        t1 = c * b1 - s * t1;
        t2 = c * b2 - s * t2;
        t3 = c * b3 - s * t3;
      }
      Z[o0 + hi] = t0; Z[o1 + hi] = t1; Z[o2 + hi] = t2; Z[o3 + hi] = t3;
    }
    for (; r < rows1; r++) {
      const o = r * n;
      let t = Z[o + lo];
      for (let i = lo; i < hi; i++) {
        const c = cs[2 * i], s = cs[2 * i + 1];
        const b = Z[o + i + 1];
        Z[o + i] = s * b + c * t;
        t = c * b - s * t;
      }
      Z[o + hi] = t;
    }
  }
}

/** Applies one sweep's rotations (as applyRotations) to all rows of Z; lets callers split rows across threads. */
export type RotationApplier = (cs: Float64Array, lo: number, hi: number, backward: boolean) => void;

/**
 * Eigenvalues and eigenvectors of tridiag(e, d, e) by implicit QL/QR (dsteqr, COMPZ = 'V').
 * Z (row-major n x n, orthogonal) is multiplied on the right by the accumulated rotations; pass
 * the identity to get the eigenvectors of T, or the Householder Q to get those of A. On return
 * d holds the eigenvalues in ascending order and column j of Z the eigenvector of d[j]; e is
 * destroyed. `apply` may replace the serial rotation kernel (same semantics, over all rows);
 * it receives `cs` (2n doubles, allocated here unless given).
 */
export function tridiagonalEigen(d: Float64Array, e: Float64Array, Z: Float64Array, apply?: RotationApplier, cs: Float64Array = new Float64Array(2 * d.length)): void {
  const n = d.length;
  if (n <= 1) return;
  const rotate: RotationApplier = apply ?? ((c, lo, hi, backward) => applyRotations(Z, c, n, lo, hi, backward, 0, n));
  const nmaxit = n * MAXIT;
  let jtot = 0;
  let l1 = 0;
  while (l1 < n) {
    const m = blockEnd(d, e, l1);
    let l = l1;
    const lsv = l;
    let lend = m;
    const lendsv = lend;
    l1 = m + 1;
    if (lend === l) continue;
    const { anorm, iscale } = scaleBlock(d, e, l, lend);
    if (anorm === 0) continue;
    if (Math.abs(d[lend]) < Math.abs(d[l])) {
      lend = lsv;
      l = lendsv;
    }
    if (lend > l) {
      // QL iteration (label 40).
      for (;;) {
        let mm = l;
        for (; mm < lend; mm++) {
          const tst = Math.abs(e[mm]) ** 2;
          if (tst <= EPS2 * Math.abs(d[mm]) * Math.abs(d[mm + 1]) + SAFMIN) break;
        }
        if (mm < lend) e[mm] = 0;
        let p = d[l];
        if (mm === l) {
          l++;
          if (l <= lend) continue;
          break;
        }
        if (mm === l + 1) {
          const [rt1, rt2, c, s] = laev2(d[l], e[l], d[l + 1]);
          cs[2 * l] = c;
          cs[2 * l + 1] = s;
          rotate(cs, l, l + 1, true);
          d[l] = rt1;
          d[l + 1] = rt2;
          e[l] = 0;
          l += 2;
          if (l <= lend) continue;
          break;
        }
        if (jtot === nmaxit) break;
        jtot++;
        let g = (d[l + 1] - p) / (2 * e[l]);
        let r = Math.hypot(g, 1);
        g = d[mm] - p + e[l] / (g + withSign(r, g));
        let s = 1;
        let c = 1;
        p = 0;
        for (let i = mm - 1; i >= l; i--) {
          const f = s * e[i];
          const b = c * e[i];
          givens(g, f);
          c = GIVENS[0];
          s = GIVENS[1];
          r = GIVENS[2];
          if (i !== mm - 1) e[i + 1] = r;
          g = d[i + 1] - p;
          r = (d[i] - g) * s + 2 * c * b;
          p = s * r;
          d[i + 1] = g + p;
          g = c * r - b;
          cs[2 * i] = c;
          cs[2 * i + 1] = -s;
        }
        rotate(cs, l, mm, true);
        d[l] -= p;
        e[l] = g;
      }
    } else {
      // QR iteration (label 90).
      for (;;) {
        let mm = l;
        for (; mm > lend; mm--) {
          const tst = Math.abs(e[mm - 1]) ** 2;
          if (tst <= EPS2 * Math.abs(d[mm]) * Math.abs(d[mm - 1]) + SAFMIN) break;
        }
        if (mm > lend) e[mm - 1] = 0;
        let p = d[l];
        if (mm === l) {
          l--;
          if (l >= lend) continue;
          break;
        }
        if (mm === l - 1) {
          const [rt1, rt2, c, s] = laev2(d[l - 1], e[l - 1], d[l]);
          cs[2 * mm] = c;
          cs[2 * mm + 1] = s;
          rotate(cs, l - 1, l, false);
          d[l - 1] = rt1;
          d[l] = rt2;
          e[l - 1] = 0;
          l -= 2;
          if (l >= lend) continue;
          break;
        }
        if (jtot === nmaxit) break;
        jtot++;
        let g = (d[l - 1] - p) / (2 * e[l - 1]);
        let r = Math.hypot(g, 1);
        g = d[mm] - p + e[l - 1] / (g + withSign(r, g));
        let s = 1;
        let c = 1;
        p = 0;
        for (let i = mm; i <= l - 1; i++) {
          const f = s * e[i];
          const b = c * e[i];
          givens(g, f);
          c = GIVENS[0];
          s = GIVENS[1];
          r = GIVENS[2];
          if (i !== mm) e[i - 1] = r;
          g = d[i] - p;
          r = (d[i + 1] - g) * s + 2 * c * b;
          p = s * r;
          d[i] = g + p;
          g = c * r - b;
          cs[2 * i] = c;
          cs[2 * i + 1] = s;
        }
        rotate(cs, mm, l, false);
        d[l] -= p;
        e[l - 1] = g;
      }
    }
    unscale(d, lsv, lendsv + 1, anorm, iscale);
    unscale(e, lsv, lendsv, anorm, iscale);
    if (jtot >= nmaxit) {
      for (let i = 0; i < n - 1; i++) if (e[i] !== 0) throw convergenceError(e);
    }
  }
  // Selection sort, swapping columns of Z (n swaps at most).
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i];
    for (let j = i + 1; j < n; j++) {
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    }
    if (k !== i) {
      d[k] = d[i];
      d[i] = p;
      for (let r = 0, o = 0; r < n; r++, o += n) {
        const t = Z[o + i];
        Z[o + i] = Z[o + k];
        Z[o + k] = t;
      }
    }
  }
}
