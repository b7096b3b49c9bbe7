/**
 * Weight matching: Ainsworth, Hayase & Srinivasa (2023), "Git Re-Basin: Merging Models modulo
 * Permutation Symmetries" (section 3.2, algorithm 1). Permuting the hidden units of an MLP (rows
 * of the layer into them, entries of its bias, columns of the layer out of them) leaves its
 * function unchanged; two independently trained networks are compared, interpolated or merged
 * after permuting B's hidden units to best match A's: maximize sum over all weights of
 * <W_A, P W_B> over the permutations P, i.e. minimize ||theta_A - P theta_B|| (||P theta_B|| =
 * ||theta_B||, so the two objectives are the same).
 *
 * The joint problem is NP-hard; the paper's coordinate descent solves it one hidden layer at a
 * time: with the other layers' permutations fixed, the terms that involve layer h's permutation
 * (incoming weights under the previous layer's permutation, bias, outgoing weights under the
 * next layer's) form a linear assignment problem, solved exactly (`maximizeAssignment`, the
 * Hungarian method with potentials, O(n^3)). Layers are visited in a random order (seeded) per
 * sweep until a sweep improves nothing. Two starts (see matchWeights): the identity, as in the
 * paper, and a forward pass layer by layer on the incoming weights; the better end is kept.
 *
 * Guarantee: a layer's new permutation is accepted only when it raises the objective by more than
 * rounding (relative 1e-12), so <theta_A, P theta_B> never decreases and the L2 distance never
 * increases; the loop stops. Entezari et al. (2022) conjecture that with such an alignment SGD
 * solutions of wide enough networks have no barrier on the line between them.
 *
 * Models: MLPs (nn/mlp.ts, PyTorch Sequential layout "0.weight" [out, in], "0.bias", "2.weight",
 * ...; any elementwise activation; with or without bias). Anything else is an InputError naming
 * --match.
 *
 * Permutation convention: perms[h][i] = the index in B of the unit that becomes unit i of hidden
 * layer h (h = 0 is the output of the first Linear layer); permuteHiddenUnits applies it.
 */
import { InputError, optionError } from "../errors.ts";
import { hostRng } from "../engine/host-rng.ts";
import type { Model } from "../nn/model.ts";
import type { ParamSpec } from "../tree/layout.ts";

interface LinearLayer {
  readonly weight: ParamSpec;
  readonly bias: ParamSpec | null;
  readonly out: number;
  readonly in: number;
}

/** The Linear layers of an MLP, in order; an InputError naming --match for anything else. */
export function mlpLayers(model: Pick<Model, "spec" | "layout">, input = "match"): LinearLayer[] {
  const bad = (why: string) => optionError(input, `weight matching needs an MLP (mlp:...), got "${model.spec}": ${why}`);
  if (!model.spec.trim().startsWith("mlp:")) throw bad("not an MLP");
  const byName = new Map(model.layout.map((p) => [p.name, p]));
  const layers: LinearLayer[] = [];
  for (let l = 0; byName.has(`${2 * l}.weight`); l++) {
    const weight = byName.get(`${2 * l}.weight`)!;
    const bias = byName.get(`${2 * l}.bias`) ?? null;
    if (weight.shape.length !== 2) throw bad(`"${weight.name}" is not a matrix`);
    const [out, inn] = weight.shape;
    if (bias && (bias.shape.length !== 1 || bias.shape[0] !== out)) throw bad(`"${bias.name}" does not match "${weight.name}"`);
    if (layers.length && layers[layers.length - 1].out !== inn) throw bad(`"${weight.name}" does not take the previous layer's outputs`);
    layers.push({ weight, bias, out, in: inn });
  }
  const covered = layers.reduce((n, l) => n + 1 + (l.bias ? 1 : 0), 0);
  if (layers.length === 0 || covered !== model.layout.length) throw bad("its parameters are not a chain of Linear layers");
  return layers;
}

/** Widths of the hidden layers (the permutable ones). */
export function hiddenWidths(model: Pick<Model, "spec" | "layout">): number[] {
  return mlpLayers(model).slice(0, -1).map((l) => l.out);
}

/**
 * Linear assignment: the permutation p maximizing sum_i scores[i, p[i]] of a square n x n matrix
 * (row-major), by the Hungarian method with potentials (Kuhn 1955, Munkres 1957; the O(n^3)
 * shortest-augmenting-path form, as in Jonker & Volgenant 1987). Returns p[i] = the column of
 * row i.
 */
export function maximizeAssignment(scores: ArrayLike<number>, n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || scores.length !== n * n) throw new Error(`maximizeAssignment: expected ${n} x ${n} scores, got ${scores.length}`);
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) throw new Error(`maximizeAssignment: score ${i} is not finite (${scores[i]})`);
  }
  // Minimize cost = -score; 1-based arrays with a virtual column 0.
  const u = new Float64Array(n + 1), v = new Float64Array(n + 1);
  const rowOf = new Int32Array(n + 1), way = new Int32Array(n + 1);
  const minv = new Float64Array(n + 1);
  const used = new Uint8Array(n + 1);
  for (let i = 1; i <= n; i++) {
    rowOf[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = rowOf[j0];
      let delta = Infinity, j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = -scores[(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
        if (minv[j] < delta) { delta = minv[j]; j1 = j; }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) { u[rowOf[j]] += delta; v[j] -= delta; }
        else minv[j] -= delta;
      }
      j0 = j1;
    } while (rowOf[j0] !== 0);
    do {
      const j1 = way[j0];
      rowOf[j0] = rowOf[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const p = new Array<number>(n);
  for (let j = 1; j <= n; j++) p[rowOf[j] - 1] = j - 1;
  return p;
}

function checkPerms(layers: readonly LinearLayer[], perms: readonly (readonly number[])[]): void {
  if (perms.length !== layers.length - 1) throw new InputError("perms", `expected ${layers.length - 1} permutations (one per hidden layer), got ${perms.length}`);
  perms.forEach((p, h) => {
    const n = layers[h].out;
    const seen = new Uint8Array(n);
    if (p.length !== n) throw new InputError("perms", `hidden layer ${h}: expected a permutation of ${n} units, got ${p.length} entries`);
    for (const j of p) {
      if (!Number.isInteger(j) || j < 0 || j >= n || seen[j]) throw new InputError("perms", `hidden layer ${h}: not a permutation of 0..${n - 1}`);
      seen[j] = 1;
    }
  });
}

/**
 * theta with the hidden units permuted: layer l's weight W'[i, k] = W[pout[i], pin[k]], bias
 * b'[i] = b[pout[i]], where pin / pout are the permutations of its input / output units (the
 * identity for the network's inputs and outputs). The network computes the same function.
 */
export function permuteHiddenUnits(model: Pick<Model, "spec" | "layout" | "size">, theta: ArrayLike<number>, perms: readonly (readonly number[])[]): Float64Array {
  const layers = mlpLayers(model);
  checkPerms(layers, perms);
  if (theta.length !== model.size) throw new InputError("theta", `expected ${model.size} parameters for "${model.spec}", got ${theta.length}`);
  const out = Float64Array.from(theta);
  layers.forEach((layer, l) => {
    const pin = l > 0 ? perms[l - 1] : null, pout = l < layers.length - 1 ? perms[l] : null;
    const w = layer.weight.offset;
    for (let i = 0; i < layer.out; i++) {
      const si = pout ? pout[i] : i;
      for (let k = 0; k < layer.in; k++) out[w + i * layer.in + k] = theta[w + si * layer.in + (pin ? pin[k] : k)];
    }
    if (layer.bias) {
      const b = layer.bias.offset;
      for (let i = 0; i < layer.out; i++) out[b + i] = theta[b + (pout ? pout[i] : i)];
    }
  });
  return out;
}

export interface WeightMatchingOptions {
  /** Seeds the order in which layers are visited in each sweep (default 0). */
  readonly seed?: number;
  /** Most sweeps over the layers per start (default 100; the paper's loop usually stops within a few). */
  readonly maxIterations?: number;
}

export interface WeightMatchingResult {
  readonly model: string;
  /** perms[h][i] = the unit of B's hidden layer h that becomes unit i (see the module comment). */
  readonly perms: readonly (readonly number[])[];
  /** ||theta_A - theta_B|| before and ||theta_A - P theta_B|| after. */
  readonly distanceBefore: number;
  readonly distanceAfter: number;
  /** <theta_A, theta_B> before and <theta_A, P theta_B> after (the maximized objective). */
  readonly innerBefore: number;
  readonly innerAfter: number;
  /** Sweeps over the layers, both starts together (each descent's last sweep improves nothing when converged). */
  readonly iterations: number;
  /** Linear assignment problems solved. */
  readonly assignments: number;
  /** True when both descents ended on a sweep that improved nothing, before maxIterations. */
  readonly converged: boolean;
  readonly seconds: number;
  /** Which start the kept permutations descend from. */
  readonly start: "identity" | "forward";
  readonly settings: { readonly seed: number; readonly maxIterations: number; readonly hiddenWidths: readonly number[]; readonly starts: readonly string[] };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const dist = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
};

/** Permutations of B's hidden units that best match A's; see the module comment. */
export function matchWeights(
  model: Pick<Model, "spec" | "layout" | "size">,
  thetaA: ArrayLike<number>,
  thetaB: ArrayLike<number>,
  opts: WeightMatchingOptions = {},
): WeightMatchingResult {
  const t0 = performance.now();
  const seed = opts.seed ?? 0, maxIterations = opts.maxIterations ?? 100;
  if (!Number.isInteger(maxIterations) || maxIterations < 1) throw new Error(`matchWeights: maxIterations must be a positive integer, got ${maxIterations}`);
  const layers = mlpLayers(model);
  for (const [name, t] of [["theta A", thetaA], ["theta B", thetaB]] as const) {
    if (t.length !== model.size) throw new InputError(name, `expected ${model.size} parameters for "${model.spec}", got ${t.length}`);
  }
  const A = thetaA, B = thetaB;
  const hidden = layers.slice(0, -1).map((l) => l.out);
  let perms: number[][] = hidden.map((n) => Array.from({ length: n }, (_, i) => i));
  const rng = hostRng(seed);

  // The scores of hidden layer h: C[i, j] = what the objective gains from B's unit j at A's unit i.
  const scoresOf = (h: number, outgoing = true): Float64Array => {
    const n = hidden[h];
    const C = new Float64Array(n * n);
    const inc = layers[h], outl = layers[h + 1];
    const pin = h > 0 ? perms[h - 1] : null, pout = h + 1 < hidden.length ? perms[h + 1] : null;
    const wi = inc.weight.offset, m = inc.in;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < m; k++) s += A[wi + i * m + k] * B[wi + j * m + (pin ? pin[k] : k)];
        if (inc.bias) s += A[inc.bias.offset + i] * B[inc.bias.offset + j];
        C[i * n + j] = s;
      }
    }
    if (!outgoing) return C;
    const wo = outl.weight.offset, r = outl.out;
    for (let q = 0; q < r; q++) {
      const qb = pout ? pout[q] : q;
      for (let i = 0; i < n; i++) {
        const a = A[wo + q * n + i];
        if (a === 0) continue;
        for (let j = 0; j < n; j++) C[i * n + j] += a * B[wo + qb * n + j];
      }
    }
    return C;
  };

  // The coordinate descent of the paper from a start; only improving moves are taken.
  let assignments = 0;
  const descend = (start: number[][]) => {
    perms = start.map((p) => [...p]);
    let iterations = 0, converged = false;
    while (iterations < maxIterations) {
      iterations++;
      const order = hidden.map((_, h) => h);
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      let improved = false;
      for (const h of order) {
        const n = hidden[h];
        const C = scoresOf(h);
        const p = maximizeAssignment(C, n);
        assignments++;
        let oldValue = 0, newValue = 0;
        for (let i = 0; i < n; i++) { oldValue += C[i * n + perms[h][i]]; newValue += C[i * n + p[i]]; }
        // Only a gain beyond rounding counts: ties and noise would cycle forever.
        if (newValue - oldValue > 1e-12 * (Math.abs(oldValue) + Math.abs(newValue))) {
          perms[h] = p;
          improved = true;
        }
      }
      if (!improved) { converged = true; break; }
    }
    return { perms, iterations, converged, inner: dot(A, permuteHiddenUnits(model, B, perms)) };
  };

  // Start 1, the paper's: the identity. Start 2: a forward pass matching each layer on its
  // incoming weights and bias only, under the permutation just found for the layer before (the
  // outgoing weights' permutation is unknown yet). It is exact for a permuted copy of A, where
  // coordinate descent from the identity can stall in a local optimum (measured: a 4-5-6-5-3 MLP
  // without biases). The better end of the two descents is kept, so the distance still never
  // exceeds the identity's.
  const identity = hidden.map((n) => Array.from({ length: n }, (_, i) => i));
  const fromIdentity = descend(identity);
  perms = identity.map((p) => [...p]);
  for (let h = 0; h < hidden.length; h++) {
    const n = hidden[h];
    const C = scoresOf(h, false);
    perms[h] = maximizeAssignment(C, n);
    assignments++;
  }
  const fromForward = descend(perms);
  // The forward start wins only by more than rounding; the identity's descent never ends farther
  // than theta_B itself (each accepted move gains), and a last check makes that exact.
  const forwardWins = fromForward.inner - fromIdentity.inner > 1e-12 * (Math.abs(fromForward.inner) + Math.abs(fromIdentity.inner));
  const best = forwardWins ? fromForward : fromIdentity;
  perms = best.perms;
  const distanceBefore = dist(A, B);
  let permuted = permuteHiddenUnits(model, B, perms);
  if (dist(A, permuted) > distanceBefore) {
    perms = identity;
    permuted = Float64Array.from(B);
  }
  const iterations = fromIdentity.iterations + fromForward.iterations;
  const converged = fromIdentity.converged && fromForward.converged;
  return {
    model: model.spec,
    perms,
    distanceBefore,
    distanceAfter: dist(A, permuted),
    innerBefore: dot(A, B),
    innerAfter: dot(A, permuted),
    iterations,
    assignments,
    converged,
    start: perms === identity ? "identity" : best === fromForward ? "forward" : "identity",
    seconds: (performance.now() - t0) / 1000,
    settings: { seed, maxIterations, hiddenWidths: hidden, starts: ["identity", "forward"] },
  };
}
