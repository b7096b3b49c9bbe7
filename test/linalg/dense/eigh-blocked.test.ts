import { test } from "node:test";
import assert from "node:assert/strict";
import { hostRng } from "../../../src/engine/host-rng.ts";
import { denseMatrix, fromEigen, maxAbs, randomOrthogonal, randomSymmetric } from "../../../src/linalg/dense/dense-matrix.ts";
import { blockedTridiagonalize, createWorkspace, loadLower, packedReflectors, type BlockedWorkspace } from "../../../src/linalg/dense/blocked-tridiagonal.ts";
import { eigh, eigvalsh } from "../../../src/linalg/dense/eigh.ts";
import { formQ, rowBase, tridiagonalize } from "../../../src/linalg/dense/householder-tridiagonal.ts";
import { tridiagonalEigenvalues } from "../../../src/linalg/dense/tridiagonal-eigen.ts";
import { sleb, uleb } from "../../../src/linalg/dense/wasm-assembler.ts";
import { jacobi } from "../../helpers/jacobi.ts";
import { assertTridiagonalReduction } from "../eigensolver-helpers.ts";

const TOL = 1e-12;

function workspace(n: number, nb?: number): BlockedWorkspace {
  const ws = createWorkspace(n, nb === undefined ? {} : { nb });
  assert.ok(ws, "WebAssembly SIMD is available in Node 20");
  return ws;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The unblocked JavaScript reduction's eigenvalues (the path the blocked one replaces). */
function unblockedEigenvalues(data: Float64Array, n: number): Float64Array {
  const P = new Float64Array((n * (n + 1)) / 2);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) P[rowBase(i, n) + j] = data[j * n + i];
  const T = tridiagonalize(P, n);
  return tridiagonalEigenvalues(T.d, T.e);
}

function normBound(A: { n: number; data: Float64Array }): number {
  return maxAbs(A) * Math.max(1, A.n); // >= ||A||_2
}

test("wasm assembler: LEB128 encodings", () => {
  assert.deepEqual(uleb(0), [0]);
  assert.deepEqual(uleb(127), [0x7f]);
  assert.deepEqual(uleb(128), [0x80, 0x01]);
  assert.deepEqual(uleb(65536), [0x80, 0x80, 0x04]);
  assert.deepEqual(sleb(-1), [0x7f]);
  assert.deepEqual(sleb(63), [0x3f]);
  assert.deepEqual(sleb(64), [0xc0, 0x00]);
  assert.deepEqual(sleb(-65), [0xbf, 0x7f]);
});

test("wasm kernels: symv, syr2k, rowUpdate, correct match plain loops (odd sizes, offsets)", () => {
  const rng = hostRng(31);
  for (const n of [1, 2, 3, 5, 8, 13, 30, 37]) {
    const ws = workspace(n, 3);
    const { F, ld, kernels: k, a } = ws;
    // Random upper triangle; strict lower triangle and padding as the reduction leaves them.
    const S = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) S[i * n + j] = S[j * n + i] = rng.normal();
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) F[a + i * ld + j] = S[i * n + j];
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) F[a + i * ld + j] = rng.normal(); // scratch: must be ignored
    for (const r0 of [0, Math.floor(n / 3), n - 1]) {
      for (const r1 of [n, Math.max(r0, n - 2)]) {
        // symv over rows [r0, r1): y_r += sum_{c >= r} S_rc u_c, y_c += S_rc u_r (c > r)
        const u = ws.vt, y = ws.y[0];
        for (let c = 0; c < n; c++) F[u + c] = c >= r0 ? rng.normal() : 0;
        const y0 = Array.from({ length: n }, () => rng.normal());
        for (let c = 0; c < n; c++) F[y + c] = y0[c];
        k.symv(8 * a, 8 * ld, 8 * u, 8 * y, r0, r1, n);
        const want = y0.slice();
        for (let r = r0; r < r1; r++) {
          for (let c = r; c < n; c++) {
            want[r] += S[r * n + c] * F[u + c];
            if (c > r) want[c] += S[r * n + c] * F[u + r];
          }
        }
        for (let c = 0; c < n; c++) assert.ok(Math.abs(F[y + c] - want[c]) <= 1e-12, `symv n=${n} r0=${r0} r1=${r1} c=${c}`);
        assert.equal(F[y + n], 0, "padding of y stays zero");
      }
    }
    // rowUpdate and correct with j = 3 panel vectors.
    const j = Math.min(3, n);
    const Vt = (l: number, c: number) => F[ws.vt + l * ld + c];
    const Wt = (l: number, c: number) => F[ws.wt + l * ld + c];
    for (let l = 0; l < j; l++) {
      for (let c = 0; c < n; c++) {
        F[ws.vt + l * ld + c] = rng.normal();
        F[ws.wt + l * ld + c] = rng.normal();
      }
    }
    const i = Math.floor(n / 2);
    const row = Array.from({ length: n }, (_, c) => F[a + i * ld + c]);
    k.rowUpdate(8 * (a + i * ld), 8 * ws.vt, 8 * ws.wt, 8 * ld, j, i, n);
    for (let c = i; c < n; c++) {
      let s = row[c];
      for (let l = 0; l < j; l++) s -= Vt(l, i) * Wt(l, c) + Wt(l, i) * Vt(l, c);
      assert.ok(Math.abs(F[a + i * ld + c] - s) <= 1e-12, `rowUpdate n=${n} c=${c}`);
    }
    for (let c = 0; c < i; c++) assert.equal(F[a + i * ld + c], row[c], "rowUpdate leaves columns before i");
    const uo = ws.y[0] + 0; // any free vector: use y as u and a fresh y after it
    const u = Array.from({ length: n }, (_, c) => (c > i ? rng.normal() : 0));
    const yv = Array.from({ length: n }, () => rng.normal());
    const yAt = ws.zp; // scratch region
    for (let c = 0; c < n; c++) {
      F[uo + c] = u[c];
      F[yAt + c] = yv[c];
    }
    F[uo + n] = F[yAt + n] = 0;
    k.correct(8 * ws.vt, 8 * ws.wt, 8 * ld, j, 8 * uo, 8 * yAt, i + 1, n);
    for (let c = i + 1; c < n; c++) {
      let s = yv[c];
      for (let l = 0; l < j; l++) {
        let wu = 0, vu = 0;
        for (let m = i + 1; m < n; m++) {
          wu += Wt(l, m) * u[m];
          vu += Vt(l, m) * u[m];
        }
        s -= Vt(l, c) * wu + Wt(l, c) * vu;
      }
      assert.ok(Math.abs(F[yAt + c] - s) <= 1e-11, `correct n=${n} c=${c}`);
    }
  }
  // syr2k on packed panels: A_rc -= sum_l Z_rl Y_cl, rows/columns from k1, 4 x 4 tiles.
  for (const [n, k1, K] of [[9, 0, 2], [13, 3, 6], [40, 5, 8], [41, 40, 4], [60, 2, 4], [62, 6, 2]] as const) {
    const ws = workspace(n, K / 2);
    const { F, ld, a } = ws;
    const S = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) F[a + i * ld + j] = S[i * n + j] = rng.normal();
    const groups = Math.ceil((n - k1) / 4);
    const Z = (r: number, l: number) => F[ws.zp + ((r - k1) >> 2) * 4 * K + 4 * l + ((r - k1) & 3)];
    const Y = (r: number, l: number) => F[ws.yp + ((r - k1) >> 2) * 4 * K + 4 * l + ((r - k1) & 3)];
    for (let g = 0; g < groups; g++) {
      for (let l = 0; l < K; l++) {
        for (let q = 0; q < 4; q++) {
          const inside = k1 + 4 * g + q < n;
          F[ws.zp + g * 4 * K + 4 * l + q] = inside ? rng.normal() : 0;
          F[ws.yp + g * 4 * K + 4 * l + q] = inside ? rng.normal() : 0;
        }
      }
    }
    // Column groups in two calls ([0, m) and [m, groups)), in blocks of 1, 2 or all groups.
    const m = groups >> 1;
    const hb = [1, 2, groups][n % 3];
    ws.kernels.syr2k(8 * a, 8 * ld, 8 * ws.zp, 8 * ws.yp, K, k1, 0, m, hb);
    ws.kernels.syr2k(8 * a, 8 * ld, 8 * ws.zp, 8 * ws.yp, K, k1, m, groups, hb);
    for (let r = 0; r < n; r++) {
      for (let c = r; c < n; c++) {
        let want = S[r * n + c];
        if (r >= k1) for (let l = 0; l < K; l++) want -= Z(r, l) * Y(c, l);
        assert.ok(Math.abs(F[a + r * ld + c] - want) <= 1e-12, `syr2k n=${n} (${r}, ${c})`);
      }
      for (let c = n; c < ld; c++) assert.equal(F[a + r * ld + c], 0, "padding columns stay zero");
    }
  }
});

test("blocked reduction: same eigenvalues as the unblocked one, many sizes and panel widths", () => {
  for (const n of [0, 1, 2, 3, 4, 5, 7, 8, 9, 17, 31, 33, 64, 65, 101, 130]) {
    const A = randomSymmetric(n, hostRng(1000 + n));
    const want = unblockedEigenvalues(A.data, n);
    const bound = TOL * normBound(A);
    for (const nb of [1, 3, 4, 32]) {
      const ws = workspace(n, nb);
      loadLower(ws, A.data);
      const T = blockedTridiagonalize(ws);
      const got = tridiagonalEigenvalues(T.d, T.e);
      assert.ok(maxDiff(got, want) <= bound, `n=${n} nb=${nb}: ${maxDiff(got, want)} > ${bound}`);
    }
  }
});

test("blocked reduction: A = Q T Q^T with the reflectors it leaves (formQ), Q orthogonal", () => {
  for (const [n, nb] of [[45, 8], [70, 32], [67, 5]] as const) {
    const A = randomSymmetric(n, hostRng(2000 + n));
    const ws = workspace(n, nb);
    loadLower(ws, A.data);
    const { d, e, tau } = blockedTridiagonalize(ws);
    const P = packedReflectors(ws, new Float64Array((n * (n + 1)) / 2));
    assertTridiagonalReduction(A, formQ(P, tau, n, new Float64Array(n * n)), d, e, TOL, `n=${n}, nb=${nb}`);
  }
});

test("eigh on the blocked path: Jacobi oracle, lower triangle only, zero columns, extreme scales", () => {
  const n = 120;
  const A = randomSymmetric(n, hostRng(41));
  const oracle = jacobi(A);
  const norm = Math.max(Math.abs(oracle.values[0]), Math.abs(oracle.values[n - 1]));
  const serial = eigh(A, { threads: 1 });
  assert.ok(maxDiff(serial.values, oracle.values) <= TOL * norm, `error ${maxDiff(serial.values, oracle.values)}`);
  // Garbage in the strict upper triangle is not read.
  const B = denseMatrix(n, A.data.slice());
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) B.data[i * n + j] = 1e6 * (i - j);
  assert.deepEqual(eigvalsh(B, { threads: 1 }), serial.values);
  // Rows that are already reduced (zero tails) take the H = I branch: block diagonal with a
  // diagonal block, known spectrum.
  const l = Array.from({ length: 100 }, (_, i) => (i % 7) - 3 + i / 1000);
  const rng = hostRng(42);
  const Q = randomOrthogonal(60, rng);
  const C = denseMatrix(100);
  const top = fromEigen(Q, l.slice(0, 60));
  for (let i = 0; i < 60; i++) for (let j = 0; j < 60; j++) C.data[i * 100 + j] = top.data[i * 60 + j];
  for (let i = 60; i < 100; i++) C.data[i * 100 + i] = l[i];
  const want = Float64Array.from(l).sort();
  const r = eigh(C, { vectors: true, threads: 1 });
  assert.ok(maxDiff(r.values, want) <= TOL * 4, `block diagonal: ${maxDiff(r.values, want)}`);
  // Tiny and huge scales keep full relative accuracy (eigh scales into the safe range).
  const lam = Array.from({ length: n }, (_, i) => (i - 40) / 9);
  const E = fromEigen(randomOrthogonal(n, hostRng(43)), lam);
  const wantE = Float64Array.from(lam).sort();
  for (const s of [1e-300, 1e300]) {
    const got = eigvalsh(denseMatrix(n, E.data.map((x) => x * s)), { threads: 1 }).map((x) => x / s);
    assert.ok(maxDiff(got, wantE) <= TOL * 10, `scale ${s}: ${maxDiff(got, wantE)}`);
  }
});

test("eigh on the blocked path with helper threads agrees with one thread (odd n)", () => {
  const n = 451; // above the team thresholds (400 rows for symv), odd
  const A = randomSymmetric(n, hostRng(44));
  const one = eigh(A, { threads: 1 });
  const two = eigh(A, { threads: 2 });
  const three = eigh(A, { threads: 3, vectors: true });
  const norm = Math.max(Math.abs(one.values[0]), Math.abs(one.values[n - 1]));
  const unblocked = unblockedEigenvalues(A.data, n);
  assert.ok(maxDiff(one.values, unblocked) <= TOL * norm, `1 thread vs unblocked: ${maxDiff(one.values, unblocked)}`);
  assert.ok(maxDiff(two.values, one.values) <= TOL * norm, `2 threads: ${maxDiff(two.values, one.values)}`);
  assert.ok(maxDiff(three.values, one.values) <= TOL * norm, `3 threads: ${maxDiff(three.values, one.values)}`);
});
