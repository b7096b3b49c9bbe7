// `curvlab interpolate`, called in-process: the files it writes and what they hold, against the
// library's own results; and bad input rejected with one InputError, nothing written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEngine } from "../../src/engine/start.ts";
import { InputError } from "../../src/errors.ts";
import { parseModel } from "../../src/nn/spec.ts";
import { loadData } from "../../src/data/spec.ts";
import { saveCheckpoint } from "../../src/train/checkpoint.ts";
import { modelObjective } from "../../src/landscape/objective.ts";
import { matchWeights } from "../../src/landscape/weight-matching.ts";
import { interpolateCommand } from "../../src/cli/interpolate.ts";

await startEngine({ device: "wasm" });

const MODEL = "mlp:4-6-3:tanh";
const DATA = "gmm:k=3,d=4,n=10,sep=2,seed=1";
const root = mkdtempSync(join(tmpdir(), "curvlab-interpolate-"));
process.on("exit", () => rmSync(root, { recursive: true, force: true }));
const model = parseModel(MODEL);
const thetaA = model.init(0), thetaB = model.init(1);
saveCheckpoint(join(root, "a"), { model, theta: thetaA, dataSpec: DATA, dtype: "float64" });
saveCheckpoint(join(root, "b"), { model, theta: thetaB, dataSpec: DATA, dtype: "float64" });

/**
 * Runs the command in-process. The test reporter shares stdout (capturing all of it swallowed
 * reports), so only the command's --json line is taken; everything else passes through.
 */
async function run(argv: string[]): Promise<{ code: number; json: string }> {
  const write = process.stdout.write;
  let json = "";
  process.stdout.write = function (this: typeof process.stdout, chunk: unknown, ...rest: unknown[]) {
    if (typeof chunk === "string" && chunk.startsWith('{"command":"interpolate"')) {
      json += chunk;
      return true;
    }
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof process.stdout.write;
  try {
    return { code: await interpolateCommand(argv), json };
  } finally {
    process.stdout.write = write;
  }
}

test("interpolate writes path.json, path.svg and path.png; the endpoints are the checkpoints' losses", async () => {
  const out = join(root, "out-naive");
  const r = await run(["--from", join(root, "a"), "--to", join(root, "b", "model.safetensors"), "--points", "9", "--range", "-0.5:1.5", "--out", out, "--json", "--quiet"]);
  assert.equal(r.code, 0);
  for (const f of ["path.json", "path.svg", "path.png"]) assert.ok(existsSync(join(out, f)), f);
  const json = JSON.parse(readFileSync(join(out, "path.json"), "utf8"));
  assert.deepEqual(JSON.parse(r.json), json, "--json prints what path.json holds");
  assert.equal(json.model, MODEL);
  assert.equal(json.data, loadData(DATA).name);
  assert.equal(json.matched, null);
  assert.deepEqual(json.naive.alphas, [-0.5, -0.25, 0, 0.25, 0.5, 0.75, 1, 1.25, 1.5]);
  const obj = modelObjective(model, loadData(DATA));
  try {
    assert.equal(json.naive.lossA, (await obj.evaluate(thetaA)).loss);
    assert.equal(json.naive.lossB, (await obj.evaluate(thetaB)).loss);
  } finally {
    obj.dispose();
  }
  assert.match(readFileSync(join(out, "path.svg"), "utf8"), /^<svg/);
  assert.deepEqual([...readFileSync(join(out, "path.png")).subarray(1, 4)], [0x50, 0x4e, 0x47]);
});

test("interpolate --match walks both paths; the matching is the library's and brings B closer", async () => {
  const out = join(root, "out-match");
  assert.equal((await run(["--model", MODEL, "--data", DATA, "--from", join(root, "a"), "--to", join(root, "b"), "--match", "--points", "5", "--out", out, "--quiet"])).code, 0);
  const json = JSON.parse(readFileSync(join(out, "path.json"), "utf8"));
  const expected = matchWeights(model, thetaA, thetaB, { seed: 0 });
  assert.deepEqual(json.matching.perms, expected.perms);
  assert.ok(json.matching.distanceAfter <= json.matching.distanceBefore);
  assert.ok(Math.abs(json.matched.distance - json.matching.distanceAfter) <= 1e-12 * json.matching.distanceBefore);
  assert.equal(json.matched.lossA, json.naive.lossA);
  // B permuted is the same network: its loss agrees up to summation order.
  assert.ok(Math.abs(json.matched.lossB - json.naive.lossB) <= 1e-6 * json.naive.lossB);
  const svg = readFileSync(join(out, "path.svg"), "utf8");
  assert.ok(svg.includes("naive") && svg.includes("matched"), "both paths are drawn");
});

test("interpolate rejects bad input with one InputError, writing nothing", async () => {
  const cnn = parseModel("cnn:lenet:in=1x12x12,classes=3,c1=2,c2=3,k=3");
  saveCheckpoint(join(root, "cnn"), { model: cnn, theta: cnn.init(0), dataSpec: "gmm:k=3,d=144,n=5,sep=2,seed=1", dtype: "float64" });
  const other = parseModel("mlp:4-8-3:tanh");
  saveCheckpoint(join(root, "other"), { model: other, theta: other.init(0), dataSpec: DATA, dtype: "float64" });
  const a = join(root, "a"), b = join(root, "b");
  const cases: [string[], string, RegExp][] = [
    [["--from", join(root, "missing"), "--to", b], join(root, "missing"), /not found \(--from\)/],
    [["--from", a], "--to", /required/],
    [["--from", a, "--to", join(root, "other")], "--to", /holds mlp:4-8-3:tanh/],
    [["--model", "mlp:4-8-3:tanh", "--from", a, "--to", b], "--from", /holds mlp:4-6-3:tanh/],
    [["--model", "mlp:4-8-3:tanh", "--data", DATA, "--from", join(root, "other", "model.safetensors"), "--to", join(root, "a", "model.safetensors")], join(root, "a", "model.safetensors"), /shape/],
    [["--from", join(root, "cnn"), "--to", join(root, "cnn"), "--match"], "--match", /MLP/],
    [["--from", a, "--to", b, "--range", "1:0"], "--range", /A < B/],
    [["--from", a, "--to", b, "--points", "1"], "--points", /at least 2/],
    [["--from", a, "--to", b, "--data", "gmm:k=3,d=5,n=10,sep=2,seed=1"], "--data", /features/],
  ];
  for (const [argv, input, message] of cases) {
    const out = join(root, `bad-${input.replace(/\W/g, "")}`);
    await assert.rejects(run([...argv, "--out", out, "--quiet"]), (e: unknown) => {
      assert.ok(e instanceof InputError, `${argv.join(" ")}: ${e}`);
      assert.equal(e.input, input, e.message);
      assert.match(e.message, message);
      assert.ok(!e.message.includes("\n"), "one line");
      return true;
    });
    assert.ok(!existsSync(out), `${argv.join(" ")}: wrote ${out}`);
  }
});
