// Bad input: one clear message naming the input and what was expected, exit code 2, nothing written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeNpy } from "../../src/data/npy.ts";
import { writeSafetensors } from "../../src/data/safetensors.ts";
import { runCli } from "./run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "curvlab-bad-"));
const GMM = "gmm:k=3,d=4,n=10,sep=3,seed=0";
const MLP = "mlp:4-5-3:tanh";

function npyData(name: string, x: Float64Array, rows: number, cols: number, y: Int32Array): string {
  writeNpy(join(dir, `${name}-x.npy`), { shape: [rows, cols], data: x });
  writeNpy(join(dir, `${name}-y.npy`), { shape: [rows], data: y });
  return `npy:${join(dir, `${name}-x.npy`)},${join(dir, `${name}-y.npy`)}`;
}

function expectBadInput(args: string[], mustMention: RegExp[]): void {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const r = runCli([...args, "--out", out]);
  assert.equal(r.status, 2, `exit code 2 expected, got ${r.status}; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line expected on stderr, got: ${r.stderr}`);
  assert.match(lines[0], /^curvlab: /);
  for (const re of mustMention) assert.match(lines[0], re);
  assert.equal(r.stdout, "", "nothing on stdout");
  assert.equal(existsSync(out), false, "nothing written");
}

test("unknown model spec", () => {
  expectBadInput(["hessian", "--model", "transformer:tiny", "--data", GMM, "--dense"], [/--model/, /transformer:tiny/, /mlp:/]);
});

test("weights that do not fit the model", () => {
  const weights = join(dir, "wrong.safetensors");
  writeSafetensors(weights, {
    "0.weight": { dtype: "F32", shape: [7, 4], data: new Float32Array(28) },
    "0.bias": { dtype: "F32", shape: [7], data: new Float32Array(7) },
    "2.weight": { dtype: "F32", shape: [3, 7], data: new Float32Array(21) },
    "2.bias": { dtype: "F32", shape: [3], data: new Float32Array(3) },
  });
  expectBadInput(["hessian", "--model", MLP, "--data", GMM, "--weights", weights, "--dense"], [/wrong\.safetensors/, /0\.weight/, /\[7,4\]/, /\[5,4\]/]);
});

test("NaN in the data", () => {
  const x = Float64Array.from({ length: 12 }, (_, i) => i);
  x[6] = NaN;
  const spec = npyData("nan", x, 3, 4, Int32Array.from([0, 1, 2]));
  expectBadInput(["hessian", "--model", MLP, "--data", spec, "--dense"], [/NaN|non-finite|not finite/i, /row 1/]);
});

test("labels out of range", () => {
  const spec = npyData("labels", new Float64Array(12), 3, 4, Int32Array.from([0, 1, 7]));
  expectBadInput(["hessian", "--model", MLP, "--data", spec, "--dense"], [/--data|label/i, /8 classes|classes/, /3 outputs/]);
  const negative = npyData("negative", new Float64Array(12), 3, 4, Int32Array.from([0, -1, 2]));
  expectBadInput(["hessian", "--model", MLP, "--data", negative, "--dense"], [/label/i, /-1/]);
});

test("empty dataset", () => {
  const spec = npyData("empty", new Float64Array(0), 0, 4, new Int32Array(0));
  expectBadInput(["hessian", "--model", MLP, "--data", spec, "--dense"], [/empty|no examples|0 rows/i]);
});

test("unreadable and truncated files", () => {
  expectBadInput(["hessian", "--model", MLP, "--data", `npy:${join(dir, "missing.npy")},${join(dir, "missing-y.npy")}`, "--dense"], [/missing\.npy/, /not found|cannot read|no such/i]);
  const good = join(dir, "good.safetensors");
  writeSafetensors(good, { "0.weight": { dtype: "F32", shape: [5, 4], data: new Float32Array(20) } });
  const bytes = readFileSync(good);
  const truncated = join(dir, "truncated.safetensors");
  writeFileSync(truncated, bytes.subarray(0, bytes.length - 9));
  expectBadInput(["hessian", "--model", MLP, "--data", GMM, "--weights", truncated, "--dense"], [/truncated\.safetensors/, /truncat|bytes|beyond|end/i]);
  const spec = npyData("short", Float64Array.from({ length: 12 }, (_, i) => i), 3, 4, Int32Array.from([0, 1, 2]));
  const xPath = spec.slice(4).split(",")[0];
  const xb = readFileSync(xPath);
  writeFileSync(xPath, xb.subarray(0, xb.length - 8));
  expectBadInput(["hessian", "--model", MLP, "--data", spec, "--dense"], [/short-x\.npy/, /truncat|bytes/i]);
});

test("unknown option", () => {
  expectBadInput(["hessian", "--model", MLP, "--data", GMM, "--dense", "--frobnicate", "3"], [/--frobnicate/, /unknown option/, /--model/]);
  expectBadInput(["spectral-magic"], [/spectral-magic/, /unknown command/, /hessian/]);
});

test("CSV with a non-numeric cell", () => {
  const csv = join(dir, "cells.csv");
  writeFileSync(csv, "f1,f2,f3,f4,label\n1,2,3,4,0\n1,2,three,4,1\n");
  expectBadInput(["hessian", "--model", MLP, "--data", `csv:${csv}`, "--dense"], [/cells\.csv/, /line 3/, /column "f3"/, /"three" is not a finite number/]);
});

test("truncated .npz data and .npz weights of the wrong dtype", () => {
  const npz = readFileSync(new URL("../fixtures/npz_data.npz", import.meta.url));
  const cut = join(dir, "cut.npz");
  writeFileSync(cut, npz.subarray(0, 200));
  expectBadInput(["hessian", "--model", MLP, "--data", `npz:${cut}`, "--dense"], [/cut\.npz/, /end-of-central-directory/]);
  const weights = new URL("../fixtures/npz_data.npz", import.meta.url).pathname;
  expectBadInput(["hessian", "--model", MLP, "--data", GMM, "--weights", weights, "--dense"], [/npz_data\.npz/, /dtype i8/]);
});

test("safetensors weights of the wrong dtype", () => {
  const ints = join(dir, "ints.safetensors");
  writeSafetensors(ints, {
    "0.weight": { dtype: "I32", shape: [5, 4], data: new Int32Array(20) },
    "0.bias": { dtype: "F32", shape: [5], data: new Float32Array(5) },
    "2.weight": { dtype: "F32", shape: [3, 5], data: new Float32Array(15) },
    "2.bias": { dtype: "F32", shape: [3], data: new Float32Array(3) },
  });
  expectBadInput(["hessian", "--model", MLP, "--data", GMM, "--weights", ints, "--dense"], [/ints\.safetensors/, /0\.weight/, /dtype I32/, /float/]);
});
