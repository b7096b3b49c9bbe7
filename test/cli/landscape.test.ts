// `curvlab landscape` through the real bin, on a tiny model with
// checkpoints from a short training run made here. Checks the files, the numbers against the
// library in this process, and bad input: exit 2, one line, nothing written.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEngine } from "../../src/engine/start.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { train } from "../../src/train/train.ts";
import { loadCheckpoint, saveCheckpoint } from "../../src/train/checkpoint.ts";
import { modelObjective } from "../../src/landscape/objective.ts";
import { trajectoryPca } from "../../src/landscape/directions.ts";
import { landscapeCommand } from "../../src/cli/landscape.ts";
import { InputError } from "../../src/errors.ts";
import { runCli } from "./run-cli.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MODEL = "mlp:4-6-3:tanh";
const DATA = "gmm:k=3,d=4,n=10,sep=2,seed=1";
const dir = mkdtempSync(join(tmpdir(), "curvlab-landscape-"));
const checkpoints: string[] = [];

const run = (args: readonly string[]) => runCli(["landscape", ...args], { cwd: ROOT, timeoutMs: 120_000 });

const outDir = (name: string) => join(dir, name);
const BASE = ["--model", MODEL, "--data", DATA, "--quiet"];

before(async () => {
  await startEngine({ device: "wasm" });
  // A short full-batch training run; a checkpoint every 10 steps (the trajectory for pca).
  const model = parseModel(MODEL);
  const data = loadData(DATA);
  const thetas: Float64Array[] = [model.init(0)];
  await train(
    { model, train: data, batchSize: 30, steps: 40, seed: 0, dtype: "float64", optimizer: { name: "sgd", lr: 0.5 } },
    { onStep: async (s) => { if (s.step % 10 === 0) thetas.push(Float64Array.from(await s.theta.ref.data())); } },
  );
  thetas.forEach((theta, i) => {
    const c = join(dir, `ckpt-${i}`);
    saveCheckpoint(c, { model, theta, dataSpec: DATA, dtype: "float64" });
    checkpoints.push(c);
  });
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("landscape: random 2-D slice writes slice.json and the surfaces; the origin is the model's loss", async () => {
  const out = outDir("random");
  const weights = checkpoints.at(-1)!;
  const r = run([...BASE, "--weights", weights, "--points", "5", "--range", "-0.5:0.5", "--out", out, "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.deepEqual(readdirSync(out).sort(), ["accuracy.png", "accuracy.svg", "slice.json", "surface.png", "surface.svg"]);
  assert.deepEqual(JSON.parse(readFileSync(join(out, "slice.json"), "utf8")), json);
  assert.equal(json.directions.kind, "random");
  assert.equal(json.directions.normalization, "filter");
  assert.equal(json.slice.kind, "slice-2d");
  assert.deepEqual(json.slice.xs, [-0.5, -0.25, 0, 0.25, 0.5]);
  assert.equal(json.slice.loss.length, 5);
  assert.equal(json.slice.evaluations, 25);
  // The origin against this process's objective at the checkpoint's weights (float64).
  const { model, theta } = loadCheckpoint(weights);
  const obj = modelObjective(model, loadData(DATA));
  const direct = await obj.evaluate(theta);
  obj.dispose();
  assert.ok(Math.abs(json.slice.originLoss - direct.loss) <= 1e-12 * direct.loss, `${json.slice.originLoss} vs ${direct.loss}`);
  assert.equal(json.slice.loss[2][2], json.slice.originLoss);
  assert.equal(json.slice.originAccuracy, direct.accuracy);
  assert.match(readFileSync(join(out, "surface.svg"), "utf8"), /^<svg/);
  const png = readFileSync(join(out, "surface.png"));
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
});

test("landscape: eigen 1-D slice writes the line figure, eigenvalue in the JSON", () => {
  const out = outDir("eigen");
  const r = run([...BASE, "--weights", checkpoints.at(-1)!, "--directions", "eigen", "--dims", "1", "--points", "7", "--range", "-0.3:0.3", "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /1-D slice .* eigen directions: 7 evaluations/);
  assert.deepEqual(readdirSync(out).sort(), ["line.png", "line.svg", "slice.json"]);
  const json = JSON.parse(readFileSync(join(out, "slice.json"), "utf8"));
  assert.equal(json.directions.eigenvalues.length, 1);
  assert.ok(json.directions.eigenvalues[0] > 0);
  assert.equal(json.slice.alphas.length, 7);
  assert.equal(json.slice.alphas[3], 0);
  // Along the top eigenvector the loss curves up on both sides more than the gradient tilts it.
  const l = json.slice.loss;
  assert.ok(l[0] + l[6] - 2 * l[3] > 0);
});

test("landscape: pca of the checkpoints, centred on the last, trajectory drawn over the surface", () => {
  const out = outDir("pca");
  const r = run([...BASE, "--directions", "pca", "--checkpoints", checkpoints.join(","), "--points", "5", "--out", out, "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.equal(json.weights, checkpoints.at(-1));
  const pca = json.directions;
  assert.equal(pca.coordinates.length, checkpoints.length);
  assert.deepEqual(pca.coordinates.at(-1), [0, 0]);
  const sum = pca.explainedVarianceRatio[0] + pca.explainedVarianceRatio[1];
  assert.ok(sum > 0 && sum <= 1 + 1e-12 && pca.explainedVarianceRatio[0] >= pca.explainedVarianceRatio[1]);
  // Same numbers as the library in this process.
  const ref = trajectoryPca(checkpoints.map((c) => loadCheckpoint(c).theta));
  ref.explainedVarianceRatio.forEach((v, i) => assert.ok(Math.abs(v - pca.explainedVarianceRatio[i]) < 1e-12));
  // The default range covers the trajectory.
  for (const [k, axis] of [[0, "xs"], [1, "ys"]] as const) {
    const coords = pca.coordinates.map((c: number[]) => c[k]);
    assert.ok(json.slice[axis][0] < Math.min(...coords) && json.slice[axis].at(-1) > Math.max(...coords));
  }
  const svg = readFileSync(join(out, "surface.svg"), "utf8");
  const symbols = [...svg.matchAll(/<g class="mark-symbol role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)].reduce((n, g) => n + (g[1].match(/<path\b/g) ?? []).length, 0);
  assert.equal(symbols, 1 + checkpoints.length); // the origin's cross + one point per checkpoint
});

function expectBadInput(args: string[], mustMention: RegExp[]): void {
  const out = outDir(`bad-${Math.random().toString(36).slice(2)}`);
  const r = run([...args, "--out", out]);
  assert.equal(r.status, 2, `exit code 2 expected, got ${r.status}; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line expected on stderr, got: ${r.stderr}`);
  assert.match(lines[0], /^curvlab: /);
  for (const re of mustMention) assert.match(lines[0], re);
  assert.equal(r.stdout, "");
  assert.equal(existsSync(out), false, "nothing written");
}

test("landscape: bad input exits 2 with one line and writes nothing", () => {
  expectBadInput([...BASE, "--dims", "3"], [/--dims/, /1\.\.2/, /got 3/]);
  expectBadInput([...BASE, "--range", "garbage"], [/--range/, /FROM:TO/, /"garbage"/]);
  expectBadInput([...BASE, "--directions", "pca"], [/--checkpoints/, /pca/]);
});

test("landscape: more bad input, in process: InputError naming the option, nothing written", async () => {
  const cases: [string[], RegExp][] = [
    [["--range", "1:-1"], /--range/],
    [["--range", "-1:1,0:1,2:3"], /--range/],
    [["--range", "a:b"], /--range/],
    [["--points", "1"], /--points/],
    [["--directions", "random", "--checkpoints", checkpoints.join(",")], /--checkpoints.*only used with --directions pca/],
    [["--directions", "pca", "--checkpoints", checkpoints[0]], /--checkpoints.*at least 2/],
    [["--directions", "pca", "--checkpoints", `${checkpoints[0]},${join(dir, "missing")}`], /missing.*not found/],
    [["--directions", "pca", "--checkpoints", `${checkpoints[1]},${checkpoints[1]}`], /checkpoints.*do not move/],
    [["--normalization", "spectral"], /--normalization/],
    [["--directions", "hessian"], /--directions/],
  ];
  for (const [extra, re] of cases) {
    const out = outDir(`bad-in-${Math.random().toString(36).slice(2)}`);
    await assert.rejects(landscapeCommand([...BASE, ...extra, "--out", out]), (e: unknown) => e instanceof InputError && re.test(e.message), extra.join(" "));
    assert.equal(existsSync(out), false);
  }
});
