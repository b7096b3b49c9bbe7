/**
 * Random projections z (d) -> P z (D) for training in a random subspace, theta = theta0 + P z
 * (Li, Farkhoor, Liu, Yosinski 2018, "Measuring the Intrinsic Dimension of Objective
 * Landscapes"). P is a fixed, seeded D x d matrix that is never written out unless small; the
 * projection is a pure device function of z (and of P's device constants), so it runs inside
 * `jit` and `grad`: the gradient with respect to z is P^T g, by autodiff through the same ops.
 *
 * Three kinds:
 * - "dense": Gaussian entries, each COLUMN normalized to unit norm (as in Li et al.'s code).
 *   Stored as a [D, d] matrix; P z is one matmul (2 D d flops, P^T g the same backwards).
 * - "sparse": very sparse random projections (Li, Hastie, Church 2006, "Very Sparse Random
 *   Projections"): entry (i, j) is nonzero with probability 1/s, s = sqrt(D) (density
 *   1/sqrt(D)), with a random sign; each column is then scaled to unit norm, so every nonzero of
 *   column j is +-1/sqrt(nnz_j) (a column the draw left empty gets one nonzero at a uniformly
 *   drawn row). Stored by rows, padded to the longest row (ELL): P z is a gather of z, a
 *   multiply and a row sum (its gradient a scatter-add); about d sqrt(D) nonzeros.
 * - "fastfood": Fastfood (Le, Sarlos, Smola 2013, "Fastfood: Approximating Kernel Expansions in
 *   Loglinear Time") as Li et al.'s code uses it: L = 2^ceil(log2 max(d, D)), z is zero-padded to
 *   L, and  P z = (H G Pi H B pad(z))[0:D] / sqrt(D sum_i G_i^2),  with H the unnormalized L x L
 *   Walsh-Hadamard matrix (+-1 entries, Sylvester order), B diagonal random signs, Pi a random
 *   permutation ((Pi v)_i = v[perm_i]), G diagonal standard Gaussians. (Li et al. divide by
 *   sqrt(L sum G^2) sqrt(D/L), which is the same number.) One block suffices since L >= d, so
 *   Fastfood's stacking of blocks (and its chi-distributed S, which Li et al. replace by this
 *   normalization) is not needed. Stores 3L numbers; P z costs two fast Walsh-Hadamard transforms
 *   (log2 L butterfly stages, merged six at a time into 64 x 64 Hadamard products, `fwht`
 *   below), O(L log L).
 *
 * What is kept of ||z|| (for any fixed z; expectations over the random draw of P):
 * - all three kinds: E ||P z||^2 = ||z||^2 exactly. Dense and sparse: the columns have unit norm
 *   and the signs of distinct columns are independent and symmetric, so the cross terms vanish
 *   in expectation. Fastfood: flipping the sign of G_i leaves the normalization unchanged, so
 *   E[(P z)_k^2] = sum_i G_i^2 (Pi H B z)_i^2 / (D sum G^2) averages over Pi to ||z||^2 / D for
 *   every row k (||H B z||^2 = L ||z||^2).
 * - dense and sparse also have ||P e_j|| = 1 exactly (unit columns); their columns are nearly
 *   orthogonal when d << D, so ||P z|| / ||z|| = 1 + O(sqrt(d / D)) for a single draw.
 * P is not orthonormal: ||P z|| = ||z|| is not exact for a single draw.
 *
 * Choice ("auto"): dense while D d <= AUTO_DENSE_LIMIT = 2^20 entries (4 MiB in float32),
 * fastfood beyond (3L numbers, whatever d). Measured on Wasm (2 shared cores, MNIST MLP
 * 784-32-10, D = 25,450, 360 steps of batch 64): a dense P at d = 100 (2.5M entries) made the run
 * take 7.5 s, Fastfood at d = 200 3.3 s; at D = 50,890 (48 steps), dense d = 400 took 24 s
 * against 3 s with Fastfood (the dense product is memory-bound, and drawing D d normals on the
 * host is not free). Below about a million entries the dense matmul is as cheap as the two
 * transforms and exact to construct. An
 * explicitly asked dense P may hold up to DENSE_MAX_ENTRIES = 2^26 entries (256 MiB in float32).
 *
 * Engine caveat (jax-js 0.1.25): under `jit`, a CONSTANT cotangent reaching the gather of the
 * sparse and Fastfood projections (e.g. the gradient of sum(P z) itself) makes jit throw "scatter
 * input is not imm" or, after Fastfood's diagonals, return wrong numbers (eager is right). A loss
 * of a model at theta0 + P z always sends a data-dependent cotangent, and the tests check those
 * gradients against P^T grad L from the dense P.
 *
 * Seeding: all randomness is drawn on the host with hostRng(seed) (the same P on every device
 * and dtype): dense draws column after column, D normals each; sparse draws per column the
 * nonzero rows (geometric gaps) and their signs; fastfood draws B, then Pi (Fisher-Yates), then G.
 */
import { numpy as np, type Array } from "../engine/jax.ts";
import { toDType, type DTypeName } from "../engine/dtype.ts";
import { hostRng } from "../engine/host-rng.ts";
import { InputError, optionError } from "../errors.ts";

export type ProjectionKind = "dense" | "sparse" | "fastfood";
export type ProjectionName = ProjectionKind | "auto";
export const PROJECTIONS: readonly ProjectionName[] = ["auto", "dense", "sparse", "fastfood"];

/** "auto" picks dense up to this many entries D d, fastfood beyond (module comment). */
export const AUTO_DENSE_LIMIT = 2 ** 20;
/** The largest dense P made on request (entries D d). */
export const DENSE_MAX_ENTRIES = 2 ** 26;

export interface ProjectionOptions {
  /** Default "auto". */
  readonly kind?: ProjectionName;
  /** Default 0. */
  readonly seed?: number;
  /** Arithmetic of P's device constants and of P z (default "float32"). */
  readonly dtype?: DTypeName;
}

/** What a projection records (JSON). */
export interface ProjectionSettings {
  readonly kind: ProjectionKind;
  /** What was asked ("auto" or the kind). */
  readonly requested: ProjectionName;
  /** Subspace dimension. */
  readonly d: number;
  /** Parameter-space dimension. */
  readonly D: number;
  readonly seed: number;
  readonly dtype: DTypeName;
  /** Numbers held on the device for P. */
  readonly storedNumbers: number;
  /** Fastfood: the padded length L = 2^ceil(log2 max(d, D)). */
  readonly fastfoodLength?: number;
  /** Sparse: 1/density s = sqrt(D), nonzeros, and the longest row (ELL width). */
  readonly sparse?: { readonly s: number; readonly nonzeros: number; readonly rowWidth: number };
  /** What is preserved, in words (the module comment's). */
  readonly norm: string;
}

export interface Projection {
  readonly settings: ProjectionSettings;
  readonly kind: ProjectionKind;
  readonly d: number;
  readonly D: number;
  /**
   * P's device constants, owned by the projection. To use P inside a jitted function, pass them
   * as an argument (`params.map((p) => p.ref)`), so one trace serves every call and nothing is
   * captured as a constant.
   */
  readonly params: readonly Array[];
  /**
   * P z (shape [D]) from the constants `params` (consumed: pass `.ref`s) and z (shape [d],
   * consumed). Pure jax-js ops: usable under `jit`, `grad`, `jvp`.
   */
  project(params: readonly Array[], z: Array): Array;
  /** P z with the projection's own constants (borrowed); consumes z. */
  apply(z: Array): Array;
  dispose(): void;
}

function checkDims(d: number, D: number): void {
  if (!Number.isSafeInteger(D) || D < 1) throw new InputError("parameter count", `expected a positive integer D, got ${D}`);
  if (!Number.isSafeInteger(d) || d < 1 || d > D) {
    throw optionError("dims", `expected a subspace dimension d in 1..${D} (the parameter count), got ${d}`);
  }
}

/** The kind "auto" resolves to for (d, D): dense while D d <= AUTO_DENSE_LIMIT, else fastfood. */
export function chooseProjection(d: number, D: number): ProjectionKind {
  return D * d <= AUTO_DENSE_LIMIT ? "dense" : "fastfood";
}

/** Parses a projection name (CLI / study settings); InputError otherwise. */
export function parseProjection(value: string, input = "projection"): ProjectionName {
  if (!(PROJECTIONS as readonly string[]).includes(value)) {
    throw optionError(input, `expected one of ${PROJECTIONS.join(", ")}, got "${value}"`);
  }
  return value as ProjectionName;
}

/** The smallest power of two >= n. */
export function nextPow2(n: number): number {
  let L = 1;
  while (L < n) L *= 2;
  return L;
}

/** Stages of the fast Walsh-Hadamard transform merged into one small matmul by default (fwht). */
export const FWHT_RADIX = 6;

const hadamardCache = new Map<number, Float64Array>();

/** The unnormalized n x n Sylvester Hadamard matrix (row-major), H_ij = (-1)^popcount(i & j). */
export function hadamardMatrix(n: number): Float64Array {
  let H = hadamardCache.get(n);
  if (!H) {
    H = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let b = i & j, p = 0;
        while (b) p ^= b & 1, b >>>= 1;
        H[i * n + j] = p ? -1 : 1;
      }
    }
    hadamardCache.set(n, H);
  }
  return H;
}

/**
 * Fast Walsh-Hadamard transform along the last axis (length L a power of two), unnormalized:
 * y = H x with H_ij = (-1)^popcount(i & j) (Sylvester order; H H = L I). All jax-js ops, so it
 * runs under jit and differentiates (H is symmetric: the gradient is the same transform).
 *
 * H_L = H_2 (x) H_2 (x) ... (x) H_2 (log2 L Kronecker factors), so the transform is log2 L
 * butterfly stages. `radix` r merges r consecutive stages into one product with the small
 * 2^r x 2^r Hadamard matrix: x is viewed as [pre, 2^r, post] and multiplied by H_{2^r} along the
 * middle axis (a batched matmul). radix 1 is the textbook butterfly (reshape to [pre, 2, post],
 * then (a + b, a - b)); it costs log2 L elementwise passes but each is a few small kernels. On
 * Wasm (L = 65,536, float32, 2 threads) radix 6 took about 6 ms per transform, radix 1 about 16 ms
 * and one 256 x 256 two-matmul split about 8 ms, forward or backward: radix 6 is the default
 * (FWHT_RADIX). Consumes x.
 */
export function fwht(x: Array, radix: number = FWHT_RADIX): Array {
  const shape = x.shape;
  const L = shape[shape.length - 1]!;
  if (L < 1 || (L & (L - 1)) !== 0) throw new Error(`fwht: the last axis must be a power of two, got ${L}`);
  if (!Number.isSafeInteger(radix) || radix < 1) throw new Error(`fwht: radix must be a positive integer, got ${radix}`);
  const lead = shape.slice(0, -1);
  const k = Math.round(Math.log2(L));
  let y = x;
  let pre = 1;
  for (let done = 0; done < k; ) {
    const r = Math.min(radix, k - done);
    const n = 2 ** r;
    const post = L / (pre * n);
    const v = y.reshape([...lead, pre, n, post]);
    if (n === 2) {
      const full = lead.map((m) => [0, m] as [number, number]);
      const a = v.ref.slice(...full, [0, pre], [0, 1], [0, post]);
      const b = v.slice(...full, [0, pre], [1, 2], [0, post]);
      y = np.concatenate([a.ref.add(b.ref), a.sub(b)], lead.length + 1).reshape([...lead, L]);
    } else {
      // The matrix gets as many leading axes as v: jax-js 0.1.25 mis-broadcasts matmul of a
      // 2-D matrix with a 3-D batch (the batch comes out transposed).
      const Hh = hadamardMatrix(n);
      const H = np.array(x.dtype === np.float64 ? Hh : Float32Array.from(Hh), { dtype: x.dtype }).reshape([...lead.map(() => 1), 1, n, n]);
      y = np.matmul(H, v).reshape([...lead, L]);
    }
    pre *= n;
    done += r;
  }
  return y;
}

/** Fastfood's random pieces for (d, D, seed), on the host (drawn in this order: B, Pi, G). */
export interface FastfoodParameters {
  readonly L: number;
  /** B: +-1, length L. */
  readonly signs: Float64Array;
  /** Pi: (Pi v)_i = v[perm_i], a permutation of 0..L-1. */
  readonly perm: Int32Array;
  /** G: standard normals, length L. */
  readonly gauss: Float64Array;
  /** 1 / sqrt(D sum G^2). */
  readonly scale: number;
}

export function fastfoodParameters(d: number, D: number, seed: number): FastfoodParameters {
  checkDims(d, D);
  const L = nextPow2(Math.max(d, D));
  const rng = hostRng(seed);
  const signs = new Float64Array(L);
  for (let i = 0; i < L; i++) signs[i] = rng.sign();
  const perm = new Int32Array(L);
  for (let i = 0; i < L; i++) perm[i] = i;
  for (let i = L - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  const gauss = new Float64Array(L);
  let sq = 0;
  for (let i = 0; i < L; i++) {
    gauss[i] = rng.normal();
    sq += gauss[i]! * gauss[i]!;
  }
  return { L, signs, perm, gauss, scale: 1 / Math.sqrt(D * sq) };
}

/** Dense P (row-major D x d, unit columns) for (d, D, seed), on the host. */
export function denseProjectionMatrix(d: number, D: number, seed: number): Float64Array {
  checkDims(d, D);
  if (D * d > DENSE_MAX_ENTRIES) {
    throw optionError("projection", `a dense ${D} x ${d} projection has ${D * d} entries, over the limit ${DENSE_MAX_ENTRIES}; use fastfood or sparse`);
  }
  const rng = hostRng(seed);
  const P = new Float64Array(D * d);
  const col = new Float64Array(D);
  for (let j = 0; j < d; j++) {
    let sq = 0;
    for (let i = 0; i < D; i++) {
      col[i] = rng.normal();
      sq += col[i]! * col[i]!;
    }
    const inv = 1 / Math.sqrt(sq);
    for (let i = 0; i < D; i++) P[i * d + j] = col[i]! * inv;
  }
  return P;
}

/** Sparse P in row-padded (ELL) form: row i holds cols[i*w .. i*w+w) with values vals (0 = padding). */
export interface SparseProjectionMatrix {
  readonly s: number;
  readonly rowWidth: number;
  readonly nonzeros: number;
  readonly cols: Int32Array;
  readonly vals: Float64Array;
}

export function sparseProjectionMatrix(d: number, D: number, seed: number): SparseProjectionMatrix {
  checkDims(d, D);
  const rng = hostRng(seed);
  const s = Math.sqrt(D);
  const p = 1 / s;
  const logq = Math.log1p(-p); // -Infinity when p = 1 (D = 1): every entry is nonzero
  const rowsOf: Int32Array[] = [];
  const signsOf: Float64Array[] = [];
  const rowCount = new Int32Array(D);
  let nonzeros = 0;
  for (let j = 0; j < d; j++) {
    const rows: number[] = [];
    const signs: number[] = [];
    // Nonzero rows of column j: gaps between successes of Bernoulli(p) trials are geometric.
    for (let r = -1; ;) {
      let u = rng.uniform();
      while (u === 0) u = rng.uniform();
      r += 1 + (p >= 1 ? 0 : Math.floor(Math.log(u) / logq));
      if (r >= D) break;
      rows.push(r);
      signs.push(rng.sign());
    }
    if (rows.length === 0) {
      rows.push(rng.int(D));
      signs.push(rng.sign());
    }
    const inv = 1 / Math.sqrt(rows.length);
    rowsOf.push(Int32Array.from(rows));
    signsOf.push(Float64Array.from(signs, (v) => v * inv));
    for (const r of rows) rowCount[r]++;
    nonzeros += rows.length;
  }
  let w = 1;
  for (let i = 0; i < D; i++) w = Math.max(w, rowCount[i]!);
  const cols = new Int32Array(D * w);
  const vals = new Float64Array(D * w);
  const fill = new Int32Array(D);
  for (let j = 0; j < d; j++) {
    const rows = rowsOf[j]!, v = signsOf[j]!;
    for (let t = 0; t < rows.length; t++) {
      const r = rows[t]!;
      const at = r * w + fill[r]!++;
      cols[at] = j;
      vals[at] = v[t]!;
    }
  }
  return { s, rowWidth: w, nonzeros, cols, vals };
}

const NORM_TEXT: Record<ProjectionKind, string> = {
  dense: "unit-norm columns (||P e_j|| = 1 exactly); E||Pz||^2 = ||z||^2 over the draw",
  sparse: "unit-norm columns (||P e_j|| = 1 exactly); E||Pz||^2 = ||z||^2 over the draw",
  fastfood: "E||Pz||^2 = ||z||^2 over the draw (Li et al.'s normalization 1/sqrt(D sum G^2))",
};

/** A seeded projection from R^d to R^D (module comment). */
export function makeProjection(d: number, D: number, opts: ProjectionOptions = {}): Projection {
  checkDims(d, D);
  const requested = opts.kind ?? "auto";
  parseProjection(requested);
  const seed = opts.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw optionError("seed", `expected an integer >= 0, got ${seed}`);
  const dtypeName = opts.dtype ?? "float32";
  const dtype = toDType(dtypeName);
  const kind: ProjectionKind = requested === "auto" ? chooseProjection(d, D) : requested;
  const floats = (a: Float64Array) => np.array(dtypeName === "float64" ? a : Float32Array.from(a), { dtype });
  const base = { kind, requested, d, D, seed, dtype: dtypeName, norm: NORM_TEXT[kind] };

  let params: Array[];
  let settings: ProjectionSettings;
  let project: (params: readonly Array[], z: Array) => Array;
  if (kind === "dense") {
    params = [floats(denseProjectionMatrix(d, D, seed)).reshape([D, d])];
    settings = { ...base, storedNumbers: D * d };
    project = ([P], z) => np.matmul(P!, z.reshape([d, 1])).reshape([D]);
  } else if (kind === "sparse") {
    const m = sparseProjectionMatrix(d, D, seed);
    const w = m.rowWidth;
    params = [np.array(m.cols, { dtype: np.int32 }).reshape([D, w]), floats(m.vals).reshape([D, w])];
    settings = { ...base, storedNumbers: 2 * D * w, sparse: { s: m.s, nonzeros: m.nonzeros, rowWidth: w } };
    project = ([cols, vals], z) => np.take(z, cols!).mul(vals!).sum(1);
  } else {
    const f = fastfoodParameters(d, D, seed);
    const L = f.L;
    // G and the normalization folded into one diagonal.
    const gs = Float64Array.from(f.gauss, (g) => g * f.scale);
    params = [floats(f.signs), np.array(f.perm, { dtype: np.int32 }), floats(gs)];
    settings = { ...base, storedNumbers: 3 * L, fastfoodLength: L };
    project = ([signs, perm, g], z) => {
      const padded = L > d ? np.concatenate([z, np.zeros([L - d], { dtype: z.dtype })], 0) : z;
      const u = fwht(padded.mul(signs!));
      const v = fwht(np.take(u, perm!).mul(g!));
      return D < L ? v.slice([0, D]) : v;
    };
  }
  return {
    settings,
    kind,
    d,
    D,
    params,
    project,
    apply: (z) => project(params.map((p) => p.ref), z),
    dispose() {
      for (const p of params) if (p.refCount > 0) p.dispose();
    },
  };
}
