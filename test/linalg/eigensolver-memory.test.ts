// Engine memory stays flat over 5,000 products through the iterative eigensolvers (Lanczos runs,
// with their confirmation runs, vectors and restarts; deflated power iteration): the engine's Wasm
// memory only grows when live buffers grow, so a single buffer leaked per step would show.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEngine, engineMemoryBytes } from "../../src/engine/start.ts";
import { hostRng } from "../../src/engine/host-rng.ts";
import { lanczosEigs } from "../../src/linalg/lanczos.ts";
import { powerIteration } from "../../src/linalg/power-iteration.ts";
import { knownSpectrum } from "./eigensolver-helpers.ts";

await startEngine({ device: "wasm" });

test("5,000 products through Lanczos and power iteration do not grow engine memory", async (t) => {
  // n = 100: 4 outliers (one repeated, so confirmation runs lock vectors) over a bulk.
  const rng = hostRng(3);
  const s = knownSpectrum(Array.from({ length: 100 }, (_, i) => [9, 7, 7, 5][i] ?? rng.uniform()), 5);
  const lanczos = (seed: number) => lanczosEigs(s.op, { k: 4, seed, vectors: true, tol: 1e-12 });
  const power = (seed: number) => powerIteration(s.op, { k: 4, seed, tol: 1e-14, maxIter: 100, vectors: true });
  // Warm-up: the largest shapes each method uses, once.
  await lanczos(0);
  await power(0);
  const before = engineMemoryBytes();
  const start = s.op.matvecs;
  let runs = 0;
  for (let seed = 1; s.op.matvecs - start < 2500; seed++, runs++) await lanczos(seed);
  const lanczosProducts = s.op.matvecs - start;
  for (let seed = 1; s.op.matvecs - start < 5000; seed++) await power(seed);
  const after = engineMemoryBytes();
  t.diagnostic(`${runs} Lanczos calls (${lanczosProducts} products), then power iteration to ${s.op.matvecs - start} products; memory ${before} -> ${after} bytes`);
  assert.ok(before > 0);
  assert.equal(after, before, `engine memory grew from ${before} to ${after} bytes`);
  s.op.dispose();
});
