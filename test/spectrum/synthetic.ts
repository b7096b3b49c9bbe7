// Synthetic spectra with known structure for the spectrum readers: bulks of several shapes
// (seeded) and outliers planted at known distances from the bulk.
import { hostRng, type HostRng } from "../../src/engine/host-rng.ts";
import { eigvalsh } from "../../src/linalg/dense/eigh.ts";

export type BulkShape = "laplace" | "laplace-asym" | "spike-laplace" | "gauss" | "uniform" | "mp" | "mp-rank-deficient";
export const SHAPES: readonly BulkShape[] = ["laplace", "laplace-asym", "spike-laplace", "gauss", "uniform", "mp", "mp-rank-deficient"];

const exp = (rng: HostRng) => -Math.log(1 - rng.uniform());

/** Eigenvalues of a Wishart matrix X X^T / m, X p x m standard normal (Marchenko-Pastur bulk). */
export function wishartEigenvalues(p: number, m: number, rng: HostRng): number[] {
  const X = Float64Array.from({ length: p * m }, () => rng.normal());
  const A = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let t = 0; t < m; t++) s += X[i * m + t] * X[j * m + t];
      A[i * p + j] = A[j * p + i] = s / m;
    }
  }
  return Array.from(eigvalsh({ n: p, data: A }, { threads: 1 }));
}

/**
 * n bulk values of the given shape, times `scale`. The Hessian-like shapes: a Laplace spike at 0
 * (symmetric, or with a positive tail 3x longer than the negative one), and a spike of exact
 * zeros (60%) with Laplace tails; the random-matrix shapes: Gaussian, uniform, Marchenko-Pastur
 * (ratio 1/2), and a rank-deficient Wishart (p = 2m: half exact-ish zeros, half MP).
 */
export function bulk(shape: BulkShape, n: number, seed: number, scale = 1): number[] {
  const rng = hostRng(seed);
  const draw = (): number => {
    switch (shape) {
      case "laplace": return rng.sign() * exp(rng);
      case "laplace-asym": return rng.uniform() < 0.6 ? 3 * exp(rng) : -exp(rng);
      case "spike-laplace": return rng.uniform() < 0.6 ? 0 : rng.sign() * exp(rng);
      case "gauss": return rng.normal();
      case "uniform": return rng.uniform();
      default: throw new Error("matrix shapes are drawn below");
    }
  };
  let values: number[];
  if (shape === "mp") values = wishartEigenvalues(n, 2 * n, rng);
  else if (shape === "mp-rank-deficient") values = wishartEigenvalues(n, Math.floor(n / 2), rng);
  else values = Array.from({ length: n }, draw);
  return values.map((v) => v * scale);
}

/** Median and the largest distances above / below it (the bulk's own extent). */
export function extent(values: readonly number[]): { median: number; up: number; down: number } {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { median, up: s[n - 1] - median, down: median - s[0] };
}

/**
 * Plants q outliers above the bulk (and qNeg below), at distances from the bulk's median of
 * factor x its extent on that side, factors log-uniform in [minFactor, maxFactor]. Returns the
 * spectrum shuffled, and the planted values.
 */
export function plant(
  values: readonly number[],
  q: number,
  qNeg: number,
  seed: number,
  minFactor = 3,
  maxFactor = 100,
): { spectrum: number[]; above: number[]; below: number[] } {
  const rng = hostRng(seed + 7919);
  const { median, up: ownUp, down: ownDown } = extent(values);
  // Reach on each side: the bulk's own extent, but at least its robust scale (1.4826 MAD about
  // the median, as the split pads its distances with). A one-sided side (a rank-deficient
  // Wishart's zeros, whose lower extent is tiny next to its spread) would otherwise get its
  // "outliers" planted inside the padding, where no gap test can or should see them.
  const dev = values.map((v) => Math.abs(v - median)).sort((a, b) => a - b);
  const m = dev.length;
  const scale = 1.482602218505602 * (m % 2 ? dev[(m - 1) / 2] : (dev[m / 2 - 1] + dev[m / 2]) / 2);
  const up = Math.max(ownUp, scale);
  const down = Math.max(ownDown, scale);
  const factor = () => minFactor * (maxFactor / minFactor) ** rng.uniform();
  const above = Array.from({ length: q }, () => median + factor() * up);
  const below = Array.from({ length: qNeg }, () => median - factor() * down);
  const spectrum = [...values, ...above, ...below];
  for (let i = spectrum.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [spectrum[i], spectrum[j]] = [spectrum[j], spectrum[i]];
  }
  return { spectrum, above: above.sort((a, b) => b - a), below: below.sort((a, b) => a - b) };
}
