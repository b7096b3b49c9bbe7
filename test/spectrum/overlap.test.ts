// Subspace overlap against constructed cases: identical, rotated within, orthogonal, nested,
// known principal angles, the expectation k / n for random subspaces, and the eigenvectors of a
// matrix built from known ones.
import { test } from "node:test";
import assert from "node:assert/strict";
import { InputError } from "../../src/errors.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { fromEigen, randomOrthogonal, type DenseMatrix } from "../../src/linalg/dense/dense-matrix.ts";
import { eigh } from "../../src/linalg/dense/eigh.ts";
import { eigenvectorsOf, subspaceOverlap } from "../../src/spectrum/overlap.ts";

/** Column j of a row-major square matrix. */
const column = (Q: DenseMatrix, j: number) => Float64Array.from({ length: Q.n }, (_, r) => Q.data[r * Q.n + j]);
const unit = (n: number, i: number) => Float64Array.from({ length: n }, (_, r) => (r === i ? 1 : 0));
const close = (a: number, b: number, tol = 1e-12) => Math.abs(a - b) <= tol;

test("identical -> 1, rotated within the subspace -> 1, orthogonal -> 0, nested -> 1", () => {
  const rng = hostRng(0);
  const n = 30, k = 5;
  const Q = randomOrthogonal(n, rng);
  const U = Array.from({ length: k }, (_, j) => column(Q, j));
  const same = subspaceOverlap(U, U);
  assert.ok(close(same.overlap, 1));
  assert.ok(same.cosines.every((c) => close(c, 1)));
  assert.ok(same.bestMatch.every((b, i) => b.index === i && close(b.cos2, 1)));
  // A rotation of the basis within span U: V = U R, R a random k x k orthogonal matrix.
  const R = randomOrthogonal(k, rng);
  const V = Array.from({ length: k }, (_, j) => {
    const v = new Float64Array(n);
    for (let i = 0; i < k; i++) for (let r = 0; r < n; r++) v[r] += U[i][r] * R.data[i * k + j];
    return v;
  });
  const rot = subspaceOverlap(U, V);
  assert.ok(close(rot.overlap, 1), `${rot.overlap}`);
  assert.ok(rot.captured.every((c) => close(c, 1)));
  assert.ok(rot.bestMatch.every((b) => b.cos2 < 1 - 1e-6)); // single vectors no longer match
  const W = Array.from({ length: k }, (_, j) => column(Q, k + j));
  const orth = subspaceOverlap(U, W);
  assert.ok(orth.overlap < 1e-28 && orth.cosines.every((c) => c < 1e-14));
  // Nested: span U inside a 12-dimensional span; overlap counts the smaller side.
  const big = Array.from({ length: 12 }, (_, j) => column(Q, j));
  const nested = subspaceOverlap(U, big);
  assert.equal(nested.kU, 5);
  assert.equal(nested.kV, 12);
  assert.ok(close(nested.overlap, 1));
  assert.ok(close(subspaceOverlap(big, U).overlap, 1));
  assert.equal(nested.chance, 12 / 30);
});

test("known principal angles: span(e1, e2) vs span(cos a e1 + sin a e3, cos b e2 + sin b e4)", () => {
  const n = 6, a = 0.3, b = 1.1;
  const U = [unit(n, 0), unit(n, 1)];
  const V = [
    Float64Array.from(unit(n, 0), (x, r) => (r === 0 ? Math.cos(a) : r === 2 ? Math.sin(a) : x)),
    Float64Array.from(unit(n, 1), (x, r) => (r === 1 ? Math.cos(b) : r === 3 ? Math.sin(b) : x)),
  ];
  const r = subspaceOverlap(U, V);
  assert.ok(close(r.cosines[0], Math.cos(a)) && close(r.cosines[1], Math.cos(b)), `${r.cosines}`);
  assert.ok(close(r.overlap, (Math.cos(a) ** 2 + Math.cos(b) ** 2) / 2));
  assert.ok(close(r.frobeniusSquared, Math.cos(a) ** 2 + Math.cos(b) ** 2));
  assert.ok(close(r.captured[0], Math.cos(a) ** 2) && close(r.captured[1], Math.cos(b) ** 2));
  assert.deepEqual(r.bestMatch.map((m) => m.index), [0, 1]);
});

test("random subspaces: mean overlap ~ k / n (E ||U^T V||_F^2 = k^2 / n), 200 seeds", () => {
  const n = 40, k = 4, seeds = 200;
  let sum = 0, sq = 0;
  for (let seed = 0; seed < seeds; seed++) {
    const rng = hostRng(seed);
    const gauss = () => Float64Array.from({ length: n }, () => rng.normal());
    // Gaussian vectors span a uniformly random subspace; the overlap orthonormalizes them.
    const r = subspaceOverlap(Array.from({ length: k }, gauss), Array.from({ length: k }, gauss));
    sum += r.overlap;
    sq += r.overlap ** 2;
    assert.equal(r.chance, k / n);
  }
  const mean = sum / seeds;
  const se = Math.sqrt((sq / seeds - mean ** 2) / seeds);
  // 4 standard errors: a test of the formula (and the orthonormalization), not of luck.
  assert.ok(Math.abs(mean - k / n) < 4 * se, `mean ${mean}, expected ${k / n} +- ${se}`);
});

test("non-orthonormal input: orthonormalized by default (same answer as the orthonormal basis); reported", () => {
  const rng = hostRng(4);
  const n = 20;
  const Q = randomOrthogonal(n, rng);
  const U = [column(Q, 0), column(Q, 1), column(Q, 2)];
  const V = [column(Q, 0), column(Q, 3)].map((v, i) => v.map((x) => x * (i + 2)));
  V[1] = V[1].map((x, r) => x + 0.5 * V[0][r]); // skewed: same span as {q0, q3}
  const r = subspaceOverlap(U, V);
  assert.ok(close(r.overlap, 1 / 2)); // the smaller side (2 dims) shares 1 of its 2 directions
  assert.ok(r.orthonormalityError.V > 1);
  assert.ok(r.orthonormalityError.U < 1e-14);
  const raw = subspaceOverlap(U, V, { orthonormalize: false });
  assert.equal(raw.settings.orthonormalize, false);
  assert.notEqual(raw.overlap, r.overlap);
});

test("eigenvectorsOf a dense decomposition recovers the planted top subspace", () => {
  const rng = hostRng(7);
  const n = 25;
  const Q = randomOrthogonal(n, rng);
  const values = Array.from({ length: n }, (_, i) => (i < 3 ? 10 + i : i === 3 ? -20 : 0.01 * rng.normal()));
  const e = eigh(fromEigen(Q, values), { vectors: true, threads: 1 });
  const top = eigenvectorsOf(e, 3);
  const planted = [2, 1, 0].map((j) => column(Q, j));
  const r = subspaceOverlap(top, planted);
  assert.ok(close(r.overlap, 1, 1e-12));
  assert.deepEqual(r.bestMatch.map((m) => m.index), [0, 1, 2]); // 12, 11, 10 in order
  const mag = eigenvectorsOf(e, 1, "magnitude");
  assert.ok(close(subspaceOverlap(mag, [column(Q, 3)]).overlap, 1, 1e-12));
  const small = eigenvectorsOf(e, 1, "smallest");
  assert.ok(close(subspaceOverlap(small, [column(Q, 3)]).overlap, 1, 1e-12));
});

test("bad input: InputError naming the input", () => {
  const v = (n: number) => new Float64Array(n).fill(1);
  const cases: [() => unknown, RegExp][] = [
    [() => subspaceOverlap([], [v(3)]), /^U: expected a non-empty list/],
    [() => subspaceOverlap([v(3)], [v(4)]), /^V: expected vectors of length 3/],
    [() => subspaceOverlap([v(3), v(2)], [v(3)]), /^U\[1\]: expected a vector of length 3/],
    [() => subspaceOverlap([Float64Array.from([1, NaN])], [v(2)]), /^U\[0\]: expected finite/],
    [() => subspaceOverlap([v(3), v(3)], [v(3)]), /^U\[1\]: expected linearly independent/],
    [() => subspaceOverlap([v(2), v(2), v(2)], [v(2)]), /^U: expected at most 2 vectors/],
    [() => eigenvectorsOf({ n: 2, values: [1, 2] }, 1), /eigenvectors: expected a decomposition with vectors/],
    [() => eigenvectorsOf({ n: 2, values: [1, 2], vectors: new Float64Array(4) }, 3), /^k: expected an integer/],
  ];
  for (const [f, msg] of cases) assert.throws(f, (e: unknown) => e instanceof InputError && msg.test(e.message));
});
