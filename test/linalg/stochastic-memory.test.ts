// The stochastic estimators free every device temporary: after a warm-up run of each (which
// sizes the engine's pools), thousands more products leave the engine's memory unchanged (Wasm
// memory only grows when live buffers grow, so a leak of one buffer per product would show).
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine, engineMemoryBytes } from "../../src/engine/start.ts";
import { spectralDensity } from "../../src/linalg/slq.ts";
import { hutchinsonDiagonal, hutchinsonTrace } from "../../src/linalg/hutchinson.ts";
import { hutchppTrace } from "../../src/linalg/hutchpp.ts";
import { xdiag, xtrace } from "../../src/linalg/xtrace.ts";
import { exactDiagonal } from "../../src/linalg/exact-diagonal.ts";
import { outlierSpectrum, synthetic } from "./stochastic-helpers.ts";

await startEngine({ device: "wasm" });

test("5,000 products through every estimator do not grow engine memory", async () => {
  const s = synthetic(outlierSpectrum(64, 0), 0);
  const runAll = async (seed: number) => {
    await spectralDensity(s.op, { probes: 4, steps: 40, seed, logScale: true });
    await hutchinsonTrace(s.op, { matvecs: 150, seed });
    await hutchinsonDiagonal(s.op, { matvecs: 150, seed });
    await hutchppTrace(s.op, { matvecs: 150, seed });
    await xtrace(s.op, { matvecs: 100, seed });
    await xdiag(s.op, { matvecs: 100, seed });
    await exactDiagonal(s.op);
  };
  await runAll(0);
  const before = engineMemoryBytes();
  const products = s.op.matvecs;
  for (let seed = 1; seed <= 6; seed++) await runAll(seed);
  const after = engineMemoryBytes();
  const done = s.op.matvecs - products;
  console.log(`  ${done} products; engine memory ${before} -> ${after} bytes`);
  assert.ok(done >= 5000);
  assert.ok(before > 0, "engine memory is measured");
  assert.equal(after, before, `engine memory grew from ${before} to ${after} bytes over ${done} products`);
  s.op.dispose();
});

test("repeated SLQ runs that stop early (breakdown after 3 steps) or run long (75 steps) keep engine memory flat", async () => {
  // Both exits of the Lanczos loop drop the partly built basis: 3 = 2 + 1 and 75 = 64 + 8 + 2 + 1
  // rows leave blocks of several sizes alive at the end of a run.
  const distinct = [-1, 0.5, 2];
  const few = synthetic(Array.from({ length: 60 }, (_, i) => distinct[i % 3]), 2);
  const many = synthetic(outlierSpectrum(96, 1), 3, "float32");
  const runBoth = async (seed: number) => {
    const a = await spectralDensity(few.op, { probes: 3, steps: 30, seed });
    assert.ok(a.quadrature.every((q) => q.breakdown && q.steps === 3));
    const b = await spectralDensity(many.op, { probes: 2, steps: 75, seed });
    assert.ok(b.quadrature.every((q) => q.steps === 75));
  };
  await runBoth(0);
  const before = engineMemoryBytes();
  for (let seed = 1; seed <= 5; seed++) await runBoth(seed);
  const after = engineMemoryBytes();
  assert.equal(after, before, `engine memory grew from ${before} to ${after} bytes`);
  few.op.dispose();
  many.op.dispose();
});
