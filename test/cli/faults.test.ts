// Faults: commands killed (SIGKILL) at several points and run again give the results of an
// uninterrupted run with the same seed (every field but timings), and a damaged journal is
// detected and recomputed, never trusted. `density --resume` and `spectrum --resume` keep a
// journal (run-directory.ts); `train --out` writes its outputs only at the end, each file by
// rename, so a killed run leaves nothing half-written and a re-run starts over; `study hessian
// --out` journals parts and trained networks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, runCli } from "./run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "curvlab-faults-"));

/** Starts the command and kills it with SIGKILL once `when()` holds (or lets it finish). */
async function killWhen(args: readonly string[], when: (ms: number) => boolean): Promise<{ killed: boolean }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: "ignore", env: { ...process.env, CURVLAB_THREADS: "2" } });
  const t0 = performance.now();
  let killed = false;
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (!killed && when(performance.now() - t0)) {
        killed = child.kill("SIGKILL");
        clearInterval(timer);
      }
    }, 10);
    child.on("exit", () => (clearInterval(timer), resolve()));
    child.on("error", reject);
  });
  return { killed };
}

const TIMING = /seconds|^ms$|elapsed|^date$|^created$|^started$|^finished$|wall|^time$/i;
/** A JSON value without its timing fields (recursively) and without paths that name the run folder. */
function untimed(x: unknown, runDir?: string): unknown {
  if (Array.isArray(x)) return x.map((v) => untimed(v, runDir));
  if (typeof x === "string" && runDir) return x.split(runDir).join("<run>");
  if (typeof x !== "object" || x === null) return x;
  return Object.fromEntries(Object.entries(x).filter(([k]) => !TIMING.test(k)).map(([k, v]) => [k, untimed(v, runDir)]));
}

const journalUnits = (runDir: string, ext = ".json") => {
  const j = join(runDir, "journal");
  return existsSync(j) ? readdirSync(j).filter((f) => f.endsWith(ext)).length : 0;
};

const DENSITY = ["density", "--model", "mlp:10-24-4:tanh", "--data", "gmm:k=4,d=10,n=100,sep=3,seed=0", "--probes", "6", "--steps", "25", "--json", "--quiet"];

test("density --resume: killed at the start, after 1 and after 4 probes, then damaged; every re-run gives the uninterrupted numbers", async () => {
  const whole = runCli([...DENSITY, "--resume", join(dir, "density-whole")]);
  assert.equal(whole.status, 0, whole.stderr);
  const expected = untimed(JSON.parse(whole.stdout).density);
  const runDir = join(dir, "density");
  const args = [...DENSITY, "--resume", runDir];
  await killWhen(args, () => existsSync(join(runDir, "run.json")));
  await killWhen(args, () => journalUnits(runDir) >= 1);
  await killWhen(args, () => journalUnits(runDir) >= 4);
  const saved = journalUnits(runDir);
  assert.ok(saved >= 1, `${saved} probes saved before the last kill`);
  // Damage one saved probe in place: a value changed, the JSON still valid.
  const unit = readdirSync(join(runDir, "journal")).find((f) => f.endsWith(".json"))!;
  const path = join(runDir, "journal", unit);
  const text = readFileSync(path, "utf8");
  const edited = text.replace(/(\d)(\d*)([,\]}])/, (_m, a: string, rest: string, end: string) => `${(Number(a) + 1) % 10}${rest}${end}`);
  assert.notEqual(edited, text);
  writeFileSync(path, edited);
  const resumed = runCli(args);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`journal unit .*${unit.replace(".", "\\.")} is damaged`));
  const got = JSON.parse(resumed.stdout).density;
  const done = Math.min(saved, 6);
  assert.equal(got.matvecs, (6 - done + 1) * 25, "the missing probes and the damaged one are computed, the rest read back");
  assert.deepEqual(untimed(got), { ...(expected as object), matvecs: got.matvecs });
  // A truncated unit too.
  writeFileSync(path, readFileSync(path, "utf8").slice(0, 20));
  const again = runCli(args);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /is damaged \(not readable JSON\)/);
  assert.deepEqual(untimed(JSON.parse(again.stdout).density.quadrature), (expected as { quadrature: unknown }).quadrature);
});

const SPECTRUM = ["spectrum", "--model", "mlp:20-48-5:tanh", "--data", "gmm:k=5,d=20,n=300,sep=3,seed=0", "--top", "6", "--json", "--quiet"];

test("spectrum --resume: killed at the start and mid-run, re-run gives the uninterrupted eigenvalues; then read back", async () => {
  const whole = runCli([...SPECTRUM, "--resume", join(dir, "spectrum-whole")]);
  assert.equal(whole.status, 0, whole.stderr);
  const expected = untimed(JSON.parse(whole.stdout));
  const runDir = join(dir, "spectrum");
  const args = [...SPECTRUM, "--resume", runDir];
  await killWhen(args, () => existsSync(join(runDir, "run.json")));
  let started = 0;
  await killWhen(args, (ms) => (started ||= existsSync(join(runDir, "lock")) ? ms : 0) > 0 && ms - started > 400);
  const r = runCli(args);
  assert.equal(r.status, 0, r.stderr);
  const got = untimed(JSON.parse(r.stdout)) as Record<string, unknown>;
  const want = expected as Record<string, unknown>;
  for (const k of ["eigenvalues", "residuals", "converged", "size", "settings"]) assert.deepEqual(got[k], want[k], k);
  // Finished: a re-run reads the result back and computes nothing.
  const back = runCli(args);
  assert.equal(back.status, 0, back.stderr);
  assert.deepEqual((untimed(JSON.parse(back.stdout)) as Record<string, unknown>).eigenvalues, want.eigenvalues);
});

const TRAIN = ["train", "--model", "mlp:20-64-5:tanh", "--data", "gmm:k=5,d=20,n=400,sep=3,seed=0", "--epochs", "20", "--quiet"];

test("train --out: killed at the start and mid-training leaves nothing half-written; the re-run equals an uninterrupted one", async () => {
  const wholeDir = join(dir, "train-whole");
  const whole = runCli([...TRAIN, "--out", wholeDir]);
  assert.equal(whole.status, 0, whole.stderr);
  const outDir = join(dir, "train");
  for (const at of [300, 1500, 2500]) {
    await killWhen([...TRAIN, "--out", outDir], (ms) => ms > at);
    // Whatever is there is whole: no temporary files, and every checkpoint file is complete.
    const left = existsSync(outDir) ? readdirSync(outDir) : [];
    assert.ok(left.every((f) => !f.includes(".tmp")), `left ${left}`);
    if (left.includes("checkpoint.json")) JSON.parse(readFileSync(join(outDir, "checkpoint.json"), "utf8"));
  }
  const r = runCli([...TRAIN, "--out", outDir]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readFileSync(join(outDir, "model.safetensors")), readFileSync(join(wholeDir, "model.safetensors")));
  const a = JSON.parse(readFileSync(join(outDir, "checkpoint.json"), "utf8"));
  const b = JSON.parse(readFileSync(join(wholeDir, "checkpoint.json"), "utf8"));
  assert.deepEqual(untimed(a), untimed(b));
  assert.deepEqual(untimed(JSON.parse(readFileSync(join(outDir, "train.json"), "utf8"))), untimed(JSON.parse(readFileSync(join(wholeDir, "train.json"), "utf8"))));
});

test("study hessian --out: killed while training and after a journaled network, resumed to the uninterrupted verdicts and numbers", async () => {
  const STUDY = ["study", "hessian", "--quick", "--parts", "e", "--quiet"];
  const wholeDir = join(dir, "study-whole");
  const whole = runCli([...STUDY, "--out", wholeDir]);
  assert.equal(whole.status, 0, whole.stderr);
  const outDir = join(dir, "study");
  const args = [...STUDY, "--out", outDir];
  await killWhen(args, (ms) => ms > 1500);
  await killWhen(args, () => journalUnits(outDir, ".npy") >= 1);
  const r = runCli(args);
  assert.equal(r.status, 0, r.stderr);
  const results = (d: string) => JSON.parse(readFileSync(join(d, "results.json"), "utf8"));
  const got = untimed(results(outDir), outDir) as { sections: unknown[] };
  const want = untimed(results(wholeDir), wholeDir) as { sections: unknown[] };
  assert.deepEqual(got.sections, want.sections);
});
