// Curvature tracking during training: records at the right steps, the recorded lambda_max equals a
// dense eigendecomposition of the Hessian at that step's theta, progressive sharpening up to the
// edge of stability (Cohen et al. 2021) under full-batch GD with a large lr, and the CLI's
// --track / --every (files written; bad input exits 2).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEngine } from "../../src/engine/start.ts";
import { take } from "../../src/engine/scope.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { train } from "../../src/train/train.ts";
import { materialize } from "../../src/curvature/dense.ts";
import { denseMatrix } from "../../src/linalg/dense/dense-matrix.ts";
import { modelObjective } from "../../src/landscape/objective.ts";
import { curvatureTracker, parseTrackList, type TrackingResult } from "../../src/landscape/tracking.ts";
import { trackingFigure } from "../../src/report/tracking-figures.ts";
import { toSvg } from "../../src/report/render.ts";
import { trainCommand } from "../../src/cli/train.ts";
import { InputError } from "../../src/errors.ts";
import { jacobi } from "../helpers/jacobi.ts";
import { runCli } from "../cli/run-cli.ts";

await startEngine({ device: "wasm" });

const MODEL = "mlp:4-6-3:tanh";
const DATA = "gmm:k=3,d=4,n=10,sep=2,seed=1";

test("parseTrackList accepts the quantities and names --track otherwise", () => {
  assert.deepEqual(parseTrackList("lmax, trace,lmax,density"), ["lmax", "trace", "density"]);
  assert.throws(() => parseTrackList("foo"), (e: unknown) => e instanceof InputError && e.input === "track" && e.option && /foo/.test(e.message));
  assert.throws(() => parseTrackList(""), InputError);
});

test("tracker records at every N-th step; lambda_max equals the dense Hessian's at that theta", async () => {
  const model = parseModel(MODEL);
  const data = loadData(DATA);
  const tracker = curvatureTracker(model, data, {
    track: ["lmax", "trace", "density"],
    every: 3,
    optimizer: { name: "momentum", lr: 0.1, momentum: 0.9, weightDecay: 0 },
    stepsPerEpoch: 2,
    traceProbes: 4,
  });
  const thetas = new Map<number, Float64Array>();
  try {
    await train(
      { model, train: data, optimizer: { name: "momentum", lr: 0.1 }, batchSize: 5, steps: 7, dtype: "float64" },
      {
        onStep: async (s) => {
          await tracker.callbacks.onStep(s);
          thetas.set(s.step, Float64Array.from(await take(s.theta.ref)));
        },
      },
    );
  } finally {
    tracker.dispose();
  }
  const res = tracker.result();
  assert.deepEqual(res.records.map((r) => r.step), [3, 6]);
  assert.deepEqual(res.records.map((r) => r.epoch), [1.5, 3]);
  assert.equal(res.thresholds.gd, 2 / 0.1);
  assert.ok(Math.abs(res.thresholds.momentum! - 3.8 / 0.1) < 1e-12);
  const obj = modelObjective(model, data);
  try {
    for (const rec of res.records) {
      const theta = thetas.get(rec.step)!;
      assert.equal(rec.loss, (await obj.evaluate(theta)).loss);
      const op = obj.curvature(theta);
      const H = await materialize(op);
      op.dispose();
      const values = jacobi(denseMatrix(H.n, H.data)).values;
      const top = Math.max(...values);
      const trace = values.reduce((s, v) => s + v, 0);
      assert.ok(Math.abs(rec.lmax!.value - top) <= 1e-8 * Math.abs(top), `step ${rec.step}: ${rec.lmax!.value} vs ${top}`);
      assert.ok(Math.abs(rec.trace!.value - trace) <= 5 * rec.trace!.standardError!, `trace ${rec.trace!.value} +- ${rec.trace!.standardError} vs ${trace}`);
      // SLQ: its extreme node is a Ritz value (below lambda_max), its trace estimate unbiased.
      assert.ok(rec.density!.range.max <= top * (1 + 1e-8) && rec.density!.range.max >= 0.5 * top);
      assert.equal(rec.density!.x.length, 200);
    }
  } finally {
    obj.dispose();
  }
  const round: TrackingResult = JSON.parse(JSON.stringify(res));
  assert.equal(round.settings.every, 3);
  const svg = await toSvg(trackingFigure(round));
  assert.ok(svg.includes("2 / lr") && svg.includes("Hessian trace"));
});

/** Full-batch GD with lr 0.5 on MSE: lambda_max every 10 steps. */
async function eosRun(steps: number): Promise<{ lmax: number[]; threshold: number }> {
  const model = parseModel("mlp:4-16-3:tanh");
  const data = loadData("gmm:k=3,d=4,n=30,sep=2,seed=1");
  const lr = 0.5;
  const tracker = curvatureTracker(model, data, {
    track: ["lmax"], every: 10, optimizer: { name: "sgd", lr, weightDecay: 0 }, stepsPerEpoch: 1, loss: "mse",
  });
  try {
    await train({ model, train: data, loss: "mse", optimizer: { name: "sgd", lr }, batchSize: 90, steps, dtype: "float64" }, tracker.callbacks);
  } finally {
    tracker.dispose();
  }
  return { lmax: tracker.records.map((r) => r.lmax!.value), threshold: tracker.result().thresholds.gd! };
}

test("progressive sharpening: full-batch GD with a large lr drives lambda_max up to 2/lr", async () => {
  const { lmax, threshold } = await eosRun(80);
  // Starts well below the threshold (measured: 3.48 against 2/lr = 4) ...
  assert.ok(lmax[0] < 0.9 * threshold, `lambda_max at step 10: ${lmax[0]}`);
  // ... rises (progressive sharpening) and reaches the threshold, not far beyond it.
  const peak = Math.max(...lmax);
  assert.ok(peak >= threshold && peak <= 1.5 * threshold, `peak ${peak} vs 2/lr ${threshold}`);
  assert.ok(lmax.indexOf(peak) > 0);
});

test("edge of stability: lambda_max then hovers at 2/lr (CURVLAB_HEAVY=1)", { skip: process.env.CURVLAB_HEAVY !== "1" }, async () => {
  const { lmax, threshold } = await eosRun(300);
  const late = lmax.slice(lmax.length / 2).sort((a, b) => a - b);
  const median = late[Math.floor(late.length / 2)];
  // Cohen et al.: sharpness equilibrates at (just above) 2/lr instead of growing on.
  assert.ok(median >= 0.9 * threshold && median <= 1.25 * threshold, `median ${median} vs ${threshold}`);
  assert.ok(late[late.length - 1] <= 1.5 * threshold);
});

test("curvlab train --track writes tracking.json and its figure; bad input exits 2", async () => {
  const dir = mkdtempSync(join(tmpdir(), "curvlab-track-"));
  const out = join(dir, "run");
  // Prints its one-paragraph summary on stdout (harmless beside the test report).
  const code = await trainCommand([
    "--model", MODEL, "--data", DATA, "--optimizer", "sgd", "--lr", "0.5", "--batch-size", "10",
    "--steps", "6", "--test-fraction", "0", "--track", "lmax,trace", "--quiet", "--out", out,
  ]);
  assert.equal(code, 0);
  const t = JSON.parse(readFileSync(join(out, "tracking.json"), "utf8"));
  // Default --every: one epoch = ceil(30 examples / 10) = 3 steps.
  assert.equal(t.settings.every, 3);
  assert.deepEqual(t.records.map((r: { step: number }) => r.step), [3, 6]);
  assert.equal(t.thresholds.gd, 4);
  assert.ok(t.records.every((r: { lmax: { value: number }; trace: { value: number } }) => r.lmax.value > 0 && Number.isFinite(r.trace.value)));
  assert.ok(readFileSync(join(out, "tracking.svg"), "utf8").startsWith("<svg"));
  assert.deepEqual([...readFileSync(join(out, "tracking.png")).subarray(1, 4)], [0x50, 0x4e, 0x47]);

  const base = ["train", "--model", MODEL, "--data", DATA, "--steps", "2", "--quiet"];
  const bad = runCli([...base, "--track", "foo", "--out", join(dir, "bad1")]);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--track/);
  assert.equal(bad.stderr.trim().split("\n").length, 1);
  assert.ok(!existsSync(join(dir, "bad1")));
  const noOut = runCli([...base, "--track", "lmax"]);
  assert.equal(noOut.status, 2, noOut.stderr);
  assert.match(noOut.stderr, /--track.*--out/);
  const everyAlone = runCli([...base, "--every", "2", "--out", join(dir, "bad3")]);
  assert.equal(everyAlone.status, 2, everyAlone.stderr);
  assert.ok(!existsSync(join(dir, "bad3")));
});
