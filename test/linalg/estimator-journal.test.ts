// The journal of the trace and diagonal estimators (estimator.ts): a run stopped by a failing
// product and resumed with the same journal gives the numbers of an uninterrupted run, computing
// only the products it had not saved; a journal does not change the numbers of a run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine } from "../../src/engine/start.ts";
import { makeOperator, type LinearOperator } from "../../src/curvature/operator.ts";
import { memoryJournal } from "../../src/linalg/journal.ts";
import { hutchinsonDiagonal, hutchinsonTrace, type TraceOptions } from "../../src/linalg/hutchinson.ts";
import { hutchppTrace } from "../../src/linalg/hutchpp.ts";
import { xdiag, xtrace } from "../../src/linalg/xtrace.ts";
import { outlierSpectrum, synthetic } from "./stochastic-helpers.ts";

await startEngine({ device: "wasm" });

type Result = { readonly matvecs: number; readonly seconds: number };
type Estimator = (op: LinearOperator, opts: TraceOptions) => Promise<Result>;

/** The operator of `op` whose product number `failAt` (1-based) throws. */
function failingAt(op: LinearOperator, failAt: number): LinearOperator {
  let count = 0;
  return makeOperator(op.size, op.dtype, op.description, (v) => {
    if (++count === failAt) throw new Error("interrupted");
    return op.matvec(v);
  });
}

function withoutCost<T extends Result>(r: T): Omit<T, "matvecs" | "seconds"> {
  const { matvecs: _m, seconds: _s, ...rest } = r;
  return rest;
}

// matvecs 31: Hutch++ sketches 10 vectors (products 1-10), then A Q (11-20), then 11 probes;
// XTrace and XDiag sketch 15 (1-15), then A Q (16-30). Interruptions fall in every stage.
const CASES: [string, Estimator, number[]][] = [
  ["Hutchinson trace", hutchinsonTrace, [12]],
  ["Hutchinson diagonal", hutchinsonDiagonal, [9]],
  ["Hutch++", hutchppTrace, [4, 15, 26]],
  ["XTrace", xtrace, [7, 22]],
  ["XDiag", xdiag, [7, 22]],
];

for (const dtype of ["float64", "float32"] as const) {
  test(`${dtype}: interrupted and resumed runs equal uninterrupted ones, and recompute nothing saved`, async () => {
    const s = synthetic(outlierSpectrum(60, 3), 8, dtype);
    const opts = { matvecs: 31, seed: 5 };
    for (const [name, estimate, stops] of CASES) {
      const plain = await estimate(s.op, opts);
      const full = memoryJournal();
      const journaled = await estimate(s.op, { ...opts, journal: full });
      assert.deepEqual(withoutCost(journaled), withoutCost(plain), `${name}: a journal changed the numbers`);
      assert.equal(journaled.matvecs, plain.matvecs, name);
      assert.ok(full.keys().length > 0, `${name}: nothing was journaled`);
      const again = await estimate(s.op, { ...opts, journal: full });
      assert.equal(again.matvecs, 0, `${name}: a complete journal still cost products`);
      assert.deepEqual(withoutCost(again), withoutCost(plain), name);
      for (const stop of stops) {
        const journal = memoryJournal();
        await assert.rejects(estimate(failingAt(s.op, stop), { ...opts, journal }), /interrupted/, `${name} stopped at product ${stop}`);
        const resumed = await estimate(s.op, { ...opts, journal });
        assert.deepEqual(withoutCost(resumed), withoutCost(plain), `${name} resumed after product ${stop - 1}`);
        assert.equal(resumed.matvecs, plain.matvecs - (stop - 1), `${name} resumed after product ${stop - 1}: products recomputed`);
      }
    }
    s.op.dispose();
  });
}
