// chunks.ts's cutting of batches (equal pieces where a divisor allows; all distinct sizes' programs
// within the budget together), and problem.ts's bounded-memory gradient (gradientFunction / gradientAsync: batches cut in chunks,
// each awaited) against the plain per-batch gradient, on PyHessian's ResNet at small width
// (float64): equal where chunks only split a sum (bn=eval), and chunks never cut a batch whose
// BatchNorm statistics it defines (bn=batch: a cut would change the statistics and the gradient).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEngine } from "../../src/engine/start.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { makeProblem, gradient, gradientAsync, gradientFunction } from "../../src/curvature/problem.ts";
import { loadModelWeights } from "../../src/train/checkpoint.ts";
import { relativeError } from "./oracle.ts";
import { pieceSizes, rowsWithinBudget, planChunkRows, chunksOf, disposeChunks, CHUNK_BUDGET, CHUNKS_TOTAL_BUDGET } from "../../src/curvature/chunks.ts";
import type { ChunkedProblem, ChunkLedger } from "../../src/curvature/chunks.ts";

await startEngine({ device: "wasm" });

const dir = fileURLToPath(new URL("../fixtures/architectures/", import.meta.url));
const SPEC = "resnet:8:width=2,classes=3,in=3x8x8";
const dataSpec = `npy:${join(dir, "x.npy")},${join(dir, "y.npy")},classes=3`;
test("pieceSizes: equal pieces of a divisor in [0.8 rows, rows], else rows and the remainder", () => {
  assert.deepEqual(pieceSizes(256, 17), Array.from({ length: 16 }, () => 16));
  assert.deepEqual(pieceSizes(200, 20), Array.from({ length: 10 }, () => 20));
  assert.deepEqual(pieceSizes(200, 17), [...Array.from({ length: 11 }, () => 17), 13]); // 10 is below 0.8 x 17
  assert.deepEqual(pieceSizes(500, 17), [...Array.from({ length: 29 }, () => 17), 7]);
  assert.deepEqual(pieceSizes(12, 12), [12]);
  assert.deepEqual(pieceSizes(5, 8), [5]);
  assert.deepEqual(pieceSizes(23, 8), [8, 8, 7]); // 23 is prime
  assert.deepEqual(pieceSizes(19, 1), Array.from({ length: 19 }, () => 1));
  for (const [n, rows] of [[1000, 17], [97, 10], [64, 64], [500, 33]] as const) {
    const sizes = pieceSizes(n, rows);
    assert.equal(sizes.reduce((a, b) => a + b, 0), n);
    assert.ok(sizes.every((s) => s >= 1 && s <= rows));
    assert.ok(new Set(sizes).size <= 2);
  }
});

// A stand-in problem: only what the chunk planner reads.
const planned = (sizes: number[], act: number | undefined, batchNorm?: "batch" | "eval") =>
  ({ model: { activationsPerExample: act, buffers: batchNorm ? { batchNorm } : undefined }, batches: sizes.map((n) => ({ n })), dtype: "float32" }) as unknown as ChunkedProblem;

test("rowsWithinBudget: a kind's distinct sizes within its budget, and within the total with what is held", () => {
  const MB = 2 ** 20;
  // 1 MB an example (2^18 activations x 1 float x 4 bytes): 10 MB a kind, 15 MB all kinds.
  const per = 2 ** 18;
  assert.equal(rowsWithinBudget(planned([100], per), 1, 10 * MB, 15 * MB), 10); // 10 pieces of 10
  // 99 = 9 x 11: rows 10 cuts it in equal pieces of 9.
  assert.deepEqual(new Set(pieceSizes(99, rowsWithinBudget(planned([99], per), 1, 10 * MB, 15 * MB))), new Set([9]));
  // 101 is prime: rows 10 gives sizes 10 and 1 (11 MB together), 9 gives 9 and 2 (11), 8 gives 8 and 5
  // (13), 7 gives 7 and 3 (10): within 10 MB, rows 7; within 11 MB, rows 10.
  const r101 = rowsWithinBudget(planned([101], per), 1, 10 * MB, 15 * MB);
  assert.equal(r101, 7);
  assert.deepEqual(new Set(pieceSizes(101, r101)), new Set([7, 3]));
  assert.equal(rowsWithinBudget(planned([101], per), 1, 11 * MB, 15 * MB), 10);
  assert.equal(rowsWithinBudget(planned([101], per), 1, 11 * MB, 10 * MB), 7); // the total binds
  // What the ledger holds counts against the total, except sizes of this kind it already holds.
  const key = (size: number) => `${per}|1|float32|${size}`;
  const afterOther = rowsWithinBudget(planned([100], per), 1, 10 * MB, 15 * MB, new Map([["other", 10 * MB]]));
  assert.deepEqual(new Set(pieceSizes(100, afterOther)), new Set([5])); // 5 MB left: pieces of 5
  assert.equal(rowsWithinBudget(planned([100], per), 1, 10 * MB, 15 * MB, new Map([["other", 5 * MB], [key(10), 10 * MB]])), 10);
  // A short last batch adds its own sizes: batches 100 and 7 (7 MB) leave 8 MB for the other sizes.
  const rows = rowsWithinBudget(planned([100, 7], per), 1, 15 * MB, 15 * MB);
  const sizes = new Set([...pieceSizes(100, rows), ...pieceSizes(7, rows)]);
  assert.ok([...sizes].reduce((a, b) => a + b, 0) <= 15, `rows ${rows}: sizes ${[...sizes]}`);
  assert.ok(rows >= 5, `rows ${rows}`);
  // No count of activations: whole batches.
  assert.equal(rowsWithinBudget(planned([100, 7], undefined), 1, 10 * MB, 15 * MB), 100);
  // Batch statistics: whole batches are the sizes, whatever the rows; at least 1.
  assert.equal(rowsWithinBudget(planned([100], per, "batch"), 1, 10 * MB, 15 * MB), 1);
});

test("planChunkRows: a later program gets the memory the earlier ones left (the allocator keeps it)", () => {
  // 2^22 activations x 1 float x 4 bytes: 16 MiB an example; the per-chunk budget alone allows
  // CHUNK_BUDGET / 16 MiB examples.
  const per = 2 ** 22;
  const perExample = 16 * 2 ** 20;
  const ledger: ChunkLedger = new Map();
  const problem = planned([256], per);
  const first = planChunkRows(problem, 1, ledger);
  assert.equal(first, rowsWithinBudget(problem, 1));
  const held = [...ledger.values()].reduce((a, b) => a + b, 0);
  assert.equal(held, [...new Set(pieceSizes(256, first))].reduce((a, b) => a + b, 0) * perExample);
  assert.ok(held <= CHUNK_BUDGET, `${held} > ${CHUNK_BUDGET}`);
  // The same kind again reuses its sizes: the same rows, nothing more held.
  assert.equal(planChunkRows(problem, 1, ledger), first);
  assert.equal([...ledger.values()].reduce((a, b) => a + b, 0), held);
  // Another kind (2 floats an activation) fits what is left of the total, not the total.
  const second = planChunkRows(problem, 2, ledger);
  const total = [...ledger.values()].reduce((a, b) => a + b, 0);
  assert.ok(total <= CHUNKS_TOTAL_BUDGET, `${total} > ${CHUNKS_TOTAL_BUDGET}`);
  assert.ok(second < rowsWithinBudget(problem, 2), `second ${second}, alone ${rowsWithinBudget(problem, 2)}`);
  // Alone (an empty ledger) it would take more.
  assert.ok(rowsWithinBudget(problem, 2) * 2 * perExample > CHUNKS_TOTAL_BUDGET - held);
});

const host = async (a: { data(): Promise<ArrayLike<number>> }) => Float64Array.from(await a.data());

for (const mode of ["eval", "batch"] as const) {
  test(`${SPEC},bn=${mode}: gradientAsync in chunks of 3 equals the per-batch gradient`, async () => {
    const { model, theta } = loadModelWeights(join(dir, "resnet.safetensors"), parseModel(`${SPEC},bn=${mode}`));
    const problem = makeProblem(model, loadData(dataSpec), theta, { dtype: "float64", batchSize: 8 });
    try {
      const whole = await host(gradient(problem));
      const chunked = await host(await gradientAsync(problem, { chunkRows: 3 }));
      assert.ok(relativeError(chunked, whole) < 1e-12, `relative error ${relativeError(chunked, whole)}`);
      // Reused: the same numbers on a second call of one compiled function.
      const f = gradientFunction(problem, { chunkRows: 3 });
      try {
        const a = await host(await f.compute());
        const b = await host(await f.compute());
        assert.deepEqual(a, b);
        assert.ok(relativeError(a, whole) < 1e-12);
      } finally {
        f.dispose();
      }
    } finally {
      problem.dispose();
    }
  });
}

test(`${SPEC},bn=batch: the gradient of batches of 4 differs from that of one batch of 8 (the check above can fail)`, async () => {
  const { model, theta } = loadModelWeights(join(dir, "resnet.safetensors"), parseModel(`${SPEC},bn=batch`));
  const data = loadData(dataSpec);
  const p8 = makeProblem(model, data, theta, { dtype: "float64", batchSize: 8 });
  const p4 = makeProblem(model, data, theta, { dtype: "float64", batchSize: 4 });
  try {
    const g8 = await host(gradient(p8));
    const g4 = await host(gradient(p4));
    assert.ok(relativeError(g4, g8) > 1e-6, `batch statistics of 4 and 8 gave the same gradient (${relativeError(g4, g8)})`);
  } finally {
    p8.dispose(), p4.dispose();
  }
});
