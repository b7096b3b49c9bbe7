// `curvlab sharpness` end to end: its top eigenvalue and stability verdicts against the dense
// spectrum of `curvlab hessian`, its output file, and bad input (exit 2, one line, nothing written).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./run-cli.ts";

const MODEL = ["--model", "mlp:4-6-3:tanh", "--data", "gmm:k=3,d=4,n=10,sep=2,seed=1"];

test("sharpness: top eigenvalue equals the dense spectrum's; verdicts follow 2/lr; sharpness.json written", () => {
  const dir = mkdtempSync(join(tmpdir(), "curvlab-sharp-"));
  const dense = runCli(["hessian", ...MODEL, "--dense", "--json", "--quiet"]);
  assert.equal(dense.status, 0, dense.stderr);
  const ev = (JSON.parse(dense.stdout) as { eigenvalues: number[] }).eigenvalues;
  const lmax = ev[ev.length - 1];
  const trace = ev.reduce((a, b) => a + b, 0);
  // lr just below and just above 2 / lambda_max.
  for (const [lr, stable] of [[1.9 / lmax, true], [2.1 / lmax, false]] as const) {
    const r = runCli(["sharpness", ...MODEL, "--lr", String(lr), "--probes", "200", "--json", "--quiet", "--out", dir]);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.ok(Math.abs(j.topEigenvalue.value - lmax) < 1e-6 * lmax, `${j.topEigenvalue.value} vs ${lmax}`);
    assert.equal(j.stability.gd.stable, stable);
    assert.ok(Math.abs(j.trace.value - trace) < 4 * j.trace.standardError, `trace ${j.trace.value} +- ${j.trace.standardError} vs ${trace}`);
    assert.ok(j.sam.worstLoss >= j.sam.firstStepLoss - 1e-12 && j.sam.firstStepLoss >= j.loss);
    assert.ok(j.epsilonSharpness.value > 0);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "sharpness.json"), "utf8")), j);
  }
});

test("sharpness: bad input exits 2 with one line and writes nothing", () => {
  const dir = mkdtempSync(join(tmpdir(), "curvlab-sharp-bad-"));
  for (const [args, re] of [
    [["--rho", "0"], /--rho.*> 0/],
    [["--momentum", "0.9"], /--momentum.*needs --lr/],
    [["--lr", "0.1", "--momentum", "1.5"], /--momentum.*\[0, 1\)/],
  ] as const) {
    const out = join(dir, "out");
    const r = runCli(["sharpness", ...MODEL, ...args, "--out", out]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(existsSync(out), false);
  }
});
