/**
 * XTrace and XDiag: Epperly, Tropp & Webber, "XTrace: Making the most of every sample in
 * stochastic trace estimation" (SIAM J. Matrix Anal. Appl., 2024). Exchangeable versions of
 * Hutch++ and of its diagonal analogue: every test vector is used both for the low-rank
 * approximation and for the Hutchinson correction, by leaving it out of the former.
 *
 * Both draw k = floor(m / 2) test vectors Omega (m products), form Y = A Omega = Q R (device QR,
 * CGS2) and Z = A Q. Leaving out vector i gives the basis Q_(i) = Q (I - s_i s_i^T), with s_i the
 * i-th column of R^{-T}, normalized; all leave-one-out quantities then come from k x k matrices
 * on the host (H = Q^T A Q, W = Q^T Omega, T = Z^T Omega, R) or from one device pass over Q, Z.
 *
 * XTrace: estimate i = tr(Q_(i)^T A Q_(i)) + omega_i^T P_(i) A P_(i) omega_i, P_(i) = I - Q_(i) Q_(i)^T;
 * the result is their mean, and the error estimate is the paper's, std(estimates) / sqrt(k).
 * Test vectors: by default uniform on the sphere of radius sqrt(n) with the paper's "improved"
 * normalization (the correction is rescaled by (n - k + 1) / ||P_(i) omega_i||^2, which removes
 * the variance of the length of the projected vector); `probe: "rademacher"` uses random signs
 * without it. The formulas follow the authors' reference code.
 *
 * XDiag: diag(A) ~ diag(Q Q^T A) + mean_i [ (Q s_i) * (-(Z s_i) + omega_i (s_i^T r_i)) ]
 * (elementwise products; random signs, as in the paper). Per-coordinate standard errors are the
 * same construction as XTrace's applied coordinate-wise: the standard deviation over i of the
 * k leave-one-out estimates / sqrt(k). The paper gives no error estimate for XDiag: treat these
 * as a rough guide (the tests check that they are calibrated to within a factor of ~2).
 *
 * Costs: m products; device work O(k^2 n); memory 4 k n on the device. When A Omega is
 * rank-deficient (rank A < k), R is singular: the formulas above stay accurate while R is merely
 * near-singular (measured: 1e-15 relative error on a rank-4 operator with k = 10), but a vector
 * whose remainder after orthogonalization falls below 4 unit roundoffs of its norm is dropped;
 * then Q spans the range of A, so tr(A) = tr(Q^T A Q) and diag(A) = diag(Q Q^T A) up to
 * rounding: that is returned, with standard error 0 and `rank` < k in the settings.
 * k is capped at n. Defaults: 100 products, seed 0. Options, cost and journal: estimator.ts (the
 * journal keeps the products A Omega and A Q).
 */
import type { LinearOperator } from "../curvature/operator.ts";
import { numpy as np, type Array as JaxArray } from "../engine/jax.ts";
import { InputError } from "../errors.ts";
import type { DTypeName } from "../engine/dtype.ts";
import { qrRows } from "./device-qr.ts";
import { ESTIMATOR_DEFAULTS, journaledRows, startEstimator, type DiagonalEstimate, type TraceEstimate, type TraceOptions } from "./estimator.ts";
import type { Journal } from "./journal.ts";
import { checkFinite, hostMatrix, probeSeeds, rademacherRows, readHost, sampleStats, sphereRows } from "./sampling.ts";

export type XTraceProbe = "sphere" | "rademacher";
export interface XTraceOptions extends TraceOptions {
  /** Test vectors (default "sphere", with the improved normalization). */
  readonly probe?: XTraceProbe;
}

export const XTRACE_DEFAULTS = { ...ESTIMATOR_DEFAULTS, probe: "sphere" } as const;
/** Drop a sketch vector only when its remainder is at the rounding level (see head comment). */
const DEPENDENCE = 4;

interface Sketch {
  readonly k: number;
  readonly omega: JaxArray;
  /** [rank, n], null when rank 0. */
  readonly Q: JaxArray | null;
  readonly Z: JaxArray | null;
  readonly R: Float64Array;
  readonly rank: number;
}

/** The sketch of the test vectors omega (rows; kept): its products journaled under `key`-sketch-i and `key`-range-i. */
async function sketch(op: LinearOperator, omega: JaxArray, tick: () => void, journal: Journal | undefined, key: string): Promise<Sketch> {
  const k = omega.shape[0];
  const Y = await journaledRows(op, omega, journal, `${key}-sketch`, tick);
  const qr = await qrRows(Y, op.dtype, DEPENDENCE);
  Y.dispose();
  const Z = qr.Q ? await journaledRows(op, qr.Q, journal, `${key}-range`, tick) : null;
  return { k, omega, Q: qr.Q, Z, R: qr.R, rank: qr.rank };
}

function disposeSketch(s: Sketch): void {
  s.omega.dispose();
  s.Q?.dispose();
  s.Z?.dispose();
}

/** Rows of the inverse of the upper triangular k x k R: row i = R^{-T} e_i, normalized. */
function leaveOneOutDirections(R: Float64Array, k: number): Float64Array {
  // Solve R X = I column by column (back substitution); X = R^{-1} is upper triangular.
  const X = new Float64Array(k * k);
  for (let c = 0; c < k; c++) {
    for (let i = c; i >= 0; i--) {
      let s = i === c ? 1 : 0;
      for (let j = i + 1; j <= c; j++) s -= R[i * k + j] * X[j * k + c];
      X[i * k + c] = s / R[i * k + i];
    }
  }
  // s_i = column i of R^{-T} = row i of R^{-1}.
  const S = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    let nrm = 0;
    for (let a = 0; a < k; a++) nrm += X[i * k + a] ** 2;
    nrm = Math.sqrt(nrm);
    for (let a = 0; a < k; a++) S[i * k + a] = X[i * k + a] / nrm;
  }
  return S;
}

function checkProbe(probe: string): XTraceProbe {
  if (probe !== "sphere" && probe !== "rademacher") throw new InputError("probe", `expected sphere or rademacher, got "${probe}"`);
  return probe;
}

export async function xtrace(op: LinearOperator, opts: XTraceOptions = {}): Promise<TraceEstimate> {
  const run = startEstimator(op, opts, 2);
  const { m, seed } = run;
  const probe = checkProbe(opts.probe ?? XTRACE_DEFAULTS.probe);
  const n = op.size;
  const k = Math.min(Math.floor(m / 2), n);
  const [key] = probeSeeds(seed, 1);
  const omega = probe === "sphere" ? sphereRows(key, k, n, op.dtype) : rademacherRows(key, k, n, op.dtype);
  const sk = await sketch(op, omega, () => run.tick(2 * k), run.journal, "xtrace");
  let ests: number[];
  try {
    ests = sk.rank < k ? await rankDeficientTrace(sk) : await xtraceEstimates(sk, n, probe === "sphere");
  } finally {
    disposeSketch(sk);
  }
  checkFinite(ests, "xtrace");
  const stats = sampleStats(ests);
  return {
    method: `XTrace (Epperly et al. 2024; ${k} ${probe} test vectors${sk.rank < k ? `, rank ${sk.rank}: exact on the range` : ""})`,
    size: n,
    estimate: stats.mean,
    standardError: sk.rank < k ? 0 : stats.standardError,
    samples: ests,
    ...run.cost(),
    settings: { matvecs: m, seed, probe, testVectors: k, rank: sk.rank, normalization: probe === "sphere" ? "improved" : "none" },
  };
}

async function rankDeficientTrace(sk: Sketch): Promise<number[]> {
  if (!sk.Q) return [0];
  const [t] = await readHost(sk.Q.ref.mul(sk.Z!.ref).sum().reshape([1]));
  return [t];
}

/** The k exchangeable estimates (the authors' formulas, real symmetric case). */
async function xtraceEstimates(sk: Sketch, n: number, improved: boolean): Promise<number[]> {
  const { k, R } = sk;
  const Q = sk.Q!, Z = sk.Z!;
  const [H, W, T] = await Promise.all([
    readHost(np.matmul(Q.ref, Z.ref.transpose())), // H[a][b] = q_a^T A q_b
    readHost(np.matmul(Q.ref, sk.omega.ref.transpose())), // column i: w_i = Q^T omega_i
    readHost(np.matmul(Z.ref, sk.omega.ref.transpose())), // column i: t_i = Q^T A omega_i
  ]);
  const S = leaveOneOutDirections(R, k); // row i: s_i
  let trH = 0;
  for (let a = 0; a < k; a++) trH += H[a * k + a];
  const col = (M: Float64Array, i: number) => Float64Array.from({ length: k }, (_, a) => M[a * k + i]);
  const hv = (v: Float64Array) => Float64Array.from({ length: k }, (_, a) => { let s = 0; for (let b = 0; b < k; b++) s += H[a * k + b] * v[b]; return s; });
  const htv = (v: Float64Array) => Float64Array.from({ length: k }, (_, a) => { let s = 0; for (let b = 0; b < k; b++) s += H[b * k + a] * v[b]; return s; });
  const dotk = (u: ArrayLike<number>, v: ArrayLike<number>) => { let s = 0; for (let a = 0; a < k; a++) s += u[a] * v[a]; return s; };
  const ests: number[] = [];
  for (let i = 0; i < k; i++) {
    const s = S.subarray(i * k, (i + 1) * k);
    const w = col(W, i), t = col(T, i), r = col(R, i);
    const Hs = hv(s), Hw = hv(w), Htw = htv(w);
    const c = dotk(s, w);
    const sHs = dotk(s, Hs);
    const scale = improved ? (n - k + 1) / (n - dotk(w, w) + c * c) : 1;
    let sRmHw = 0, tmHtwS = 0;
    for (let a = 0; a < k; a++) {
      sRmHw += s[a] * (r[a] - Hw[a]);
      tmHtwS += (t[a] - Htw[a]) * s[a];
    }
    const correction = -dotk(t, w) + dotk(w, Hw) + c * sRmHw + c * c * sHs + tmHtwS * c;
    ests.push(trH - sHs + scale * correction);
  }
  return ests;
}

export async function xdiag(op: LinearOperator, opts: TraceOptions = {}): Promise<DiagonalEstimate> {
  const run = startEstimator(op, opts, 2);
  const { m, seed } = run;
  const n = op.size;
  const k = Math.min(Math.floor(m / 2), n);
  const [key] = probeSeeds(seed, 1);
  const sk = await sketch(op, rademacherRows(key, k, n, op.dtype), () => run.tick(2 * k), run.journal, "xdiag");
  let diag: Float64Array, se: Float64Array | null;
  try {
    ({ diag, se } = await xdiagEstimate(sk, n, op.dtype));
  } finally {
    disposeSketch(sk);
  }
  checkFinite(diag, "xdiag");
  return {
    method: `XDiag (Epperly et al. 2024; ${k} Rademacher test vectors${sk.rank < k ? `, rank ${sk.rank}: exact on the range` : ""})`,
    size: n,
    diagonal: Array.from(diag),
    standardErrors: se ? Array.from(se) : null,
    sum: diag.reduce((s, v) => s + v, 0),
    ...run.cost(),
    settings: { matvecs: m, seed, probe: "rademacher", testVectors: k, rank: sk.rank },
  };
}

async function xdiagEstimate(sk: Sketch, n: number, dtype: DTypeName): Promise<{ diag: Float64Array; se: Float64Array | null }> {
  const { k, R, rank } = sk;
  if (!sk.Q) return { diag: new Float64Array(n), se: new Float64Array(n) };
  const Q = sk.Q, Z = sk.Z!;
  const base = Q.ref.mul(Z.ref).sum(0); // diag(Q Q^T A) = sum_a q_a * z_a
  if (rank < k) {
    const diag = await readHost(base);
    return { diag, se: new Float64Array(n) };
  }
  const S = leaveOneOutDirections(R, k);
  const c = new Float64Array(k); // s_i^T r_i
  for (let i = 0; i < k; i++) for (let a = 0; a < k; a++) c[i] += S[i * k + a] * R[a * k + i];
  const St = hostMatrix(S, k, k, dtype);
  const QS = np.matmul(St.ref, Q.ref); // row i: Q s_i
  const ZS = np.matmul(St, Z.ref); // row i: Z s_i = A Q s_i
  const D = QS.mul(sk.omega.ref.mul(hostMatrix(c, k, 1, dtype)).sub(ZS)); // row i: estimate i - base
  const mean = D.ref.mean(0);
  const centered = D.sub(mean.ref);
  const variance = centered.ref.mul(centered).sum(0);
  const [diag, ss] = await Promise.all([readHost(base.add(mean)), readHost(variance)]);
  const se = k >= 2 ? Float64Array.from(ss, (v) => Math.sqrt(v / (k - 1) / k)) : null;
  return { diag, se };
}
