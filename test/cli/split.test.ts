/**
 * --split: after `curvlab train`, the analysis commands measure on the training split by default
 * (the checkpoint records its held-out fraction and seed), and say so in the data they report;
 * --split test and --split all measure the held-out part and everything; a split without a
 * train checkpoint is refused with exit 2.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./run-cli.ts";

const MODEL = "mlp:4-8-3:tanh";
const DATA = "gmm:k=3,d=4,n=30,sep=2,seed=1";

test("analysis after train measures the training split by default; --split test|all choose the others", () => {
  const dir = mkdtempSync(join(tmpdir(), "curvlab-split-"));
  try {
    const run = join(dir, "run");
    const t = runCli(["train", "--model", MODEL, "--data", DATA, "--epochs", "2", "--test-fraction", "0.2", "--out", run, "--quiet"]);
    assert.equal(t.status, 0, t.stderr);
    const measure = (extra: string[]) => {
      const r = runCli(["hessian", "--model", MODEL, "--data", DATA, "--weights", run, "--dense", "--json", "--quiet", ...extra]);
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { data: string; eigenvalues: number[] };
    };
    const byDefault = measure([]);
    const train = measure(["--split", "train"]);
    const held = measure(["--split", "test"]);
    const all = measure(["--split", "all"]);
    assert.deepEqual(byDefault.eigenvalues, train.eigenvalues);
    assert.match(train.data, /\(train 0\.8, seed 0\)$/);
    assert.match(held.data, /\(test 0\.2, seed 0\)$/);
    assert.equal(all.data, DATA);
    // 72 of 90 examples, 18 held out, all 90: three different Hessians.
    assert.notEqual(train.eigenvalues.at(-1), all.eigenvalues.at(-1));
    assert.notEqual(held.eigenvalues.at(-1), all.eigenvalues.at(-1));
    // The same checkpoint on other data: no split applies by default, and asking for one is refused.
    const other = runCli(["hessian", "--model", MODEL, "--data", "gmm:k=3,d=4,n=30,sep=2,seed=2", "--weights", run, "--dense", "--json", "--quiet", "--split", "train"]);
    assert.equal(other.status, 2);
    assert.match(other.stderr, /--split: the checkpoint was trained on --data/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--split train|test without a train checkpoint is one line, exit 2", () => {
  const r = runCli(["hessian", "--model", MODEL, "--data", DATA, "--dense", "--split", "test"]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.match(r.stderr, /--split: test needs --weights to be a checkpoint directory/);
});
