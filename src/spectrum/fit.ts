/**
 * Fits of measured curves: a power law y = c x^s by least squares on log y against log x (with
 * R^2 on the log scale), and Spearman's rank correlation (ties get their mean rank). Both need
 * at least two points; the power law only positive ones.
 */
import { InputError } from "../errors.ts";

export interface PowerLawFit {
  /** Exponent s of y = c x^s. */
  readonly slope: number;
  /** c. */
  readonly coefficient: number;
  /** R^2 of the straight line on log-log axes (1 = exact). */
  readonly r2: number;
  readonly points: number;
}

export function powerLawFit(x: readonly number[], y: readonly number[]): PowerLawFit {
  if (x.length !== y.length) throw new InputError("power law fit", `expected as many x as y, got ${x.length} and ${y.length}`);
  if (x.length < 2) throw new InputError("power law fit", `expected at least two points, got ${x.length}`);
  if (x.some((v) => !(v > 0)) || y.some((v) => !(v > 0))) throw new InputError("power law fit", "expected positive, finite x and y");
  const lx = x.map(Math.log), ly = y.map(Math.log);
  const n = x.length;
  const mx = lx.reduce((a, b) => a + b, 0) / n, my = ly.reduce((a, b) => a + b, 0) / n;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (lx[i] - mx) ** 2;
    sxy += (lx[i] - mx) * (ly[i] - my);
    syy += (ly[i] - my) ** 2;
  }
  if (sxx === 0) throw new InputError("power law fit", "expected at least two distinct x");
  const slope = sxy / sxx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { slope, coefficient: Math.exp(my - slope * mx), r2, points: n };
}

function ranks(v: readonly number[]): number[] {
  const order = v.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(v.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman's rank correlation of x and y, in [-1, 1]; NaN when either is constant. */
export function spearman(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length || x.length < 2) throw new InputError("rank correlation", `expected two equal lists of at least two values, got ${x.length} and ${y.length}`);
  const rx = ranks(x), ry = ranks(y);
  const n = x.length, m = (n + 1) / 2;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (rx[i] - m) * (ry[i] - m);
    sxx += (rx[i] - m) ** 2;
    syy += (ry[i] - m) ** 2;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}
