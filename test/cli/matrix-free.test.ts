// The matrix-free commands from the CLI agree with the exact spectrum of the same operator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runCli } from "./run-cli.ts";

const COMMON = ["--model", "mlp:6-12-3:tanh", "--data", "gmm:k=3,d=6,n=20,sep=3,seed=0", "--dtype", "float64", "--json", "--quiet"];

test("spectrum --top/--bottom equal the dense eigenvalues; trace and diag agree with them", () => {
  const dense = runCli(["hessian", ...COMMON, "--dense"]);
  assert.equal(dense.status, 0, dense.stderr);
  const ev: number[] = JSON.parse(dense.stdout).eigenvalues; // ascending
  const scale = Math.max(...ev.map(Math.abs));

  const top = runCli(["spectrum", ...COMMON, "--top", "4"]);
  assert.equal(top.status, 0, top.stderr);
  const t = JSON.parse(top.stdout);
  assert.ok(t.matvecs > 0);
  const expectedTop = ev.slice(-4).reverse(); // descending
  t.eigenvalues.forEach((l: number, i: number) => assert.ok(Math.abs(l - expectedTop[i]) <= 1e-8 * scale, `top ${i}: ${l} vs ${expectedTop[i]}`));

  const bottom = runCli(["spectrum", ...COMMON, "--bottom", "3"]);
  assert.equal(bottom.status, 0, bottom.stderr);
  const b = JSON.parse(bottom.stdout);
  b.eigenvalues.forEach((l: number, i: number) => assert.ok(Math.abs(l - ev[i]) <= 1e-8 * scale, `bottom ${i}: ${l} vs ${ev[i]}`));

  // Exact trace and diagonal: the sum of the eigenvalues.
  const trace = ev.reduce((a, x) => a + x, 0);
  const diag = runCli(["diag", ...COMMON, "--method", "exact"]);
  assert.equal(diag.status, 0, diag.stderr);
  assert.ok(Math.abs(JSON.parse(diag.stdout).diagonal.sum - trace) <= 1e-10 * Math.abs(trace) + 1e-12);
  const est = runCli(["trace", ...COMMON, "--method", "xtrace", "--matvecs", "40"]);
  assert.equal(est.status, 0, est.stderr);
  const e = JSON.parse(est.stdout).estimates[0];
  // Within 4 standard errors (seeded; a fixed draw, so this does not flake).
  assert.ok(Math.abs(e.estimate - trace) <= 4 * e.standardError + 1e-9, `${e.estimate} vs ${trace} (se ${e.standardError})`);
});

test("spectrum needs exactly one of --top/--bottom/--magnitude", () => {
  const r = runCli(["spectrum", ...COMMON]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--top K, --bottom K/);
});
