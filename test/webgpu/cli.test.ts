// `curvlab ... --device webgpu` as a user runs it (the real bin, child processes): the dense
// Hessian spectrum of a 51-parameter MLP on webgpu (float32) against wasm float64; and, where
// chromium's SwiftShader is installed and no GPU answers, the engine's fallback to it (one line
// on stderr says so) and the one-line error when the fallback is off (CURVLAB_WEBGPU_SOFTWARE=0). Skipped where no adapter exists (required with
// CURVLAB_REQUIRE_WEBGPU=1, as in CI).
//
// Tolerance: the dense matrix's entries are within 2e-6 of max|H| (operators.test.ts; measured
// 4e-7), and an eigenvalue moves by at most ||E||_2 (Weyl); measured 4.7e-8 of max|lambda|
// (SwiftShader). Bound 1e-6 of max|lambda|.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { BIN } from "../cli/run-cli.ts";

interface Run { readonly status: number | null; readonly stdout: string; readonly stderr: string }

/** The bin with `env` added to this process's environment (or instead of it, with `replace`). */
function curvlab(args: readonly string[], env: Record<string, string> = {}, replace = false): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...(replace ? {} : process.env), CURVLAB_THREADS: "1", ...env } });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const SPEC = ["hessian", "--model", "mlp:4-6-3:tanh", "--data", "gmm:k=3,d=4,n=30,sep=2,seed=1", "--dense", "--json", "--quiet"];
const wasmRun = curvlab([...SPEC, "--device", "wasm", "--dtype", "float64"]);
const gpuRun = await curvlab([...SPEC, "--device", "webgpu", "--dtype", "float32"]);
const noAdapter = gpuRun.status === 2 && /no GPU adapter found/.test(gpuRun.stderr);
const skip = noAdapter ? `no WebGPU adapter here: ${gpuRun.stderr.trim()}` : false;
if (skip && process.env.CURVLAB_REQUIRE_WEBGPU === "1") throw new Error(`CURVLAB_REQUIRE_WEBGPU=1 but ${skip}`);
const FALLBACK = /webgpu runs on SwiftShader/;

test("curvlab hessian --dense --device webgpu: the spectrum equals wasm float64's", { skip }, async (t) => {
  assert.equal(gpuRun.status, 0, gpuRun.stderr);
  const wasm = await wasmRun;
  assert.equal(wasm.status, 0, wasm.stderr);
  const g = JSON.parse(gpuRun.stdout) as { device: string; dtype: string; eigenvalues: number[] };
  const w = JSON.parse(wasm.stdout) as { eigenvalues: number[] };
  assert.equal(g.device, "webgpu");
  assert.equal(g.dtype, "float32");
  assert.equal(g.eigenvalues.length, 51);
  const scale = Math.max(...w.eigenvalues.map(Math.abs));
  const err = Math.max(...g.eigenvalues.map((v, i) => Math.abs(v - w.eigenvalues[i]) / scale));
  t.diagnostic(`eigenvalues within ${err.toExponential(1)} of max|lambda|${FALLBACK.test(gpuRun.stderr) ? " (software adapter)" : ""}`);
  assert.ok(err <= 1e-6, `eigenvalues differ by ${err} of max |lambda|`);
});

const userDriver = !!(process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES);
const haveSoftware = existsSync("/usr/lib/chromium/vk_swiftshader_icd.json");

test("no GPU adapter: the engine falls back to chromium's SwiftShader with one line saying so; with CURVLAB_WEBGPU_SOFTWARE=0, one line says how to get it", { skip: skip || (!haveSoftware && "chromium's SwiftShader is not installed") }, async (t) => {
  // The fallback happens only where the user chose no Vulkan driver: run without one.
  const env = { ...process.env } as Record<string, string>;
  delete env.VK_ICD_FILENAMES;
  delete env.VK_DRIVER_FILES;
  const run = userDriver ? await curvlab([...SPEC, "--device", "webgpu", "--dtype", "float32"], env, true) : gpuRun;
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stderr.split("\n").filter((l) => FALLBACK.test(l));
  if (lines.length === 0) return t.skip("a GPU adapter answered: no fallback to check");
  assert.equal(lines.length, 1, run.stderr);
  const off = await curvlab([...SPEC, "--device", "webgpu", "--dtype", "float32"], { ...env, CURVLAB_WEBGPU_SOFTWARE: "0" }, true);
  assert.equal(off.status, 2);
  const own = off.stderr.split("\n").filter((l) => l.startsWith("curvlab:"));
  assert.equal(own.length, 1, off.stderr);
  assert.match(own[0], /^curvlab: --device: webgpu: no GPU adapter found; .*chromium.*VK_ICD_FILENAMES=\/usr\/lib\/chromium\/vk_swiftshader_icd\.json.*XDG_RUNTIME_DIR/);
  assert.equal(off.stdout, "", "nothing on stdout");
});
