/**
 * Dense symmetric eigensolver on the host: all eigenvalues, and optionally all eigenvectors, of a
 * real symmetric n x n matrix in Float64Array (LAPACK dsyev / numpy.linalg.eigh in spirit).
 *
 * src/linalg/dense/ is this solver and nothing else: the reductions to tridiagonal form
 * (householder-tridiagonal.ts, blocked-tridiagonal.ts), the tridiagonal QL/QR
 * (tridiagonal-eigen.ts, also used by Lanczos for its Ritz values), the Wasm kernels and their
 * assembler (tridiagonal-wasm-kernels.ts, wasm-assembler.ts), the worker team (row-team.ts) and
 * the host matrix it takes (dense-matrix.ts). src/linalg/ itself holds the matrix-free algorithms
 * on a LinearOperator.
 *
 * Why a solver of our own: the engine's np.linalg.eigh / eigvalsh is cyclic Jacobi in plain
 * JavaScript, 4.8 s at n = 500 and 62 s at n = 1000 (accurate to 1e-13), where LAPACK takes
 * 0.03 s and 0.14 s. This one takes 0.039 s at 500, 0.16 s at 1000 and 0.78 s at 2000 for all
 * eigenvalues, 2.5-3x numpy.linalg.eigvalsh (LAPACK, scipy-openblas) with default threads and
 * about 2x on one thread, to 1e-12 of LAPACK's values (BENCHMARKS.md, bench/eigh.ts).
 *
 * Method (Golub & Van Loan, "Matrix Computations", 4th ed., sections 8.3 and 8.5):
 *  1. Only the LOWER triangle of A is read (like numpy's eigh / eigvalsh default UPLO='L'); the
 *     strict upper triangle is ignored. It is copied into packed storage and scaled into a safe
 *     range when its largest entry is tiny or huge (as dsyev does).
 *  2. Householder reduction to tridiagonal form T = Q^T A Q. For n >= 96 where WebAssembly
 *     SIMD exists (Node 20, current browsers): the blocked reduction of LAPACK dsytrd (panels of
 *     32 steps: a read-only symmetric product per step, then one rank-64 update per panel) on
 *     hand-written f64x2 kernels (blocked-tridiagonal.ts, tridiagonal-wasm-kernels.ts).
 *     Otherwise: the unblocked reduction in plain JavaScript, one fused pass over the trailing
 *     triangle per step (householder-tridiagonal.ts). For n >= 1500 the passes are split, in
 *     chunks of rows claimed dynamically, across worker threads where Node's worker_threads are
 *     available (row-team.ts; the Wasm kernels run in the helpers on a shared
 *     WebAssembly.Memory); so are forming Q and applying the rotations when vectors are asked.
 *  3. Eigenvalues only: the root-free Pal-Walker-Kahan QL/QR (LAPACK dsterf). With vectors:
 *     Q is formed explicitly (dorgtr), then implicit QL/QR with Wilkinson shifts (dsteqr) applies
 *     its rotations to Q's columns (tridiagonal-eigen.ts).
 *
 * Accuracy: backward stable. The computed eigenvalues are the exact eigenvalues of A + E with
 * ||E||_2 <= p(n) eps ||A||_2, p(n) a modest polynomial (in practice a small multiple of
 * sqrt(n)), so |lambda_i - lambda~_i| <= p(n) eps ||A||_2: absolute accuracy, small eigenvalues
 * of large matrices are accurate only relative to ||A||. With vectors, ||A V - V diag(l)|| and
 * ||V^T V - I|| are O(n eps ||A||) and O(n eps); individual eigenvectors are accurate to
 * O(eps ||A|| / gap), so vectors of clustered eigenvalues are only defined as a subspace.
 * The tests check 1e-12 ||A||_2 for eigenvalues and 1e-12 n for residual and orthogonality.
 *
 * Cost: 4/3 n^3 flops for the reduction plus O(n^2) for eigenvalues; with vectors add 4/3 n^3
 * (forming Q) and about 6 n^3 (rotations). Memory: about n^2 doubles for the blocked reduction's
 * working copy (n(n+1)/2 for the packed one of the unblocked path), plus n(n+1)/2 for the
 * reflectors with vectors, and an n x n result (which may be A's own storage with `overwrite`).
 * Speed (one thread of a 2-core AMD EPYC virtual machine shared with other work, CPU time):
 * eigenvalues of n = 1000 in about 0.18 s and n = 2000 in about 1.2 s, about 2.2x LAPACK
 * (dsyevd through numpy) on one thread, where the unblocked JavaScript reduction was 5.4x and
 * 5.7x; bench/eigh.ts measures it against LAPACK, both sides in the same run. The Wasm kernels run at about 10-12 Gflop/s (the
 * symmetric product is bound by memory traffic, the rank-2k update by 128-bit SIMD without FMA),
 * scalar JavaScript at about 4.5, LAPACK at about 20. With vectors, n = 1000 takes about 3 s
 * (forming Q and the rotations, still in JavaScript, dominate): practical up to n of 1000-2000.
 */
import { InputError } from "../../errors.ts";
import { copyLowerByColumns, type DenseMatrix } from "./dense-matrix.ts";
import {
  formQ,
  formQAccumulate,
  formQUpdate,
  fusedRows,
  rowBase,
  serialRunner,
  teamPassRunner,
  tridiagonalize,
  type Tridiagonal,
} from "./householder-tridiagonal.ts";
import {
  blockedTridiagonalize,
  createWorkspace,
  loadLower,
  packedReflectors,
  scaleStored,
  teamBlockedRunner,
  wasmTeamKernel,
  type BlockedWorkspace,
} from "./blocked-tridiagonal.ts";
import { applyRotations, tridiagonalEigen, tridiagonalEigenvalues, type RotationApplier } from "./tridiagonal-eigen.ts";
import { hardwareThreads, ModeChooser, openSession, sharedFloat64, teamsAvailable, type TeamArg } from "./row-team.ts";

export interface EighOptions {
  /** Compute eigenvectors too (default false). */
  readonly vectors?: boolean;
  /**
   * Allow eigh to use A.data as workspace (default false). With `vectors: true` the returned
   * `vectors` then IS A.data (overwritten); without vectors A.data is left as it was.
   */
  readonly overwrite?: boolean;
  /**
   * Threads to use, the calling one included. Default: as many as the hardware has, at most 4,
   * for n >= 1500 and where worker threads exist; 1 otherwise. With `overwrite` and `vectors`,
   * the vectors phase runs on the calling thread (A.data is not shared memory).
   */
  readonly threads?: number;
}

export interface EighResult {
  readonly n: number;
  /** Eigenvalues in ascending order. */
  readonly values: Float64Array;
  /**
   * Row-major n x n; column j (entries j, n + j, 2n + j, ...) is the unit eigenvector of
   * values[j]. With threads > 1 it lives on a SharedArrayBuffer (shared with the helpers).
   */
  readonly vectors?: Float64Array;
  /** Method, for reports. */
  readonly method: string;
  /**
   * Threads the call ran with (1 where helpers were unavailable). Passes still run on the calling
   * thread alone when that measures faster, e.g. on a machine busy with other work.
   */
  readonly threads: number;
  /** Wall-clock seconds. */
  readonly seconds: number;
}

/** Default minimum size for worker threads: below it, waking helpers for every pass costs about what it saves. */
export const EIGH_THREADS_MIN_N = 1500;
const DEFAULT_MAX_THREADS = 4;

const EPS = 2 ** -53;
const SAFMIN = 2 ** -1022;
const SMLNUM = SAFMIN / EPS;
const RMIN = Math.sqrt(SMLNUM); // dsyev's safe range for the largest entry
const RMAX = Math.sqrt(1 / SMLNUM);

/** All eigenvalues of the symmetric matrix A (lower triangle read), ascending. */
export function eigvalsh(A: DenseMatrix, options: Omit<EighOptions, "vectors"> = {}): Float64Array {
  return eigh(A, { ...options, vectors: false }).values;
}

/** Eigenvalues (ascending) and, with `vectors: true`, eigenvectors of the symmetric matrix A. */
export function eigh(A: DenseMatrix, options: EighOptions = {}): EighResult {
  const t0 = performance.now();
  const n = checkMatrix(A);
  const { vectors, overwrite, threads: requested } = checkOptions(options);
  const threads = chooseThreads(n, requested);
  const data = A.data;

  // 1.-2. Copy of the lower triangle, scaled into the safe range, and its reduction: blocked on
  // WebAssembly SIMD where available, else the unblocked JavaScript reduction on packed storage.
  const size = (n * (n + 1)) / 2;
  let P: Float64Array;
  let T: Tridiagonal & { threads: number };
  let sigma = 1;
  const ws = n >= MIN_BLOCKED_N ? createWorkspace(n, { threads, shared: threads > 1 }) : null;
  if (ws) {
    sigma = safeScale(loadLower(ws, data));
    if (sigma !== 1) scaleStored(ws, sigma);
    T = reduceBlocked(ws, threads);
    P = vectors ? packedReflectors(ws, threads > 1 ? sharedFloat64(size) : new Float64Array(size)) : new Float64Array(0);
  } else {
    // Packed upper copy (row k of P = column k of A below the diagonal).
    P = threads > 1 ? sharedFloat64(size) : new Float64Array(size);
    sigma = safeScale(copyLowerByColumns(data, n, P, (j) => rowBase(j, n)));
    if (sigma !== 1) for (let i = 0; i < size; i++) P[i] *= sigma;
    T = reduce(P, n, threads);
  }

  // 3. Tridiagonal eigenproblem.
  const values = T.d;
  let Z: Float64Array | undefined;
  if (vectors) {
    Z = overwrite ? data : threads > 1 ? sharedFloat64(n * n) : new Float64Array(n * n);
    vectorsPhase(P, T, n, Z, threads);
  } else {
    tridiagonalEigenvalues(values, T.e);
  }
  if (sigma !== 1) for (let i = 0; i < n; i++) values[i] /= sigma;

  return {
    n,
    values,
    ...(Z ? { vectors: Z } : {}),
    method: vectors ? "householder-tridiagonal + implicit QL/QR (dsteqr)" : "householder-tridiagonal + root-free QL/QR (dsterf)",
    threads: T.threads,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** dsyev's scaling: the factor that brings max |a_ij| = anrm into [RMIN, RMAX] (1 if it is). */
function safeScale(anrm: number): number {
  if (anrm > 0 && anrm < RMIN) return RMIN / anrm;
  if (anrm > RMAX) return RMAX / anrm;
  return 1;
}

// Kernels that helper threads may run, by index (one team of workers serves every phase).
const TEAM_KEY = "curvlab-eigh";
const KERNELS = [fusedRows, applyRotations, formQAccumulate, formQUpdate, wasmTeamKernel];
const K_FUSED = 0, K_ROTATE = 1, K_ACCUMULATE = 2, K_UPDATE = 3, K_WASM = 4;
/** From this n on, the blocked WebAssembly reduction (below it the unblocked one is as fast). */
const MIN_BLOCKED_N = 96;

/** Blocked reduction on the workspace, split across `threads` threads where possible. */
function reduceBlocked(ws: BlockedWorkspace, threads: number): Tridiagonal & { threads: number } {
  if (threads > 1) {
    const session = openSession(TEAM_KEY, KERNELS, Array.from({ length: threads - 1 }, () => [ws.memory, ws.module]));
    if (session) {
      try {
        return { ...blockedTridiagonalize(ws, teamBlockedRunner(ws, session, K_WASM)), threads };
      } finally {
        session.close();
      }
    }
  }
  return { ...blockedTridiagonalize(ws), threads: 1 };
}

/** Below this many rotation-row updates a sweep is applied by the calling thread alone. */
const MIN_ROTATION_WORK = 100_000;

/** Householder reduction, split across `threads` threads where possible. */
function reduce(P: Float64Array, n: number, threads: number): Tridiagonal & { threads: number } {
  if (threads > 1) {
    const X = Array.from({ length: threads }, () => sharedFloat64(4 * n));
    const session = openSession(TEAM_KEY, KERNELS, X.slice(1).map((x) => [P, x, X[0]]));
    if (session) {
      try {
        return { ...tridiagonalize(P, n, teamPassRunner(P, n, X, session, K_FUSED)), threads };
      } finally {
        session.close();
      }
    }
  }
  return { ...tridiagonalize(P, n, serialRunner(P, n)), threads: 1 };
}

/** Forms Q into Z and runs implicit QL/QR on (T.d, T.e) with its rotations applied to Z. */
function vectorsPhase(P: Float64Array, T: Tridiagonal, n: number, Z: Float64Array, threads: number): void {
  const shared = Z.buffer instanceof SharedArrayBuffer && P.buffer instanceof SharedArrayBuffer;
  if (threads > 1 && shared) {
    const z = Array.from({ length: threads }, () => sharedFloat64(n));
    const cs = sharedFloat64(2 * n);
    // Helper h: [P, Z, z_h, z_0, cs].
    const session = openSession(TEAM_KEY, KERNELS, z.slice(1).map((zh) => [P, Z, zh, z[0], cs]));
    if (session) {
      try {
        formQ(P, T.tau, n, Z, { session, z, accumulate: K_ACCUMULATE, update: K_UPDATE });
        const args: TeamArg[][] = Array.from({ length: threads - 1 }, () => [{ array: 1 }, { array: 4 }, n, 0, 0, 0]);
        const chunks = Math.min(4 * threads, Math.floor(n / 8));
        const b = Array.from({ length: chunks + 1 }, (_, h) => 4 * Math.round((n * h) / chunks / 4));
        b[chunks] = n;
        const chooser = new ModeChooser();
        const apply: RotationApplier = (c, lo, hi, backward) => {
          const work = n * (hi - lo);
          const big = work >= MIN_ROTATION_WORK;
          const team = big && chooser.useTeam();
          const t0 = performance.now();
          if (team) {
            for (const a of args) {
              a[3] = lo; a[4] = hi; a[5] = backward ? 1 : 0;
            }
            session.run(K_ROTATE, args, b, chunks, (r0, r1) => applyRotations(Z, c, n, lo, hi, backward, r0, r1));
          } else {
            applyRotations(Z, c, n, lo, hi, backward, 0, n);
          }
          if (big) chooser.record(team, performance.now() - t0, work);
        };
        tridiagonalEigen(T.d, T.e, Z, apply, cs);
        return;
      } finally {
        session.close();
      }
    }
  }
  formQ(P, T.tau, n, Z);
  tridiagonalEigen(T.d, T.e, Z);
}

/** Checks A is a finite square matrix; returns n. */
function checkMatrix(A: DenseMatrix): number {
  if (typeof A !== "object" || A === null) throw new InputError("eigh: A", "expected a matrix { n, data }");
  const { n, data } = A;
  if (!Number.isInteger(n) || n < 0) throw new InputError("eigh: A", `n must be a non-negative integer, got ${String(n)}`);
  if (!(data instanceof Float64Array)) throw new InputError("eigh: A", "data must be a Float64Array (row-major n x n)");
  if (data.length !== n * n) {
    throw new InputError("eigh: A", `expected a square ${n} x ${n} matrix (${n * n} entries), got ${data.length} entries`);
  }
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x - x !== 0) {
      throw new InputError("eigh: A", `entry (${Math.floor(i / n)}, ${i % n}) is ${x}; expected finite numbers`);
    }
  }
  return n;
}

function checkOptions(o: EighOptions): { vectors: boolean; overwrite: boolean; threads: number | undefined } {
  if (typeof o !== "object" || o === null) throw new InputError("eigh: options", "expected an object");
  const known = new Set(["vectors", "overwrite", "threads"]);
  for (const k of Object.keys(o)) {
    if (!known.has(k)) throw new InputError("eigh: options", `unknown option "${k}" (expected vectors, overwrite, threads)`);
  }
  for (const k of ["vectors", "overwrite"] as const) {
    if (o[k] !== undefined && typeof o[k] !== "boolean") throw new InputError(`eigh: options.${k}`, `expected true or false, got ${String(o[k])}`);
  }
  if (o.threads !== undefined && (!Number.isInteger(o.threads) || o.threads < 1)) {
    throw new InputError("eigh: options.threads", `expected a positive integer, got ${String(o.threads)}`);
  }
  return { vectors: o.vectors ?? false, overwrite: o.overwrite ?? false, threads: o.threads };
}

function chooseThreads(n: number, requested: number | undefined): number {
  if (n < 8 || !teamsAvailable()) return 1; // too small to split even when asked
  if (requested !== undefined) return requested;
  if (n < EIGH_THREADS_MIN_N) return 1;
  return Math.min(DEFAULT_MAX_THREADS, hardwareThreads());
}

