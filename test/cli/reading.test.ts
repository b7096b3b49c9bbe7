/**
 * The bulk / outlier reading that `curvlab hessian` prints and writes (src/cli/reading.ts), and
 * the top-K gap line of `curvlab spectrum`, on spectra with known structure.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeReading, readingOf } from "../../src/cli/reading.ts";
import { topGapLine } from "../../src/cli/spectrum.ts";

/** A bulk of n values evenly in [-0.1, 0.1] plus the given outliers. */
function spectrum(n: number, outliers: readonly number[]): number[] {
  return [...Array.from({ length: n }, (_, i) => -0.1 + (0.2 * i) / (n - 1)), ...outliers];
}

test("readingOf: two groups above clear gaps are both reported, the count is the lower one", () => {
  // 3 values near 10 over 6 values near 3 over the bulk: gaps at 3 (ratio about 3) and at 9 (about 18: distances from the center padded by the bulk's MAD).
  const r = readingOf(spectrum(400, [10, 10.1, 10.2, 3, 3.05, 3.1, 3.15, 3.2, 3.25]));
  assert.deepEqual(r.groups, [3, 9]);
  assert.equal(r.outlierCount, 9);
  assert.ok(r.gapRatio !== null && r.gapRatio > 10, `gap ${r.gapRatio}`);
  assert.match(describeReading(r), /^bulk\/outliers: 9 outliers above a gap of \d+\.\d\d \(groups at 3, 9\)/);
});

test("readingOf: an outlier-free bulk reads as one bulk, with its strongest gap", () => {
  const r = readingOf(spectrum(400, []));
  assert.equal(r.outlierCount, 0);
  assert.deepEqual(r.groups, []);
  assert.equal(r.gapRatio, null);
  assert.match(describeReading(r), /no gap of 2\.5 above the bulk \(strongest 1\.\d\d\)/);
});

test("topGapLine: the largest consecutive ratio among the top values, and whether it clears 2.5", () => {
  assert.match(topGapLine([9, 8.8, 8.7, 3, 2.9]), /after the 3rd value, ratio 2\.90 \(at least the split's 2\.5/);
  assert.match(topGapLine([5, 4.5, 4]), /after the 2nd value, ratio 1\.13 \(below the split's 2\.5/);
  assert.match(topGapLine([1, -1]), /fewer than two positive values/);
});
