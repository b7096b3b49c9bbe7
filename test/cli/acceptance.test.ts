// The CLI with default settings: train accuracy on the 5-cluster mixture, test accuracy on MNIST,
// and `hessian --dense --json` printing all eigenvalues ascending, beside settings and cost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "curvlab-cli-"));
const GMM = "gmm:k=5,d=20,n=200,sep=3,seed=0";

test("train on gmm:k=5 with defaults reaches >= 97% train accuracy, then hessian --dense --json", () => {
  const out = join(dir, "gmm");
  const r = runCli(["train", "--model", "mlp:20-32-5:tanh", "--data", GMM, "--json", "--quiet", "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.ok(result.final.trainAccuracy >= 0.97, `train accuracy ${result.final.trainAccuracy}`);
  for (const f of ["model.safetensors", "checkpoint.json", "train.json", "curves.png"]) assert.ok(existsSync(join(out, f)), f);
  const meta = JSON.parse(readFileSync(join(out, "checkpoint.json"), "utf8"));
  assert.equal(meta.model, "mlp:20-32-5:tanh");
  assert.equal(meta.data, GMM);

  // A smaller dataset keeps the dense Hessian quick; the weights come from the checkpoint.
  const h = runCli(["hessian", "--model", "mlp:20-32-5:tanh", "--data", "gmm:k=5,d=20,n=20,sep=3,seed=0", "--weights", out, "--dense", "--json", "--quiet"]);
  assert.equal(h.status, 0, h.stderr);
  const lines = h.stdout.trim().split("\n");
  assert.equal(lines.length, 1, "stdout is one JSON object");
  const spec = JSON.parse(lines[0]);
  assert.equal(spec.eigenvalues.length, 837);
  for (let i = 1; i < spec.eigenvalues.length; i++) assert.ok(spec.eigenvalues[i - 1] <= spec.eigenvalues[i], "ascending");
  assert.equal(spec.operator, "hessian");
  assert.equal(spec.dtype, "float64");
  assert.equal(spec.cost.matvecs, 837);
  assert.ok(spec.cost.seconds > 0);
  // The trace of the spectrum equals the sum of its eigenvalues (the summary is computed, not copied).
  const trace = spec.eigenvalues.reduce((a: number, b: number) => a + b, 0);
  assert.ok(Math.abs(trace - spec.summary.trace) <= 1e-9 * Math.abs(trace));
});

test("train on MNIST (10,000 digits, 80/20 split) with an MLP reaches >= 90% test accuracy", () => {
  const r = runCli(["train", "--model", "mlp:784-100-10:tanh", "--data", "mnist:n=10000", "--json", "--quiet"], { timeoutMs: 600_000 });
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.settings.trainExamples, 8000);
  assert.equal(result.settings.testExamples, 2000);
  assert.ok(result.final.testAccuracy >= 0.9, `test accuracy ${result.final.testAccuracy}`);
});

test("every command has --help", () => {
  for (const args of [["--help"], ["train", "--help"], ["hessian", "--help"]]) {
    const r = runCli(args);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /usage: curvlab/);
  }
});
